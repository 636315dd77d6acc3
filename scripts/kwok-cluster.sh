#!/usr/bin/env bash
# A local Kubernetes control plane for end-to-end tests, without containers or downloads: kwokctl
# runs the pinned etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok controller
# (built by scripts/toolchain/kube.sh) as plain processes, and kwok fakes the nodes and the pods on
# them (pods are scheduled, get an IP and turn Ready; no container runs).
#
# Usage:
#   scripts/kwok-cluster.sh up [KUBECONFIG_PATH]   start (recreate) the cluster; prints the kubeconfig path
#   scripts/kwok-cluster.sh down                   delete the cluster and stop all its processes
#                                                  (a kubeconfig written by `up` is left in place)
#
# Environment:
#   KWOK_CLUSTER_NAME        cluster name (default flask-e2e; kubeconfig context "kwok-<name>")
#   KWOK_CLUSTER_KUBECONFIG  where `up` writes the kubeconfig when no argument is given
#                            (default $KWOK_WORKDIR/<name>.kubeconfig)
#   KWOK_CLUSTER_NODES       number of fake nodes (default 3)
#   KWOK_WORKDIR             kwokctl's work dir (default <cache>/kwok; never ~/.kwok nor the repo)
#   KWOK_CLUSTER_WAIT        how long `up` waits for the control plane (default 120s)
# Only the kubeconfig path goes to stdout; everything else to stderr. The user's ~/.kube/config is
# never touched. The API server listens on 127.0.0.1 on a free port chosen by kwokctl.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=toolchain/common.sh
source "$SCRIPT_DIR/toolchain/common.sh"

CLUSTER_NAME="${KWOK_CLUSTER_NAME:-flask-e2e}"
NODES="${KWOK_CLUSTER_NODES:-3}"
WAIT="${KWOK_CLUSTER_WAIT:-120s}"
export KWOK_WORKDIR="${KWOK_WORKDIR:-$CACHE_ROOT/kwok}"
mkdir -p "$KWOK_WORKDIR"
CLUSTER_DIR="$KWOK_WORKDIR/clusters/$CLUSTER_NAME"
# kwokctl adds/removes a context in a kubeconfig on create/delete, ~/.kube/config by default:
# point it at a file of its own instead.
CONTEXTS_KUBECONFIG="$KWOK_WORKDIR/kwokctl-contexts.kubeconfig"

SAY_TAG=kwok-cluster # say, die (common.sh)
usage() { usage_of "${BASH_SOURCE[0]}"; }

KWOKCTL="$BIN_DIR/kwokctl"
# kwokctl also reads KWOK_* variables (KWOK_KUBE_VERSION, ...); the flags below take precedence.
kwokctl() { "$KWOKCTL" --name "$CLUSTER_NAME" "$@"; }

# Processes started for this cluster: every one has the cluster's work dir on its command line.
cluster_pids() {
  local pattern
  pattern="$(printf '%s/' "$CLUSTER_DIR" | sed 's/[][\.*^$+?(){}|]/\\&/g')"
  pgrep -f -- "$pattern" | grep -vx "$$" || true
}

