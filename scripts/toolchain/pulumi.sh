#!/usr/bin/env bash
# Makes the pinned Pulumi engine and the plugins this project uses available in $BIN_DIR (see
# common.sh), built from Go modules through the Go module proxy (no release downloads):
#   pulumi                          the CLI, github.com/pulumi/pulumi/pkg/v3           (PULUMI_VERSION)
#   pulumi-language-python(-exec)   the Python language host (see build_language_host)  (PULUMI_VERSION)
#   pulumi-resource-pulumi-python   provider of Python dynamic resources (a script from sdk/v3)
#   pulumi-resource-kubernetes      pulumi-kubernetes' provider module        (PULUMI_KUBERNETES_*)
#   pulumi-resource-random          terraform-provider-random, bridged        (PULUMI_RANDOM_*)
#   pulumi-resource-tls             terraform-provider-tls, bridged           (PULUMI_TLS_*)
#   pulumi-language-yaml            the YAML language host, pulumi-yaml's module  (PULUMI_YAML_VERSION)
# The command provider cannot be built here: neither its module nor its framework
# (pulumi-go-provider) is served by the module proxy, so PULUMI_COMMAND_VERSION stays empty.
#
# Each binary is built in a small wrapper module generated under $CACHE_ROOT/src. A binary already in
# $BIN_DIR whose stamp file ($BIN_DIR/.<name>.version) holds the pinned version is kept; a binary of
# the pinned version that is already installed (the CLI on PATH, a plugin in ~/.pulumi/plugins) is
# symlinked instead of built. Idempotent: a warm run takes about a second.
#
# How the engine finds the plugins: put $BIN_DIR first on PATH, nothing else. The engine uses a
# `pulumi-resource-<name>` found on PATH ("ambient" plugin) whatever version the Python SDK asks
# for (it prints "warning: using pulumi-resource-<name> from $PATH" once per plugin and run), and
# finds the language host next to the `pulumi` binary. This works offline with
# PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true and needs no PULUMI_HOME. Registering them with
# `pulumi plugin install resource <name> <version> --file <binary>` instead was tried and rejected:
# it ties every caller to that PULUMI_HOME, and a program whose SDK package asks for any other
# version fails with "no resource plugin ... found in the workspace at version ...". Setting
# PULUMI_IGNORE_AMBIENT_PLUGINS=true would hide these binaries from the engine.
#
# Usage: bash scripts/toolchain/pulumi.sh   (prints $BIN_DIR on stdout; logs go to stderr)
#   PULUMI_TOOLCHAIN_FORCE=1   rebuild everything, ignoring stamps and installed copies.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${PULUMI_VERSION:?PULUMI_VERSION is not set in scripts/versions.env}"
: "${PULUMI_KUBERNETES_VERSION:?PULUMI_KUBERNETES_VERSION is not set in scripts/versions.env}"
: "${PULUMI_KUBERNETES_MODULE_VERSION:?PULUMI_KUBERNETES_MODULE_VERSION is not set in scripts/versions.env}"
: "${PULUMI_KUBERNETES_GO_SDK_VERSION:?PULUMI_KUBERNETES_GO_SDK_VERSION is not set in scripts/versions.env}"
: "${PULUMI_RANDOM_VERSION:?PULUMI_RANDOM_VERSION is not set in scripts/versions.env}"
: "${PULUMI_RANDOM_TF_MODULE_VERSION:?PULUMI_RANDOM_TF_MODULE_VERSION is not set in scripts/versions.env}"
: "${PULUMI_TLS_VERSION:?PULUMI_TLS_VERSION is not set in scripts/versions.env}"
: "${PULUMI_TLS_TF_MODULE_VERSION:?PULUMI_TLS_TF_MODULE_VERSION is not set in scripts/versions.env}"
: "${PULUMI_TERRAFORM_BRIDGE_VERSION:?PULUMI_TERRAFORM_BRIDGE_VERSION is not set in scripts/versions.env}"
: "${PULUMI_YAML_VERSION:?PULUMI_YAML_VERSION is not set in scripts/versions.env}"

