#!/usr/bin/env bash
# A real Kind cluster for the real-cluster tests (tests/kind) and for trying the app on a laptop:
# the article's layout (a control plane labelled ingress-ready=true with host ports 80/443, two
# workers; the same kind_config() that flask_k8s_components/kind_cluster.py gives the dev stack) and
# the app's image built from app/ and loaded. No ingress controller: the Pulumi program installs
# Traefik itself (cluster.ingressController.*), here as for every user.
#
# Usage:
#   scripts/kind-cluster.sh up [KUBECONFIG_PATH]   (re)create the cluster; prints the kubeconfig path
#   scripts/kind-cluster.sh image IMAGE [DOCKERFILE]
#                                                  build app/ (or DOCKERFILE, in its own folder) as
#                                                  IMAGE and load it into the cluster
#   scripts/kind-cluster.sh prepare                only make the tools and the node image available
#   scripts/kind-cluster.sh down                   delete the cluster; stop the Docker engine `up` started
#
# Two ways to get there:
#   default       Docker and kind are installed (a laptop, a GitHub runner): the node image is
#                 kindest/node:v$KUBERNETES_VERSION (pulled, or assembled by `kind build node-image
#                 --type release` where kind publishes none for that patch release); the nodes pull
#                 the official Traefik image when the program deploys it. Nothing is compiled.
#   KIND_OFFLINE=1  no container registry is reachable (CI here): a Docker engine from Debian's
#                 packages is started (scripts/kind/engine.sh), kind, the node image and Traefik's
#                 image local/traefik:v$TRAEFIK_VERSION are built from Go modules and Debian packages
#                 (scripts/toolchain/kind.sh, scripts/kind/images.sh, cached: cold about 7 minutes
#                 after the other layers' tools, warm seconds), and `up` loads that Traefik image into
#                 the nodes for the stack's cluster.ingressController.image (scripts/demo.sh sets it).
#                 kube-router's firewall controller enforces NetworkPolicy (scripts/kind/kube-router.yaml):
#                 Kind's kindnetd, which enforces them on a laptop (Kind >= 0.24), needs a kernel
#                 option (CONFIG_NFT_QUEUE) this machine lacks, and fails open without it.
# Either way, `up` proves that a default-deny NetworkPolicy blocks a connection, or fails.
#
# Environment:
#   KIND_CLUSTER_NAME   cluster name (default flask-ci; kubeconfig context kind-<name>)
#   KIND_NODE_IMAGE     node image to use instead of the default of either way
#   KIND_APP_IMAGE      the app image `up` builds and loads (default flask-app:ci)
#   KIND_KUBECONFIG     where `up` writes the kubeconfig when no argument is given
#                       (default <cache>/kind/<name>.kubeconfig; ~/.kube/config is never touched)
# Only the kubeconfig path goes to stdout; progress goes to stderr.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=toolchain/common.sh
source "$SCRIPT_DIR/toolchain/common.sh"

CLUSTER_NAME="${KIND_CLUSTER_NAME:-flask-ci}"
OFFLINE="${KIND_OFFLINE:-0}"
APP_IMAGE="${KIND_APP_IMAGE:-flask-app:ci}"
STATE_DIR="$CACHE_ROOT/kind"
KUBECONFIG_PATH="${KIND_KUBECONFIG:-$STATE_DIR/$CLUSTER_NAME.kubeconfig}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WAIT="${KIND_WAIT:-180s}"
mkdir -p "$STATE_DIR"

SAY_TAG=kind-cluster # say, die (common.sh)
usage() { usage_of "${BASH_SOURCE[0]}" >&2; }

# The built kind and kubectl come first on PATH; installed ones are used where nothing is built.
export PATH="$BIN_DIR:$PATH"

need_tools() {
  if [[ "$OFFLINE" == 1 ]]; then
    bash "$SCRIPT_DIR/kind/engine.sh" start
    bash "$SCRIPT_DIR/toolchain/kind.sh" # kind, and through kube.sh kubectl and the node's kube binaries
  fi
  local tool
  for tool in docker kind kubectl; do
    command -v "$tool" >/dev/null || die "$tool is not installed (or set KIND_OFFLINE=1 to build it)"
  done
  docker info >/dev/null 2>&1 || die "no Docker engine answers (start Docker, or set KIND_OFFLINE=1)"
}

node_image() {
  if [[ -n "${KIND_NODE_IMAGE:-}" ]]; then
    printf '%s\n' "$KIND_NODE_IMAGE"
  elif [[ "$OFFLINE" == 1 ]]; then
    bash "$SCRIPT_DIR/kind/images.sh" | tail -n 1
  else
    # kind publishes node images for some patch releases only: otherwise build this one from the
    # Kubernetes release's binaries (kind build node-image --type release, about a minute).
    local image="kindest/node:v${KUBERNETES_VERSION#v}"
    if ! docker image inspect "$image" >/dev/null 2>&1 && ! docker pull "$image" >&2; then
      say "no published $image: building it from the Kubernetes release"
      kind build node-image --type release "v${KUBERNETES_VERSION#v}" --image "$image" >&2
    fi
    printf '%s\n' "$image"
  fi
}

kctl() { kubectl --kubeconfig "$KUBECONFIG_PATH" --context "kind-$CLUSTER_NAME" "$@"; }

# The product's own Kind layout, so the cluster under test is the one the dev stack creates.
kind_config() {
  [[ -x "$PYTHON" ]] || die "no Python venv at .venv (README: Install)"
  (cd "$ROOT" && "$PYTHON" -c 'import json; from flask_k8s_components.kind_cluster import kind_config; print(json.dumps(kind_config(2)))')
}