# Ends leftovers of this cluster (e.g. after a crash of kwokctl or a deleted work dir), by pid.
kill_leftovers() {
  local pids
  mapfile -t pids < <(cluster_pids)
  ((${#pids[@]} == 0)) && return 0
  say "stopping leftover processes of cluster $CLUSTER_NAME: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 25); do
    mapfile -t pids < <(cluster_pids)
    ((${#pids[@]} == 0)) && return 0
    sleep 0.2
  done
  say "killing ${pids[*]}"
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

cluster_down() {
  if [[ -x "$KWOKCTL" && -d "$CLUSTER_DIR" ]]; then
    kwokctl delete cluster --kubeconfig "$CONTEXTS_KUBECONFIG" --force >&2 ||
      say "kwokctl delete cluster failed; cleaning up by hand"
  fi
  kill_leftovers
  rm -rf "$CLUSTER_DIR" "$KWOK_WORKDIR/$CLUSTER_NAME.kwokctl.yaml"
}

# On a failed `up`: show the end of each component's log, then leave nothing behind.
fail_up() {
  local f
  say "$1"
  for f in "$CLUSTER_DIR"/logs/*.log; do
    [[ -f "$f" ]] || continue
    say "--- last lines of $(basename "$f"):"
    tail -n 15 "$f" >&2 || true
  done
  cluster_down
  exit 1
}

# kubectl with its discovery cache kept out of ~/.kube.
kubectl() { "$BIN_DIR/kubectl" --cache-dir "$KWOK_WORKDIR/kubectl-cache" "$@"; }

cmd_up() {
  local kubeconfig="${1:-${KWOK_CLUSTER_KUBECONFIG:-$KWOK_WORKDIR/$CLUSTER_NAME.kubeconfig}}"
  [[ "$NODES" =~ ^[1-9][0-9]*$ ]] || die "KWOK_CLUSTER_NODES must be a number >= 1, not '$NODES'"
  mkdir -p "$(dirname "$kubeconfig")"
  kubeconfig="$(cd "$(dirname "$kubeconfig")" && pwd)/$(basename "$kubeconfig")"

  bash "$SCRIPT_DIR/toolchain/kube.sh"

  if [[ -d "$CLUSTER_DIR" ]] || [[ -n "$(cluster_pids)" ]]; then
    say "deleting stale cluster $CLUSTER_NAME"
    cluster_down
  fi

  # Options that have no flag: kwokctl binds every component to 0.0.0.0 by default (etcd
  # included, without authentication); keep them on the loopback interface.
  local config="$KWOK_WORKDIR/$CLUSTER_NAME.kwokctl.yaml"
  cat >"$config" <<'EOF'
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
EOF

  say "creating cluster $CLUSTER_NAME (kubernetes v${KUBERNETES_VERSION#v}, $NODES fake nodes)"
  local ok=0
  if kwokctl --config "$config" create cluster \
    --runtime binary \
    --kubeconfig "$CONTEXTS_KUBECONFIG" \
    --kube-apiserver-binary "$BIN_DIR/kube-apiserver" \
    --kube-controller-manager-binary "$BIN_DIR/kube-controller-manager" \
    --kube-scheduler-binary "$BIN_DIR/kube-scheduler" \
    --kwok-controller-binary "$BIN_DIR/kwok" \
    --etcd-binary "$BIN_DIR/etcd" \
    --kube-authorization --kube-admission \
    --quiet-pull \
    --wait "$WAIT" >&2; then
    ok=1
  fi
  # Without a node, pods stay Pending. kwok's node template offers cpu, memory and pods only; the
  # app's pods also request ephemeral-storage (their logs), which a real kubelet reports.
  if ((ok)); then
    kwokctl scale node --replicas "$NODES" --param '.allocatable["ephemeral-storage"] = "100Gi"' >&2 || ok=0
  fi
  if ((ok)); then
    kwokctl get kubeconfig >"$kubeconfig.tmp" || ok=0
  fi
  if ((!ok)); then
    rm -f "$kubeconfig.tmp"
    fail_up "cluster $CLUSTER_NAME failed to come up"
  fi
  chmod 600 "$kubeconfig.tmp"
  mv -f "$kubeconfig.tmp" "$kubeconfig"

  # Wait until the fake nodes are Ready, so the caller can schedule pods straight away.
  if ! kubectl --kubeconfig "$kubeconfig" wait --for=condition=Ready node --all --timeout=60s >&2; then
    fail_up "the fake nodes did not turn Ready"
  fi
  say "cluster $CLUSTER_NAME is up: $(kubectl --kubeconfig "$kubeconfig" get nodes --no-headers | wc -l) nodes," \
    "server $(kubectl --kubeconfig "$kubeconfig" config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  printf '%s\n' "$kubeconfig"
}

cmd_down() {
  say "deleting cluster $CLUSTER_NAME"
  cluster_down
  local left
  left="$(cluster_pids)"
  [[ -z "$left" ]] || die "processes of cluster $CLUSTER_NAME still running: $left"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
