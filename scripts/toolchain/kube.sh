#!/usr/bin/env bash
# Makes the pinned local Kubernetes control plane available in $BIN_DIR (see common.sh):
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (KUBERNETES_VERSION)
#   kubeadm, kubelet, kube-proxy as well with KUBE_NODE_BINARIES=1    (for a Kind node image)
#   etcd                                                               (ETCD_VERSION)
#   kwok, kwokctl                                                      (KWOK_VERSION)
#
# Each binary is built from its Go module through the Go module proxy (no release downloads), in a
# small wrapper module generated under $CACHE_ROOT/src. A binary already in $BIN_DIR whose stamp
# file ($BIN_DIR/.<name>.version) holds the pinned version is kept; a binary of the pinned version
# already on PATH is symlinked instead of built. Idempotent: a warm run takes a second or two.
#
# Usage: bash scripts/toolchain/kube.sh     (prints nothing on stdout; logs go to stderr)
#   KUBE_TOOLCHAIN_FORCE=1   rebuild everything, ignoring stamps and PATH.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${KUBERNETES_VERSION:?KUBERNETES_VERSION is not set in scripts/versions.env}"
: "${ETCD_VERSION:?ETCD_VERSION is not set in scripts/versions.env}"
: "${KWOK_VERSION:?KWOK_VERSION is not set in scripts/versions.env}"

K8S_VER="v${KUBERNETES_VERSION#v}"   # v1.34.4: the k8s.io/kubernetes module version
K8S_MAJOR="${K8S_VER#v}"; K8S_MAJOR="${K8S_MAJOR%%.*}"
K8S_MINOR="${K8S_VER#v*.}"; K8S_MINOR="${K8S_MINOR%%.*}"
STAGING_VER="v0.${K8S_VER#v*.}"      # v0.34.4: the published k8s.io/* staging modules
ETCD_VER="v${ETCD_VERSION#v}"
KWOK_VER="v${KWOK_VERSION#v}"
SRC_ROOT="$CACHE_ROOT/src"
FORCE="${KUBE_TOOLCHAIN_FORCE:-0}"

lock_toolchain kube

# Stamps (common.sh), by binary name in $BIN_DIR.
is_current() {
  [[ "$FORCE" != 1 ]] || return 1
  stamped "$BIN_DIR/$1" "$2" || return 1
  # A symlink to a binary on PATH: that binary may have been upgraded since, so ask it again.
  [[ ! -L "$BIN_DIR/$1" ]] || version_matches "$1" "$(reported_version "$1" "$BIN_DIR/$1")" "$2"
}

# Prints the version a binary reports (v-prefixed), or nothing.
reported_version() {
  local name="$1" path="$2" out
  case "$name" in
    kubectl) out="$("$path" version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -n1)" ;;
    etcd) out="$("$path" --version 2>/dev/null | sed -n 's/^etcd Version: *//p' | head -n1)" ;;
    kwok | kwokctl) out="$("$path" --version 2>/dev/null | grep -oE 'v?[0-9]+\.[0-9]+\.[0-9]+[^ ]*' | head -n1)" ;;
    *) out="$("$path" --version 2>/dev/null | sed -n 's/^Kubernetes *//p' | head -n1)" ;;
  esac
  [[ -n "$out" ]] && printf 'v%s\n' "${out#v}"
  return 0
}

# Does the version reported by a binary on PATH match the pin? kubectl only needs the same minor
# (any v1.34.x client talks to a v1.34.4 server); the servers must match exactly (a distro suffix
# such as "-1" after the patch number is accepted).
version_matches() {
  local name="$1" have="$2" want="$3"
  case "$name" in
    kubectl) [[ "$have" == "v${K8S_MAJOR}.${K8S_MINOR}."* ]] ;;
    *) [[ "$have" == "$want" || "$have" == "$want"-* || "$have" == "$want"+* ]] ;;
  esac
}

