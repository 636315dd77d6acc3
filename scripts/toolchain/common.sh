# Shared by the toolchain scripts: where the cache lives and how versions are read.
# Source it; do not run it.
#
# Everything built lives in a cache outside the work tree, because CI runs in a fresh clone on the
# same machine: a folder inside the clone would start empty every time.
set -euo pipefail

TOOLCHAIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$TOOLCHAIN_DIR/../.." && pwd)"
# shellcheck source=../versions.env
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
