#!/usr/bin/env bash
# Makes the pinned Helm 4 CLI available in $BIN_DIR (see common.sh) as `helm4`, built from its Go
# module (helm.sh/helm/v4, HELM_VERSION) through the Go module proxy, like the other tools: no
# release download. Only the benchmarks use it (benchmarks/deploy_tools.py and fleet.py put
# `helm upgrade --install --wait` beside `pulumi up` on the same objects); the product never installs
# a chart with it. The binary is named after its major version so that a Helm 3 `helm` and this one
# can share the cache. A helm4 or helm already on PATH at the pinned version is linked instead of
# built. Idempotent: a warm run takes well under a second.
# Usage: bash scripts/toolchain/helm.sh   (prints $BIN_DIR on stdout)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
: "${HELM_VERSION:?HELM_VERSION is not set in scripts/versions.env}"

HELM_VER="v${HELM_VERSION#v}"
MODULE="helm.sh/helm/v${HELM_VERSION%%.*}"

lock_toolchain helm

if stamped "$BIN_DIR/helm4" "$HELM_VER"; then
  printf '%s\n' "$BIN_DIR"
  exit 0
fi

helm_version() { "$2" version --template '{{.Version}}' 2>/dev/null; } # helm_version NAME PATH
linked=""
for name in helm4 helm; do
  real="$(type -P "$name" 2>/dev/null || true)"
  real="$(readlink -f "$real" 2>/dev/null || true)"
  if [[ -n "$real" && "$real" != "$(cd "$BIN_DIR" && pwd -P)"/* && "$(helm_version "$name" "$real" || true)" == "$HELM_VER" ]]; then
    log "helm4: using $real's $HELM_VER from PATH"
    link_binary "$real" "$BIN_DIR/helm4" "$HELM_VER"
    linked=1
    break
  fi
done
if [[ -z "$linked" ]]; then
  # Helm's go.mod has no replace directive, so `go install module@version` builds it as released.
  # The ldflags are those of Helm's Makefile for a tagged build. (Helm 4 reads the Kubernetes version
  # its templates default to from the build's module information: no ldflags for it, unlike Helm 3.)
  ldflags="-s -w -X $MODULE/internal/version.version=$HELM_VER -X $MODULE/internal/version.gitTreeState=clean"
  ldflags+=" -X $MODULE/internal/version.metadata="
  log "building helm $HELM_VER from $MODULE (cold: a few minutes)"
  tmp="$(mktemp -d "$CACHE_ROOT/.helm-build.XXXXXX")"
  # Into a temporary folder, then moved: an interrupted build never leaves a helm that looks complete.
  if ! GOBIN="$tmp" run_logged "$tmp/build.log" go install -trimpath -ldflags "$ldflags" "$MODULE/cmd/helm@$HELM_VER"; then
    rm -rf "$tmp"
    exit 1
  fi
  install_binary "$tmp/helm" "$BIN_DIR/helm4" "$HELM_VER"
  rm -rf "$tmp"
fi
printf '%s\n' "$BIN_DIR"