# If a matching binary is on PATH (outside $BIN_DIR), symlink it into $BIN_DIR and return 0.
link_from_path() {
  local name="$1" want="$2" candidate real have bin_real
  [[ "$FORCE" == 1 ]] && return 1
  bin_real="$(cd "$BIN_DIR" && pwd -P)"
  while IFS= read -r candidate; do
    real="$(readlink -f "$candidate" 2>/dev/null || true)"
    [[ -z "$real" || "$real" == "$bin_real"/* ]] && continue
    have="$(reported_version "$name" "$real")"
    if [[ -n "$have" ]] && version_matches "$name" "$have" "$want"; then
      log "$name: using $candidate ($have) from PATH"
      ln -sfn "$real" "$BIN_DIR/$name"
      set_stamp "$BIN_DIR/$name" "$want"
      return 0
    fi
  done < <(type -aP "$name" 2>/dev/null || true)
  return 1
}

# Moves freshly built binaries from a staging dir into $BIN_DIR and stamps them.
install_built() {
  local from="$1" version="$2" name
  shift 2
  for name in "$@"; do install_binary "$from/$name" "$BIN_DIR/$name" "$version"; done
}

module_time() { # release time of a module version, from the proxy's .info file (RFC 3339, UTC)
  local info
  info="$(go mod download -json "$1@$2" 2>/dev/null | sed -n 's/^[[:space:]]*"Info": *"\([^"]*\)".*/\1/p')"
  [[ -f "$info" ]] && sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info" | head -n1
  return 0
}

# --- Kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl ---
build_kubernetes() {
  local names=("$@") work="$SRC_ROOT/kubernetes-$K8S_VER" gomod godirective godebug staging build_date
  log "building ${names[*]} $K8S_VER from k8s.io/kubernetes (cold: ~20-30 min on 2 cores)"
  mkdir -p "$work"
  gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VER" | sed -n 's/^[[:space:]]*"GoMod": *"\([^"]*\)".*/\1/p')"
  [[ -f "$gomod" ]] || { log "cannot download k8s.io/kubernetes@$K8S_VER"; return 1; }
  godirective="$(grep -m1 '^go ' "$gomod")"
  godebug="$(grep -m1 '^godebug ' "$gomod" || true)"
  # Every staging module that k8s.io/kubernetes replaces with ./staging/src/... gets the published
  # release of the same patch instead.
  staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod")"
  [[ -n "$staging" ]] || { log "no staging replaces found in k8s.io/kubernetes go.mod"; return 1; }
  {
    echo "// Generated by scripts/toolchain/kube.sh: builds k8s.io/kubernetes $K8S_VER commands."
    echo "module local.build/kubernetes"
    echo
    echo "$godirective"
    [[ -n "$godebug" ]] && echo "$godebug"
    echo
    echo "require k8s.io/kubernetes $K8S_VER"
    echo
    echo "replace ("
    while IFS= read -r mod; do echo "	$mod => $mod $STAGING_VER"; done <<<"$staging"
    echo ")"
  } >"$work/go.mod.new"
  use_new_go_mod "$work"

  build_date="$(module_time k8s.io/kubernetes "$K8S_VER")"
  local ldflags="-s -w" pkg key val
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    # gitCommit: the module zip carries no commit id; empty beats the "$Format:%H$" placeholder.
    for key in gitVersion gitMajor gitMinor gitTreeState buildDate gitCommit; do
      case "$key" in
        gitCommit) val="" ;;
        gitVersion) val="$K8S_VER" ;;
        gitMajor) val="$K8S_MAJOR" ;;
        gitMinor) val="$K8S_MINOR" ;;
        gitTreeState) val="clean" ;;
        buildDate) val="${build_date:-1970-01-01T00:00:00Z}" ;;
      esac
      ldflags+=" -X $pkg.$key=$val"
    done
  done

  local out="$work/out" pkgs=() name
  rm -rf "$out" && mkdir -p "$out"
  for name in "${names[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$name"); done
  # Tags as in Kubernetes' own build (hack/lib/golang.sh).
  (cd "$work" && run_logged "$work/build.log" \
    go build -trimpath -tags "selinux,notest" -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
  install_built "$out" "$K8S_VER" "${names[@]}"
}

