#!/usr/bin/env bash
# A Docker engine for the Kind layer on a machine that has none running (CI here): Debian's
# docker.io, started in the background with its data under the cache, stopped again by its PID.
# Where an engine already answers (a laptop, a CI runner), `start` uses it and `stop` leaves it be.
#
# Usage:
#   scripts/kind/engine.sh start   install the packages if missing, start dockerd, wait until it answers
#   scripts/kind/engine.sh stop    stop the dockerd (and its containerd) that `start` started, if any
#
# Images and build cache live in $CACHE_ROOT/docker (see scripts/toolchain/common.sh), so they
# survive between runs like the Go build cache does; the engine's PID is in $CACHE_ROOT/docker/run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../toolchain/common.sh
source "$HERE/../toolchain/common.sh"

ENGINE_DIR="$CACHE_ROOT/docker"
RUN_DIR="$ENGINE_DIR/run"
PIDFILE="$RUN_DIR/dockerd.pid"
LOGFILE="$RUN_DIR/dockerd.log"
# The packages the offline Kind layer needs on the host: the engine, debootstrap for a base image
# made from Debian's mirror, jq for the runc wrapper, libseccomp-dev to build runc for the node, curl
# for the real-cluster tests' uploads (tests/kind/traffic.py).
PACKAGES=(docker.io containerd runc iptables debootstrap jq libseccomp-dev gcc libc6-dev curl)

SAY_TAG=engine # say, die (common.sh)

engine_answers() { docker info >/dev/null 2>&1; }
our_pid() { # the PID of the dockerd we started, if it still runs
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] &&
    printf '%s\n' "$pid"
  return 0
}

install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ "$(id -u)" == 0 ]] || die "missing Debian packages ${missing[*]}: install them as root, or run as root"
  say "installing ${missing[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Does this host refuse CAP_SYS_RESOURCE (bit 24 of the capability bounding set)?
lacks_sys_resource() {
  local bnd
  bnd="$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)"
  (((0x$bnd >> 24 & 1) == 0))
}

start() {
  if engine_answers; then
    say "a Docker engine already answers; using it"
    return 0
  fi
  [[ "$(uname -s)" == Linux ]] || die "no Docker engine answers; start Docker Desktop (or colima) first"
  install_packages
  mkdir -p "$RUN_DIR" "$ENGINE_DIR/data"
  local args=(--data-root "$ENGINE_DIR/data" --pidfile "$PIDFILE" --host unix:///var/run/docker.sock)
  if lacks_sys_resource; then
    say "this host's capability bounding set lacks CAP_SYS_RESOURCE: privileged containers go through runc-nosysres"
    args+=(--add-runtime "nosysres=$HERE/runc-nosysres" --default-runtime nosysres)
  fi
  say "starting dockerd (log: $(cache_path "$LOGFILE"))"
  # setsid: the engine must not get the terminal's signals (Ctrl-C in a test run); `stop` ends it.
  setsid dockerd "${args[@]}" >"$LOGFILE" 2>&1 </dev/null &
  local pid=$! i
  for i in $(seq 1 60); do
    engine_answers && { say "dockerd $pid is up"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  tail -n 30 "$LOGFILE" >&2
  kill -TERM "$pid" 2>/dev/null || true
  die "dockerd did not answer within 60 s"
}

stop() {
  local pid children i
  pid="$(our_pid)"
  if [[ -z "$pid" ]]; then
    say "no engine of ours is running"
    return 0
  fi
  # dockerd stops the containerd it started on a clean shutdown; remember it in case it does not.
  children="$(pgrep -P "$pid" 2>/dev/null || true)"
  say "stopping dockerd $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "dockerd $pid did not stop in 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  for i in $children; do kill -KILL "$i" 2>/dev/null || true; done
  rm -f "$PIDFILE"
  return 0
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) usage_of "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