PULUMI_VER="v${PULUMI_VERSION#v}"
# The language host is built from this repository's source: a change to it must rebuild it.
HOST_STAMP="$PULUMI_VER+$(content_hash 12 "$TOOLCHAIN_DIR/language-host/main.go")"
SRC_ROOT="$CACHE_ROOT/src"
FORCE="${PULUMI_TOOLCHAIN_FORCE:-0}"
LDFLAGS_STRIP="-s -w"

command -v go >/dev/null 2>&1 || { log "go is not on PATH; install Go 1.26 or newer"; exit 1; }

lock_toolchain pulumi

# Stamps (common.sh), by binary name in $BIN_DIR.
is_current() { [[ "$FORCE" != 1 ]] && stamped "$BIN_DIR/$1" "$2"; }

# A fresh, writable work dir for one wrapper module.
fresh_dir() {
  local dir="$SRC_ROOT/$1"
  if [[ -d "$dir" ]]; then chmod -R u+w "$dir" && rm -rf "$dir"; fi
  mkdir -p "$dir"
  printf '%s\n' "$dir"
}

# A wrapper module in DIR that builds PACKAGE (a main package of a required module) and requires
# each MODULE VERSION given. Modules built on pulumi/pkg need pkg's replace of atotto/clipboard with a
# fork: `go install` refuses a module with replaces, so the wrapper repeats it.
# Usage: wrapper_module DIR NAME PACKAGE "MODULE VERSION"...
wrapper_module() {
  local dir="$1" name="$2" pkg="$3" requirement
  shift 3
  {
    printf 'module local/%s\n\ngo 1.26\n\nrequire (\n' "$name"
    for requirement in "$@"; do printf '\t%s\n' "$requirement"; done
    printf ')\n\nreplace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e\n'
  } >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >"$dir/tools.go"
  (cd "$dir" && go mod tidy) >&2
}

# go build into a temporary file, then move it into place, so an interrupted build never leaves a
# binary that looks complete. Usage: go_build DIR OUTNAME LDFLAGS PACKAGE
go_build() {
  local dir="$1" name="$2" ldflags="$3" pkg="$4"
  log "$name: go build $pkg (minutes on a cold cache)"
  (cd "$dir" && go build -trimpath -ldflags "$LDFLAGS_STRIP $ldflags" -o "$BIN_DIR/.$name.tmp" "$pkg") >&2
  mv -f "$BIN_DIR/.$name.tmp" "$BIN_DIR/$name"
}

# --- Pulumi CLI and Python language host --------------------------------------------------------

# A pulumi CLI of the pinned version already on PATH (outside $BIN_DIR), e.g. on a laptop: link it,
# with the language host installed beside it when there is one.
link_cli_from_path() {
  local dir name
  [[ "$FORCE" == 1 ]] && return 1
  link_from_path pulumi "$PULUMI_VER" cli_version || return 1
  dir="$(dirname "$(readlink "$BIN_DIR/pulumi")")"
  if [[ -x "$dir/pulumi-language-python" && -f "$dir/pulumi-language-python-exec" ]]; then
    for name in pulumi-language-python pulumi-language-python-exec; do
      ln -sfn "$dir/$name" "$BIN_DIR/$name"
    done
    set_stamp "$BIN_DIR/pulumi-language-python" "$HOST_STAMP"
  fi
}
cli_version() { PULUMI_SKIP_UPDATE_CHECK=true "$2" version 2>/dev/null; } # cli_version NAME PATH

build_cli() {
  local dir
  dir="$(fresh_dir "pulumi-cli-$PULUMI_VER")"
  # pkg/go.mod replaces sdk/v3 with its local copy: the wrapper requires both at one version.
  wrapper_module "$dir" pulumi-cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "github.com/pulumi/pulumi/pkg/v3 $PULUMI_VER" "github.com/pulumi/pulumi/sdk/v3 $PULUMI_VER"
  # The Automation API parses `pulumi version`, so the binary must carry a real version.
  go_build "$dir" pulumi "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VER" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  set_stamp "$BIN_DIR/pulumi" "$PULUMI_VER"
}

