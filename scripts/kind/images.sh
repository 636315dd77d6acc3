#!/usr/bin/env bash
# Builds the container images of the Kind layer where no container registry is reachable, from
# Debian's packages and Go modules only (scripts/toolchain/kind.sh builds the binaries first):
#   local/debian:bookworm            debootstrap --variant=minbase from this host's Debian mirror
#   python:3.11-slim                 stand-in so app/Dockerfile builds unchanged (python-slim.Dockerfile)
#   local/kind-node:v$KUBERNETES_VERSION
#                                    the node image, as `kind build node-image` makes it, with the
#                                    control-plane, CoreDNS, etcd, pause and kindnetd stand-in
#                                    images side-loaded into its containerd
#   local/traefik:v$TRAEFIK_VERSION  Traefik, the ingress controller the Pulumi program installs: built
#                                    here instead of pulled (the stack's cluster.ingressController.image)
#   local/kube-router:v$KUBE_ROUTER_VERSION
#                                    the NetworkPolicy enforcer (scripts/kind/kube-router.yaml): its
#                                    binary on the Debian tools image (iptables, ipset, iproute2,
#                                    conntrack, kmod, CA certificates)
# Each image carries a label with a hash of everything it is made from; an image whose label
# matches is kept, so a warm run takes seconds. Needs a Docker engine (scripts/kind/engine.sh).
#
# Usage: bash scripts/kind/images.sh   (prints the node image's name on stdout)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../toolchain/common.sh
source "$HERE/../toolchain/common.sh"

K8S_VER="v${KUBERNETES_VERSION#v}"
NODE_BIN="$CACHE_ROOT/kind-node/bin"
CTX_ROOT="$CACHE_ROOT/kind-node/ctx"
NODE_IMAGE="local/kind-node:$K8S_VER"
BASE_IMAGE="local/kind-base:bookworm"
TOOLS_IMAGE="local/debian-tools:bookworm"
KINDNETD_IMAGE="local/kindnetd-standin:v1"
TRAEFIK_IMAGE="local/traefik:v${TRAEFIK_VERSION#v}"
KUBE_ROUTER_IMAGE="local/kube-router:v${KUBE_ROUTER_VERSION#v}"
LABEL=flask-k8s.inputs

