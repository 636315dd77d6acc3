# Shared by the toolchain scripts: where the cache lives and how versions are read.
# Source it; do not run it.
#
# Everything built lives in a cache outside the work tree, because CI runs in a fresh clone on the
# same machine: a folder inside the clone would start empty every time.
# shellcheck shell=bash
set -euo pipefail

TOOLCHAIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$TOOLCHAIN_DIR/../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../versions.env
source "$REPO_ROOT/scripts/versions.env"

CACHE_ROOT="${FLASK_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flask-k8s-pulumi}"
BIN_DIR="$CACHE_ROOT/bin"
mkdir -p "$BIN_DIR"

# Go's module and build caches go under the same root, so emptying it gives a truly cold build.
export GOMODCACHE="$CACHE_ROOT/go/mod"
export GOCACHE="$CACHE_ROOT/go/build"
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED="${CGO_ENABLED:-0}"

log() { printf '[toolchain] %s\n' "$*" >&2; }
# A path under the cache as logs show it: <cache>/..., so no log names a folder of the machine.
cache_path() { printf '<cache>%s' "${1#"$CACHE_ROOT"}"; }

# Runs a build with its output in a log file; on failure, shows the tail rather than pages of output.
run_logged() {
  local logfile="$1"
  shift
  if ! "$@" >"$logfile" 2>&1; then
    log "command failed: $* (full log: $(cache_path "$logfile"))"
    tail -n 40 "$logfile" >&2
    return 1
  fi
}

# Puts a freshly generated $1/go.mod.new in place; go.sum is recomputed only when go.mod changed.
use_new_go_mod() {
  local work="$1"
  if ! cmp -s "$work/go.mod.new" "$work/go.mod" 2>/dev/null; then
    mv -f "$work/go.mod.new" "$work/go.mod"
    rm -f "$work/go.sum"
  else
    rm -f "$work/go.mod.new"
  fi
}

# The directory of a module version in GOMODCACHE (downloading it if needed).
module_dir() {
  local dir
  dir="$(mkdir -p "$CACHE_ROOT/src" && cd "$CACHE_ROOT/src" && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || { log "could not download $1"; return 1; }
  printf '%s\n' "$dir"
}