# The upstream Python language host is a separate module (sdk/python/cmd/pulumi-language-python/v3)
# that the module proxy does not serve, so a minimal host is built from the code below against
# sdk/v3 at the CLI's version. It runs the program through `pulumi-language-python-exec`, the
# upstream script shipped in the sdk/v3 module (copied next to the binary, where the host looks
# for it), inside the virtualenv/toolchain named in Pulumi.yaml. It does not report the plugins a
# program needs (the engine then loads providers on demand, from PATH) and has no codegen.
build_language_host() {
  local dir sdk_dir
  dir="$(fresh_dir "pulumi-language-python-$PULUMI_VER")"
  cat >"$dir/go.mod" <<EOF
module local/pulumi-language-python

go 1.26

require github.com/pulumi/pulumi/sdk/v3 $PULUMI_VER
EOF
  # The host's source is a file of this repository (the upstream host module is not served).
  cp "$TOOLCHAIN_DIR/language-host/main.go" "$dir/main.go"
  (cd "$dir" && go mod tidy) >&2
  sdk_dir="$(cd "$dir" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
  go_build "$dir" pulumi-language-python "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VER" .
  install_sdk_script "$sdk_dir/python/cmd/pulumi-language-python-exec" pulumi-language-python-exec
  set_stamp "$BIN_DIR/pulumi-language-python" "$HOST_STAMP"
}

# Copies a script from the sdk/v3 module (read-only in GOMODCACHE) into $BIN_DIR, executable.
install_sdk_script() {
  local src="$1" name="$2"
  [[ -f "$src" ]] || { log "$src is missing from the sdk/v3 module"; return 1; }
  rm -f "$BIN_DIR/$name"
  cp "$src" "$BIN_DIR/$name"
  chmod 0755 "$BIN_DIR/$name"
}

# Python dynamic resources (pulumi.dynamic) are served by this script, found on PATH.
install_dynamic_provider() {
  local name=pulumi-resource-pulumi-python sdk_dir
  is_current "$name" "$PULUMI_VER" && return 0
  sdk_dir="$(module_dir "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VER")"
  install_sdk_script "$sdk_dir/python/dist/$name" "$name"
  set_stamp "$BIN_DIR/$name" "$PULUMI_VER"
}

# The YAML language host (a YAML program using the component package, tests/e2e). Its module asks
# for pkg/sdk v3 at the version it was released with, and the wrapper leaves that choice to it (see
# versions.env).
build_yaml_host() {
  local bin=pulumi-language-yaml version="v${PULUMI_YAML_VERSION#v}" dir
  is_current "$bin" "$version" && return 0
  dir="$(fresh_dir "pulumi-yaml-$version")"
  wrapper_module "$dir" pulumi-language-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
    "github.com/pulumi/pulumi-yaml $version"
  go_build "$dir" "$bin" "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$version" \
    github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
  set_stamp "$BIN_DIR/$bin" "$version"
}

# --- Provider plugins ---------------------------------------------------------------------------

# A plugin of the pinned version installed by `pulumi plugin install` (e.g. on a laptop): link it.
link_installed_plugin() {
  local name="$1" version="$2" bin="pulumi-resource-$1" candidate
  [[ "$FORCE" == 1 ]] && return 1
  candidate="${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-$name-v$version/$bin"
  [[ -x "$candidate" ]] || return 1
  log "$bin: using $candidate"
  link_binary "$candidate" "$BIN_DIR/$bin" "$version"
}

# pulumi-kubernetes' provider module has no provider/ tags; the proxy serves one commit of it by
# pseudo-version (PULUMI_KUBERNETES_MODULE_VERSION). Its cmd embeds schema-embed.json and
# terraform-mapping-embed.json, which are generated (git-ignored) and so missing from the module
# zip: they are generated with the module's own generate.go in a writable copy. Its go.mod
# replaces the Go SDK with the repository's ../sdk; the copy uses a served release of it instead.
build_kubernetes() {
  local bin=pulumi-resource-kubernetes version="$PULUMI_KUBERNETES_VERSION" dir src
  is_current "$bin" "$version" && return 0
  link_installed_plugin kubernetes "$version" && return 0
  src="$(module_dir "github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_MODULE_VERSION")"
  dir="$(fresh_dir "pulumi-kubernetes-$version")"
  cp -R "$src/." "$dir/"
  chmod -R u+w "$dir"
  (
    cd "$dir" || exit 1
    go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4 \
      -require="github.com/pulumi/pulumi-kubernetes/sdk/v4@$PULUMI_KUBERNETES_GO_SDK_VERSION"
    go mod tidy
    cd cmd/pulumi-resource-kubernetes || exit 1
    log "$bin: generating the embedded schema"
    VERSION="$version" go run generate.go
  ) >&2
  go_build "$dir" "$bin" "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$version" \
    ./cmd/pulumi-resource-kubernetes
  set_stamp "$BIN_DIR/$bin" "$version"
}