say() { printf '[images] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Each image is labelled with a hash of what it is made from.
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
# The node image is made from everything here: this folder, the pinned versions, every binary's stamp.
NODE_HASH="$(
  cd "$HERE" && {
    cat ./*.Dockerfile ./*.tmpl kindnetd.sh images.sh ../versions.env
    cat "$NODE_BIN"/.*.version "$BIN_DIR"/.kube*.version "$BIN_DIR"/.etcd.version 2>/dev/null || true
  } | sha256sum | cut -c1-16
)"

label_of() { docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true; }
is_built() { [[ "$(label_of "$1")" == "$2" ]]; } # is_built IMAGE HASH
fresh_ctx() { rm -rf "${CTX_ROOT:?}/$1" && mkdir -p "$CTX_ROOT/$1" && printf '%s\n' "$CTX_ROOT/$1"; }
build() { # build TAG DOCKERFILE CONTEXT_DIR HASH
  say "building $1"
  run_logged "$CTX_ROOT/build-${1//[\/:]/_}.log" \
    docker build --label "$LABEL=$4" -t "$1" -f "$2" "$3"
}

# The bookworm mirror this host's apt uses (deb822 .sources or one-line sources.list).
debian_mirror() {
  local files=(/etc/apt/sources.list.d/*.sources)
  if [[ -f "${files[0]}" ]]; then
    awk '/^URIs:/ {uri=$2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == "bookworm") {print uri; exit}}' \
      "${files[@]}"
  else
    awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  fi
}

debian_base() {
  docker image inspect local/debian:bookworm >/dev/null 2>&1 && return 0
  local mirror root
  mirror="$(debian_mirror)"
  [[ -n "$mirror" ]] || die "no Debian bookworm mirror found in this host's apt sources"
  root="$(mktemp -d)"
  say "debootstrap bookworm (minbase) from this host's Debian mirror (about a minute)"
  run_logged "$CTX_ROOT/debootstrap.log" debootstrap --variant=minbase bookworm "$root" "$mirror" ||
    { rm -rf "$root"; return 1; }
  tar -C "$root" -c . | docker import - local/debian:bookworm >/dev/null
  rm -rf "$root"
}

python_base() {
  # A real python:3.11-slim (pulled on a machine with a registry) is left alone.
  local have want ctx
  have="$(label_of python:3.11-slim)"
  want="$(hash_of "$HERE/python-slim.Dockerfile" /etc/ssl/certs/ca-certificates.crt)"
  if docker image inspect python:3.11-slim >/dev/null 2>&1 && [[ -z "$have" || "$have" == "$want" ]]; then
    return 0
  fi
  ctx="$(fresh_ctx python)"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca-bundle.crt"
  build python:3.11-slim "$HERE/python-slim.Dockerfile" "$ctx" "$want"
}

# An image of one static binary: FROM scratch + CA certificates + /tmp.
binary_image() { # binary_image TAG BINARY_PATH HASH
  local ctx name
  name="$(basename "$2")"
  ctx="$(fresh_ctx "img-$name")"
  cp "$2" "$ctx/$name"
  mkdir -p "$ctx/tmp" "$ctx/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/certs/"
  printf '%s\n' "FROM scratch" "COPY certs /etc/ssl/certs" "COPY tmp /tmp" "COPY $name /usr/local/bin/$name" \
    "ENV PATH=/usr/local/bin" "ENTRYPOINT [\"/usr/local/bin/$name\"]" >"$ctx/Dockerfile"
  build "$1" "$ctx/Dockerfile" "$ctx" "$3"
}

tools_image_based() { # tools_image_based TAG BINARY_OR_SCRIPT TARGET_PATH
  local ctx name
  name="$(basename "$2")"
  ctx="$(fresh_ctx "img-$name")"
  cp "$2" "$ctx/$name"
  printf '%s\n' "FROM $TOOLS_IMAGE" "COPY $name $3" "RUN chmod 755 $3" "ENTRYPOINT [\"$3\"]" >"$ctx/Dockerfile"
  build "$1" "$ctx/Dockerfile" "$ctx" "$NODE_HASH"
}

node_base() {
  is_built "$BASE_IMAGE" "$NODE_HASH" && return 0
  local ctx kind_dir
  ctx="$(fresh_ctx node-base)"
  kind_dir="$(module_dir "sigs.k8s.io/kind@v${KIND_VERSION#v}")"
  [[ -d "$kind_dir/images/base/files" ]] || die "kind's images/base/files not found in its module"
  cp -r "$kind_dir/images/base/files" "$ctx/files"
  chmod -R u+w "$ctx/files"
  mkdir -p "$ctx/bin"
  cp "$NODE_BIN"/{containerd,ctr,containerd-shim-runc-v2,crictl,runc,host-local,loopback,ptp,portmap} "$ctx/bin/"
  build "$BASE_IMAGE" "$HERE/node-base.Dockerfile" "$ctx" "$NODE_HASH"
}

# The images kubeadm deploys, named as `kubeadm config images list` names them, plus the sandbox
# image of the node's containerd and the CNI daemon; each is built from its binary.
side_loaded_images() {
  local image repo name
  while IFS= read -r image; do
    repo="${image%:*}"
    name="${repo##*/}"
    case "$name" in
      kube-apiserver | kube-controller-manager | kube-scheduler) binary_image "$image" "$BIN_DIR/$name" "$NODE_HASH" ;;
      kube-proxy) tools_image_based "$image" "$BIN_DIR/kube-proxy" /usr/local/bin/kube-proxy ;;
      etcd) binary_image "$image" "$BIN_DIR/etcd" "$NODE_HASH" ;;
      coredns) binary_image "$image" "$NODE_BIN/coredns" "$NODE_HASH" ;;
      pause) binary_image "$image" "$NODE_BIN/pause" "$NODE_HASH" ;;
      *) die "no local build for $image, which kubeadm $K8S_VER deploys" ;;
    esac
    printf '%s\n' "$image"
  done < <("$BIN_DIR/kubeadm" config images list --kubernetes-version "$K8S_VER" 2>/dev/null)
}

