#!/usr/bin/env bash
# Writes the CustomResourceDefinitions the program installs with its ingress controller
# (cluster.ingressController) as two files, for a machine that cannot fetch them from their
# releases (CI here), and prints their folder (the value of cluster.ingressController.crdsDir):
#   gateway-api-v$GATEWAY_API_VERSION-standard-install.yaml   sigs.k8s.io/gateway-api's
#       config/crd/standard/*.yaml: the objects of the release's standard-install.yaml
#   traefik-v$TRAEFIK_VERSION-crds.yaml                       github.com/traefik/traefik/v3's
#       docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml, the file
#       Traefik's docs install (its Middleware carries the Gateway route's body limit)
# Both come from Go module downloads through the module proxy, at the versions of
# scripts/versions.env; with a registry at hand the program reads the same files from their
# release URLs instead, and nothing here runs. Idempotent: a warm run takes well under a second.
# Usage: bash scripts/toolchain/crds.sh   (prints the folder on stdout)
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
: "${GATEWAY_API_VERSION:?GATEWAY_API_VERSION is not set in scripts/versions.env}"
: "${TRAEFIK_VERSION:?TRAEFIK_VERSION is not set in scripts/versions.env}"

OUT="$CACHE_ROOT/crds"
mkdir -p "$OUT"
lock_toolchain crds

GATEWAY="$OUT/gateway-api-v${GATEWAY_API_VERSION#v}-standard-install.yaml"
TRAEFIK="$OUT/traefik-v${TRAEFIK_VERSION#v}-crds.yaml"

# write_once FILE COMMAND...: COMMAND's output becomes FILE, through a temporary file so that an
# interrupted run never leaves a file that looks complete.
write_once() {
  local file="$1"
  shift
  [[ -s "$file" ]] && return 0
  "$@" >"$file.tmp" && mv -f "$file.tmp" "$file"
}

gateway_crds() {
  local dir
  dir="$(module_dir "sigs.k8s.io/gateway-api@v${GATEWAY_API_VERSION#v}")"
  [[ -d "$dir/config/crd/standard" ]] || { log "no config/crd/standard in sigs.k8s.io/gateway-api"; return 1; }
  log "Gateway API v${GATEWAY_API_VERSION#v} standard-channel CRDs from its Go module"
  local file
  for file in "$dir"/config/crd/standard/*.yaml; do
    printf -- '---\n'
    cat "$file"
  done
}

traefik_crds() {
  local dir file
  dir="$(module_dir "github.com/traefik/traefik/v3@v${TRAEFIK_VERSION#v}")"
  file="$dir/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"
  [[ -f "$file" ]] || { log "no kubernetes-crd-definition-v1.yml in traefik v${TRAEFIK_VERSION#v}"; return 1; }
  log "Traefik v${TRAEFIK_VERSION#v} CRDs from its Go module"
  cat "$file"
}

write_once "$GATEWAY" gateway_crds
write_once "$TRAEFIK" traefik_crds
printf '%s\n' "$OUT"
