#!/usr/bin/env bash
# The Python set-up (README: Install), shared by scripts/demo.sh, scripts/test.sh and .ci/run:
#   bash scripts/install.sh          .venv with the locked dependencies and the component library
#   bash scripts/install.sh --check  exit 0 if .venv is up to date, 1 (saying why) if a run would install
#
# Idempotent and quick when nothing changed: what was installed is recorded in .venv's stamp file
# (a hash of requirements.txt and components/pyproject.toml, the two files pip reads), and pip runs
# only when that hash differs or .venv is missing. A venv removed by hand starts over; an edit to a
# component's source needs nothing (the library is installed editable).
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=toolchain/common.sh
source "$SCRIPT_DIR/toolchain/common.sh"
SAY_TAG=install # say (common.sh)

VENV="$ROOT/.venv"
STAMP="$VENV/.flask-k8s-install"
wanted="$(content_hash 64 "$ROOT/requirements.txt" "$ROOT/components/pyproject.toml")"
current() { [[ -x "$VENV/bin/python" && "$(cat "$STAMP" 2>/dev/null || true)" == "$wanted" ]]; }

case "${1:-}" in
  "") ;;
  --check)
    current && exit 0
    say ".venv is missing or older than requirements.txt / components/pyproject.toml: run bash scripts/install.sh"
    exit 1
    ;;
  *) usage_of "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac

current && exit 0
say "installing the Python dependencies into .venv (README: Install)"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
rm -f "$STAMP" # stale until both installs have succeeded
pip=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
"${pip[@]}" -r "$ROOT/requirements.txt"
# A line of its own: pip's hash-checking mode refuses a local, editable requirement in
# requirements.txt; the library's dependencies and build backend are in the lock, hence the flags.
"${pip[@]}" --no-deps --no-build-isolation -e "$ROOT/components"
printf '%s\n' "$wanted" >"$STAMP"
say ".venv is up to date"