node_image() {
  is_built "$NODE_IMAGE" "$NODE_HASH" && return 0
  node_base
  local images=() sandbox id
  tools_image_based "$KINDNETD_IMAGE" "$HERE/kindnetd.sh" /bin/kindnetd
  mapfile -t images < <(side_loaded_images)
  ((${#images[@]} >= 6)) || die "kubeadm listed only ${#images[@]} images"
  # The node's containerd uses its own sandbox image; kind tags the pause image under that name too.
  sandbox="$(docker run --rm --entrypoint sed "$BASE_IMAGE" -n 's/.*sandbox_image = "\(.*\)"/\1/p' /etc/containerd/config.toml)"
  if [[ -n "$sandbox" && " ${images[*]} " != *" $sandbox "* ]]; then
    docker tag "$(printf '%s\n' "${images[@]}" | grep '/pause:')" "$sandbox"
    images+=("$sandbox")
  fi
  images+=("$KINDNETD_IMAGE")

  say "assembling $NODE_IMAGE (${#images[@]} side-loaded images)"
  id="$(docker run -d --entrypoint=sleep --security-opt seccomp=unconfined "$BASE_IMAGE" infinity)"
  BUILD_CONTAINER="$id"
  local b
  for b in kubeadm kubelet kubectl; do docker cp "$BIN_DIR/$b" "$id:/usr/bin/$b"; done
  docker exec "$id" bash -c "chmod 755 /usr/bin/kube*; chown root:root /usr/bin/kube*; \
    printf %s $K8S_VER > /kind/version; mkdir -p /kind/manifests"
  sed "s#KINDNETD_IMAGE#docker.io/$KINDNETD_IMAGE#" "$HERE/default-cni.yaml.tmpl" |
    docker exec -i "$id" tee /kind/manifests/default-cni.yaml >/dev/null
  docker exec "$id" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
  local _
  for _ in $(seq 1 30); do docker exec "$id" ctr version >/dev/null 2>&1 && break; sleep 1; done
  docker save "${images[@]}" | docker exec -i "$id" ctr --namespace=k8s.io images import \
    --all-platforms --no-unpack --digests --label=io.cri-containerd.pinned=pinned - >/dev/null
  docker exec "$id" bash -c 'kill $(pidof containerd); while pidof containerd >/dev/null; do sleep 0.2; done; rm -f /tmp/containerd.log'
  docker commit \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
    --change "LABEL $LABEL=$NODE_HASH" \
    "$id" "$NODE_IMAGE" >/dev/null
  remove_build_container
  say "built $NODE_IMAGE"
}

traefik_image() {
  local want
  want="$(hash_of "$NODE_BIN/.traefik.version" "$HERE/images.sh")"
  is_built "$TRAEFIK_IMAGE" "$want" && return 0
  binary_image "$TRAEFIK_IMAGE" "$NODE_BIN/traefik" "$want"
}

# kube-router calls iptables, ipset and ip, which the tools image has (the same Debian packages, and so
# the same nf_tables backend of iptables, as kube-proxy and the node).
kube_router_image() {
  local want ctx
  want="$(hash_of "$NODE_BIN/.kube-router.version" "$HERE/images.sh" "$HERE/debian-tools.Dockerfile")"
  is_built "$KUBE_ROUTER_IMAGE" "$want" && return 0
  ctx="$(fresh_ctx img-kube-router)"
  cp "$NODE_BIN/kube-router" "$ctx/kube-router"
  printf '%s\n' "FROM $TOOLS_IMAGE" "COPY kube-router /usr/local/bin/kube-router" \
    'ENTRYPOINT ["/usr/local/bin/kube-router"]' >"$ctx/Dockerfile"
  build "$KUBE_ROUTER_IMAGE" "$ctx/Dockerfile" "$ctx" "$want"
}

BUILD_CONTAINER=""
remove_build_container() {
  [[ -z "$BUILD_CONTAINER" ]] || docker rm -f -v "$BUILD_CONTAINER" >/dev/null 2>&1 || true
  BUILD_CONTAINER=""
}
trap remove_build_container EXIT

if ! docker info >/dev/null 2>&1; then die "no Docker engine answers (scripts/kind/engine.sh start)"; fi
mkdir -p "$CTX_ROOT"
debian_base
TOOLS_HASH="$(hash_of "$HERE/debian-tools.Dockerfile")"
is_built "$TOOLS_IMAGE" "$TOOLS_HASH" || build "$TOOLS_IMAGE" "$HERE/debian-tools.Dockerfile" "$(fresh_ctx tools)" "$TOOLS_HASH"
python_base
node_image
traefik_image
kube_router_image
printf '%s\n' "$NODE_IMAGE"
