#!/usr/bin/env bash
# Makes the pinned Helm 3 CLI available in $BIN_DIR (see common.sh), built from its Go module
# (helm.sh/helm/v3, HELM_VERSION) through the Go module proxy, like the other tools: no release
# download. Only the benchmarks use it (benchmarks/deploy_tools.py puts `helm upgrade --install
# --wait` beside `pulumi up` on the same objects); the product never installs a chart with it.
# A helm already on PATH at the pinned version is linked instead of built. Idempotent: a warm run
# takes well under a second. Usage: bash scripts/toolchain/helm.sh   (prints $BIN_DIR on stdout)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
: "${HELM_VERSION:?HELM_VERSION is not set in scripts/versions.env}"

HELM_VER="v${HELM_VERSION#v}"

lock_toolchain helm

if stamped "$BIN_DIR/helm" "$HELM_VER"; then
  printf '%s\n' "$BIN_DIR"
  exit 0
fi

helm_version() { "$2" version --template '{{.Version}}' 2>/dev/null; } # helm_version NAME PATH
if ! link_from_path helm "$HELM_VER" helm_version; then
  # Helm's go.mod has no replace directive, so `go install module@version` builds it as released.
  # The ldflags are those of Helm's Makefile: the version `helm version` reports, and the Kubernetes
  # version its client-go stands for (the default .Capabilities.KubeVersion of templates).
  gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VER" | sed -n 's/^[[:space:]]*"GoMod": *"\([^"]*\)".*/\1/p')"
  [[ -f "$gomod" ]] || { log "cannot download helm.sh/helm/v3@$HELM_VER"; exit 1; }
  client_go="$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -n1)"
  [[ -n "$client_go" ]] || { log "no k8s.io/client-go requirement in helm's go.mod"; exit 1; }
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VER -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$client_go"
  done
  log "building helm $HELM_VER from helm.sh/helm/v3 (cold: a few minutes)"
  tmp="$(mktemp -d "$CACHE_ROOT/.helm-build.XXXXXX")"
  # Into a temporary folder, then moved: an interrupted build never leaves a helm that looks complete.
  if ! GOBIN="$tmp" run_logged "$tmp/build.log" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VER"; then
    rm -rf "$tmp"
    exit 1
  fi
  install_binary "$tmp/helm" "$BIN_DIR/helm" "$HELM_VER"
  rm -rf "$tmp"
fi
printf '%s\n' "$BIN_DIR"