# pulumi-random and pulumi-tls are not served by the module proxy, but what they are made of is:
# the upstream Terraform provider (a plugin-framework provider) and pulumi-terraform-bridge. The
# wrapper below is the glue those repositories hold: a shim package under the upstream module's
# path (so Go lets it import the provider's internal package), standard Pulumi tokens for every
# Terraform resource/data source, and the bridge's Main. The schema is generated on demand by the
# bridge (only codegen commands ask for it). The bridge's own go.mod replaces terraform-plugin-sdk/v2
# with a Pulumi fork; that replace does not reach this wrapper, and the served fork does not compile
# against the terraform-plugin-go these providers need, so upstream's sdk/v2 is used: it serves
# SDKv2-based providers only, and random and tls are plugin-framework providers.
# Usage: build_bridged NAME VERSION TF_MODULE TF_MODULE_VERSION NAME_PREFIX
build_bridged() {
  local name="$1" version="$2" tf_module="$3" tf_version="$4" prefix="$5"
  local bin="pulumi-resource-$name" dir
  is_current "$bin" "$version" && return 0
  link_installed_plugin "$name" "$version" && return 0
  dir="$(fresh_dir "pulumi-$name-$version")"
  mkdir -p "$dir/shim"
  cat >"$dir/shim/go.mod" <<EOF
module $tf_module/shim

go 1.26

require $tf_module $tf_version
EOF
  cat >"$dir/shim/shim.go" <<EOF
// Package shim exposes the Terraform provider's constructor from its internal package.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"

	upstream "$tf_module/internal/provider"
)

func NewProvider() provider.Provider { return upstream.New() }
EOF
  cat >"$dir/go.mod" <<EOF
module local/$bin

go 1.26

require (
	github.com/pulumi/pulumi-terraform-bridge/v3 $PULUMI_TERRAFORM_BRIDGE_VERSION
	$tf_module $tf_version
	$tf_module/shim v0.0.0
)

replace $tf_module/shim => ./shim
EOF
  sed "s#@SHIM@#$tf_module/shim#" "$TOOLCHAIN_DIR/bridged-provider/main.go.tmpl" >"$dir/main.go"
  (cd "$dir/shim" && go mod tidy && cd "$dir" && go mod tidy) >&2
  go_build "$dir" "$bin" "-X main.name=$name -X main.version=$version -X main.namePrefix=$prefix" .
  set_stamp "$BIN_DIR/$bin" "$version"
}

# --- Main ---------------------------------------------------------------------------------------

mkdir -p "$SRC_ROOT"

if ! is_current pulumi "$PULUMI_VER"; then
  link_cli_from_path || build_cli
fi
if ! is_current pulumi-language-python "$HOST_STAMP" || [[ ! -f "$BIN_DIR/pulumi-language-python-exec" ]]; then
  build_language_host
fi
install_dynamic_provider
build_yaml_host
build_kubernetes
build_bridged random "$PULUMI_RANDOM_VERSION" github.com/terraform-providers/terraform-provider-random \
  "$PULUMI_RANDOM_TF_MODULE_VERSION" Random
build_bridged tls "$PULUMI_TLS_VERSION" github.com/hashicorp/terraform-provider-tls \
  "$PULUMI_TLS_TF_MODULE_VERSION" ""

log "pulumi toolchain ready in $(cache_path "$BIN_DIR") (put it first on PATH)"
printf '%s\n' "$BIN_DIR"