# Offline the nodes cannot pull Traefik: they get the image scripts/kind/images.sh built, on every
# node, as where it runs is the program's choice.
load_ingress_image() {
  local image="local/traefik:v${TRAEFIK_VERSION#v}"
  say "loading $image for the program's ingress controller (cluster.ingressController.image)"
  kind load docker-image "$image" --name "$CLUSTER_NAME" >&2
}

# NetworkPolicy enforcement, then the proof of it (both pods of the check run the app's image).
install_network_policy() {
  if [[ "$OFFLINE" == 1 ]]; then
    local image="local/kube-router:v${KUBE_ROUTER_VERSION#v}"
    say "NetworkPolicy: kube-router $KUBE_ROUTER_VERSION's firewall controller on every node"
    kind load docker-image "$image" --name "$CLUSTER_NAME" >&2
    sed "s#KUBE_ROUTER_IMAGE#$image#" "$SCRIPT_DIR/kind/kube-router.yaml" | kctl apply -f - >&2
    kctl -n kube-system rollout status daemonset/kube-router --timeout="$WAIT" >&2
  fi
  check_network_policy
}

# connects NAMESPACE IP: can the client pod of the check open a TCP connection to IP:8080 within 3 s?
connects() {
  kctl -n "$1" exec client -- python -c \
    'import socket, sys; socket.create_connection((sys.argv[1], 8080), timeout=3).close()' "$2" >/dev/null 2>&1
}

check_network_policy() {
  local ns=policy-check ip _ blocked=0
  sed "s#APP_IMAGE#$APP_IMAGE#" "$SCRIPT_DIR/kind/policy-check.yaml" | kctl apply -f - >&2
  kctl -n "$ns" wait --for=condition=Ready pod/server pod/client --timeout="$WAIT" >&2
  ip="$(kctl -n "$ns" get pod server -o jsonpath='{.status.podIP}')"
  if ! connects "$ns" "$ip"; then
    kctl delete namespace "$ns" --wait=false >&2
    die "policy check: the client cannot reach its server even without a policy"
  fi
  printf '%s\n' "apiVersion: networking.k8s.io/v1" "kind: NetworkPolicy" \
    "metadata: {name: default-deny, namespace: $ns}" "spec: {podSelector: {}, policyTypes: [Ingress]}" |
    kctl apply -f - >&2
  for _ in $(seq 1 20); do
    if ! connects "$ns" "$ip"; then blocked=1 && break; fi
    sleep 1
  done
  kctl delete namespace "$ns" --wait=false >&2
  ((blocked)) || die "NetworkPolicy is not enforced: a default-deny policy left a connection open for 20 s"
  say "NetworkPolicy is enforced: a default-deny policy blocked a connection that worked without it"
}

load_image() { # load_image IMAGE [DOCKERFILE]: build app/ (or DOCKERFILE) and load it into every node
  local dockerfile="${2:-$ROOT/app/Dockerfile}"
  [[ -f "$dockerfile" ]] || die "no Dockerfile at $dockerfile"
  say "building $1 from ${dockerfile#"$ROOT/"} and loading it into $CLUSTER_NAME"
  # The label makes each tag a distinct image (its own ID), as a new release of the app would be.
  run_logged "$STATE_DIR/docker-build.log" docker build --label "flask-k8s.image=$1" -t "$1" \
    -f "$dockerfile" "$(dirname "$dockerfile")"
  kind load docker-image "$1" --name "$CLUSTER_NAME" >&2
}

up() {
  [[ $# -ge 1 ]] && KUBECONFIG_PATH="$1"
  need_tools
  local image
  image="$(node_image)"
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
    say "deleting the existing cluster $CLUSTER_NAME"
    kind delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG_PATH" >&2
  fi
  say "creating cluster $CLUSTER_NAME from $image"
  mkdir -p "$(dirname "$KUBECONFIG_PATH")"
  kind_config | kind create cluster --name "$CLUSTER_NAME" --image "$image" --config - \
    --kubeconfig "$KUBECONFIG_PATH" --wait "$WAIT" >&2 || {
    say "kind create cluster failed"
    kind export logs "$STATE_DIR/logs-$CLUSTER_NAME" --name "$CLUSTER_NAME" >/dev/null 2>&1 || true
    exit 1
  }
  chmod 600 "$KUBECONFIG_PATH"
  kctl wait --for=condition=Ready nodes --all --timeout="$WAIT" >&2
  if [[ "$OFFLINE" == 1 ]]; then load_ingress_image; fi
  load_image "$APP_IMAGE"
  install_network_policy
  say "cluster $CLUSTER_NAME is ready (context kind-$CLUSTER_NAME)"
  printf '%s\n' "$KUBECONFIG_PATH"
}

down() {
  if command -v kind >/dev/null && docker info >/dev/null 2>&1 &&
    kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
    say "deleting cluster $CLUSTER_NAME"
    kind delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG_PATH" >&2 || true
  fi
  rm -f "$STATE_DIR/$CLUSTER_NAME.kubeconfig"
  # Only an engine that engine.sh started (its PID file says so) is stopped.
  bash "$SCRIPT_DIR/kind/engine.sh" stop
}

case "${1:-}" in
  up) shift && up "$@" ;;
  image) [[ $# -eq 2 || $# -eq 3 ]] || { usage; exit 2; }; need_tools; load_image "${@:2}" ;;
  down) down ;;
  # Not `need_tools && ...`: a failure inside need_tools would not stop the script there (errexit
  # is off on the left of &&), and a failed tool build would pass unnoticed.
  prepare) need_tools; node_image >/dev/null ;;
  *) usage; exit 2 ;;
esac
