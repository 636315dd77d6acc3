# Shared by the scripts under scripts/ (all but test.sh, and kind/kindnetd.sh, which runs in a
# container): where the cache lives, how versions are read, and the helpers they have in common:
# messages (log, say, die, usage_of), one run at a time (lock_toolchain), build stamps (stamped,
# set_stamp, content_hash, install_binary), tools installed already (link_from_path, link_binary)
# and Go builds (run_logged, use_new_go_mod, module_dir). Source it; do not run it.
#
# Everything built lives in a cache outside the work tree, because CI runs in a fresh clone on the
# same machine: a folder inside the clone would start empty every time. Sourcing this file also
# creates $BIN_DIR and exports Go's cache variables; every script that sources it can afford that,
# so the helpers are not kept in a separate file without those side effects.
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

# The toolchain scripts' messages, on stderr.
log() { printf '[toolchain] %s\n' "$*" >&2; }
# The other scripts' messages (kind-cluster.sh, kwok-cluster.sh, demo.sh, kind/engine.sh; not
# kind/images.sh, which keeps its own copies: see "Build stamps"): say prints "[$SAY_TAG] MESSAGE"
# on stderr, SAY_TAG being the script's name, which it sets; die says "error: MESSAGE" and exits 1.
# usage_of SCRIPT prints the script's header comment, from its second line to `set -euo pipefail`.
say() { printf '[%s] %s\n' "$SAY_TAG" "$*" >&2; }
die() { say "error: $*"; exit 1; }
usage_of() { sed -n '2,/^set -euo/p' "$1" | sed -e '$d' -e 's/^# \{0,1\}//'; }

# A path under the cache as logs show it: <cache>/..., so no log names a folder of the machine.
cache_path() { printf '<cache>%s' "${1#"$CACHE_ROOT"}"; }

# --- One run at a time ---------------------------------------------------------------------------
# One run of a toolchain script at a time, as CI and a developer may share the cache:
# lock_toolchain NAME holds $CACHE_ROOT/.NAME-toolchain.lock until the script exits (on fd 9; a
# script that runs another toolchain script keeps its lock while the other takes its own). Where
# flock is missing (macOS), runs are not serialized.
lock_toolchain() {
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$CACHE_ROOT/.$1-toolchain.lock"
  flock 9
}

# --- Build stamps --------------------------------------------------------------------------------
# Beside each binary a toolchain script builds or links, a stamp file .<name>.version holds what it
# was made from: the pinned version, or (pulumi.sh's language host, built from this repository's
# source) that version plus a content_hash of the source. A binary whose stamp holds the wanted
# value is kept; any other value rebuilds it. Stamps are the value and a newline, nothing else.
# (scripts/kind/images.sh labels its images with hashes of the same kind through its own hash_of,
# and has its own say and die: that script is one of its images' inputs, so any edit to it rebuilds
# the node and Traefik images. It can move onto these helpers with a change that rebuilds them.)
# stamp_file BINARY, stamp_of BINARY, set_stamp BINARY VALUE, and stamped BINARY VALUE: is BINARY
# an executable whose stamp holds VALUE (keep it)? BINARY is a path.
stamp_file() { printf '%s/.%s.version' "${1%/*}" "${1##*/}"; }
stamp_of() { cat "$(stamp_file "$1")" 2>/dev/null || true; }
set_stamp() { printf '%s\n' "$2" >"$(stamp_file "$1")"; }
stamped() { [[ -x "$1" && "$(stamp_of "$1")" == "$2" ]]; }
# content_hash LENGTH FILE...: the first LENGTH hex digits of the SHA-256 of the files' contents.
content_hash() {
  local length="$1"
  shift
  cat "$@" | sha256sum | cut -c1-"$length"
}
# install_binary BUILT DEST VERSION: moves a freshly built binary into place, then stamps it.
install_binary() {
  rm -f "$2"
  mv -f "$1" "$2"
  set_stamp "$2" "$3"
  log "${2##*/}: installed $3"
}

# --- Tools installed already ---------------------------------------------------------------------
# link_binary TARGET DEST VALUE: uses an installed binary instead of building one: symlinks it as
# DEST, stamped VALUE.
link_binary() {
  ln -sfn "$1" "$2"
  set_stamp "$2" "$3"
}
# link_from_path NAME WANT REPORT [MATCHES]: links into $BIN_DIR the first NAME on PATH (outside
# $BIN_DIR, symlinks resolved) whose version, as `REPORT NAME PATH` prints it, is accepted by
# `MATCHES NAME HAVE WANT` (by default HAVE must be WANT); stamps it WANT and returns 0. Returns 1
# when there is none.
link_from_path() {
  local name="$1" want="$2" report="$3" matches="${4:-same_version}" candidate real have bin_real
  bin_real="$(cd "$BIN_DIR" && pwd -P)"
  while IFS= read -r candidate; do
    real="$(readlink -f "$candidate" 2>/dev/null || true)"
    [[ -z "$real" || "$real" == "$bin_real"/* ]] && continue
    have="$("$report" "$name" "$real" || true)"
    if [[ -n "$have" ]] && "$matches" "$name" "$have" "$want"; then
      log "$name: using $candidate ($have) from PATH"
      link_binary "$real" "$BIN_DIR/$name" "$want"
      return 0
    fi
  done < <(type -aP "$name" 2>/dev/null || true)
  return 1
}
same_version() { [[ "$2" == "$3" ]]; } # same_version NAME HAVE WANT

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