# --- etcd: the server's main package is go.etcd.io/etcd/server/v3 (etcdmain) ---
build_etcd() {
  local work="$SRC_ROOT/etcd-$ETCD_VER" godirective
  log "building etcd $ETCD_VER from go.etcd.io/etcd/server/v3 (cold: a few minutes)"
  mkdir -p "$work"
  go mod download "go.etcd.io/etcd/server/v3@$ETCD_VER"
  godirective="$(grep -m1 '^go ' "$GOMODCACHE/go.etcd.io/etcd/server/v3@$ETCD_VER/go.mod")"
  # The server module replaces its siblings with local paths; require them at the same version.
  cat >"$work/go.mod.new" <<EOF
// Generated by scripts/toolchain/kube.sh: builds etcd $ETCD_VER.
module local.build/etcd

$godirective

require (
	go.etcd.io/etcd/api/v3 $ETCD_VER
	go.etcd.io/etcd/client/pkg/v3 $ETCD_VER
	go.etcd.io/etcd/client/v3 $ETCD_VER
	go.etcd.io/etcd/pkg/v3 $ETCD_VER
	go.etcd.io/etcd/server/v3 $ETCD_VER
)
EOF
  use_new_go_mod "$work"
  local out="$work/out"
  rm -rf "$out" && mkdir -p "$out"
  (cd "$work" && run_logged "$work/build.log" \
    go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VER" \
    -o "$out/etcd" go.etcd.io/etcd/server/v3)
  install_built "$out" "$ETCD_VER" etcd
}

# --- kwok, kwokctl ---
build_kwok() {
  local names=("$@") work="$SRC_ROOT/kwok-$KWOK_VER" godirective
  log "building ${names[*]} $KWOK_VER from sigs.k8s.io/kwok (cold: several minutes)"
  mkdir -p "$work"
  go mod download "sigs.k8s.io/kwok@$KWOK_VER"
  godirective="$(grep -m1 '^go ' "$GOMODCACHE/sigs.k8s.io/kwok@$KWOK_VER/go.mod")"
  cat >"$work/go.mod.new" <<EOF
// Generated by scripts/toolchain/kube.sh: builds kwok and kwokctl $KWOK_VER.
module local.build/kwok

$godirective

require sigs.k8s.io/kwok $KWOK_VER
EOF
  use_new_go_mod "$work"
  # As kwok's hack/releases.sh does; KubeVersion makes kwokctl default to the pinned Kubernetes.
  local ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VER#v}"
  ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${K8S_VER#v}"
  ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.PreRelease=GA"
  local out="$work/out" pkgs=() name
  rm -rf "$out" && mkdir -p "$out"
  for name in "${names[@]}"; do pkgs+=("sigs.k8s.io/kwok/cmd/$name"); done
  (cd "$work" && run_logged "$work/build.log" \
    go build -trimpath -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
  install_built "$out" "$KWOK_VER" "${names[@]}"
}

# Which binaries still need building (not current, and not found on PATH)?
needed() { # needed VERSION NAME... -> prints the names to build
  local version="$1" name
  shift
  for name in "$@"; do
    is_current "$name" "$version" && continue
    link_from_path "$name" "$version" && continue
    printf '%s\n' "$name"
  done
}

# A Kind node also needs kubeadm, kubelet and kube-proxy (scripts/toolchain/kind.sh asks for them):
# one build with the others shares almost all of its compile work.
kube_names=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
[[ "${KUBE_NODE_BINARIES:-0}" == 1 ]] && kube_names+=(kubeadm kubelet kube-proxy)
mapfile -t kube_todo < <(needed "$K8S_VER" "${kube_names[@]}")
mapfile -t etcd_todo < <(needed "$ETCD_VER" etcd)
mapfile -t kwok_todo < <(needed "$KWOK_VER" kwok kwokctl)

((${#kwok_todo[@]} == 0)) || build_kwok "${kwok_todo[@]}"
((${#etcd_todo[@]} == 0)) || build_etcd
((${#kube_todo[@]} == 0)) || build_kubernetes "${kube_todo[@]}"

log "control plane in $(cache_path "$BIN_DIR"): kubernetes $K8S_VER, etcd $ETCD_VER, kwok $KWOK_VER"
