#!/usr/bin/env bash
# From a fresh clone to the app on a local cluster, in one command:
#   bash scripts/demo.sh        sets everything up and deploys; ends with the URL, the CA file and a curl line
#   bash scripts/demo.sh down   destroys the app and the cluster, and stops whatever `up` started
#
# Where a Docker engine answers and kind is installed (or with KIND_OFFLINE=1, which builds them
# here from package registries), the cluster is a real Kind cluster (scripts/kind-cluster.sh) and
# the stack is kind-ci. Otherwise it is the kwok control plane (scripts/kwok-cluster.sh) and the
# stack is local: every object is created and its pods turn Ready, but kwok runs no container, so
# nothing answers the URL there.
#
# No Pulumi account and no prompt: the state is a file backend under <cache>/demo, its passphrase is
# generated once into <cache>/demo/passphrase (mode 600), and the stack runs in a copy of the project
# (<cache>/demo/project, refreshed on every run, keeping its stack file's encryption salt) so the salt
# never lands in your work tree. That stack home is devtools/stacks.py's, as the tests' stacks are.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=toolchain/common.sh
source "$SCRIPT_DIR/toolchain/common.sh"

DEMO_DIR="$CACHE_ROOT/demo"
PROJECT="$DEMO_DIR/project"
mkdir -p "$DEMO_DIR"
SAY_TAG=demo # say (common.sh)
# A path as the summary shows it: under $HOME as $HOME/..., which the reader's shell expands.
shown() {
  # shellcheck disable=SC2016 # a literal $HOME, for the reader's shell to expand
  if [[ "$1" == "$HOME"/* ]]; then printf '%s/%s' '$HOME' "${1#"$HOME"/}"; else printf '%s' "$1"; fi
}

# devtools/stacks.py, in .venv: stacks ARGS... (run from the project root, where devtools/ is).
stacks() { (cd "$ROOT" && .venv/bin/python -m devtools.stacks "$@"); }
# The stack home's environment: the file backend $DEMO_DIR/state, the passphrase file (generated
# once), TMPDIR $DEMO_DIR/tmp (pulumi-kubernetes leaves a copy of its kubeconfig there on every run).
use_demo_home() {
  local exports
  exports="$(stacks env "$DEMO_DIR")" # a line of its own, so that set -e sees it fail
  eval "$exports"
}

mode() {
  if [[ "${KIND_OFFLINE:-0}" == 1 ]] || { command -v kind >/dev/null && docker info >/dev/null 2>&1; }; then
    echo kind
  else
    echo kwok
  fi
}

up() {
  bash "$SCRIPT_DIR/install.sh"
  use_demo_home
  say "the pinned Pulumi CLI and plugins (built from Go modules unless installed: cold ~30 min)"
  PATH="$(bash "$SCRIPT_DIR/toolchain/pulumi.sh"):$PATH"
  export PATH
  local stack kubeconfig
  if [[ "$(mode)" == kind ]]; then
    stack=kind-ci
    kubeconfig="$(bash "$SCRIPT_DIR/kind-cluster.sh" up)"
  else
    stack=local
    say "no Docker engine and kind: using the kwok control plane (objects only, no containers)"
    bash "$SCRIPT_DIR/toolchain/kube.sh"
    kubeconfig="$(bash "$SCRIPT_DIR/kwok-cluster.sh" up "$DEMO_DIR/kwok.kubeconfig")"
    # kwok has no ingress controller: this plays its part for the Ingress's status (devtools/cluster.py).
    (
      cd "$ROOT"
      KUBECONFIG="$kubeconfig" exec setsid .venv/bin/python -m devtools.cluster >"$DEMO_DIR/stand-in.log" 2>&1 </dev/null
    ) &
    echo $! >"$DEMO_DIR/stand-in.pid"
  fi
  echo "$stack" >"$DEMO_DIR/stack"
  export KUBECONFIG="$kubeconfig"
  # The project's sources, refreshed on every run; the stack file keeps the salt of its state.
  stacks copy-project "$stack" "$PROJECT"
  pulumi stack select "$stack" --create --cwd "$PROJECT" >&2
  # Offline the nodes cannot pull the official Traefik image (kind-cluster.sh loaded the one built
  # here) and the program cannot fetch the CRDs from their releases (crds.sh wrote them from Go
  # modules). Set on every run: copy-project has just copied the stack file afresh.
  if [[ "$stack" == kind-ci && "${KIND_OFFLINE:-0}" == 1 ]]; then
    pulumi config set --path cluster.ingressController.image "local/traefik:v${TRAEFIK_VERSION#v}" \
      --stack "$stack" --cwd "$PROJECT" >&2
    pulumi config set --path cluster.ingressController.crds.dir "$(bash "$SCRIPT_DIR/toolchain/crds.sh")" \
      --stack "$stack" --cwd "$PROJECT" >&2
  fi
  pulumi up --stack "$stack" --cwd "$PROJECT" --yes --skip-preview >&2
  pulumi stack output caCertificate --stack "$stack" --cwd "$PROJECT" >"$DEMO_DIR/ca.crt"
  local url host
  url="$(pulumi stack output url --stack "$stack" --cwd "$PROJECT")"
  host="${url#https://}" && host="${host%%/*}"
  echo
  echo "The app is deployed (stack $stack): $url"
  echo "  CA certificate: $(shown "$DEMO_DIR/ca.crt")"
  if [[ "$stack" == kind-ci ]]; then
    echo "  curl --cacert $(shown "$DEMO_DIR/ca.crt") --resolve $host:443:127.0.0.1 $url"
  else
    echo "  kwok runs no containers, so nothing answers that URL; see the objects with"
    echo "  kubectl --kubeconfig $(shown "$kubeconfig") get all,ingress -n flask-app"
  fi
  echo "  The stack, from this shell:"
  echo "    export PATH=\"$(shown "$BIN_DIR"):\$PATH\" PULUMI_BACKEND_URL=\"file://$(shown "$DEMO_DIR/state")\" \\"
  echo "      PULUMI_CONFIG_PASSPHRASE_FILE=\"$(shown "$DEMO_DIR/passphrase")\" KUBECONFIG=\"$(shown "$kubeconfig")\""
  echo "    pulumi stack output --stack $stack --cwd \"$(shown "$PROJECT")\""
  echo "  Remove it all: bash scripts/demo.sh down"
}

down() {
  local stack pid
  stack="$(cat "$DEMO_DIR/stack" 2>/dev/null || true)"
  if [[ -n "$stack" && -d "$PROJECT" ]]; then
    use_demo_home
    PATH="$(bash "$SCRIPT_DIR/toolchain/pulumi.sh"):$PATH"
    export PATH
    [[ "$stack" == kind-ci ]] && export KUBECONFIG="$CACHE_ROOT/kind/flask-ci.kubeconfig"
    [[ "$stack" == local ]] && export KUBECONFIG="$DEMO_DIR/kwok.kubeconfig"
    pulumi destroy --stack "$stack" --cwd "$PROJECT" --yes --skip-preview >&2 || say "destroy failed; removing the cluster anyway"
  fi
  bash "$SCRIPT_DIR/kind-cluster.sh" down || true
  bash "$SCRIPT_DIR/kwok-cluster.sh" down || true
  pid="$(cat "$DEMO_DIR/stand-in.pid" 2>/dev/null || true)"
  # Only the process `up` started: its PID, if it still runs the stand-in.
  if [[ -n "$pid" ]] && grep -q devtools.cluster "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid"; fi
  rm -rf "$DEMO_DIR/stand-in.pid" "$DEMO_DIR/stack" "$DEMO_DIR/tmp"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) usage_of "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
