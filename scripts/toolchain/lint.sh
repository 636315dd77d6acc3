#!/usr/bin/env bash
# Makes the pinned actionlint (GitHub Actions workflow linter) available in $BIN_DIR, built from its
# Go module: its PyPI wrapper downloads a release binary at install time, which this machine cannot.
# A matching actionlint already on PATH is used instead. Prints $BIN_DIR on stdout.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
: "${ACTIONLINT_VERSION:?ACTIONLINT_VERSION is not set in scripts/versions.env}"

if stamped "$BIN_DIR/actionlint" "$ACTIONLINT_VERSION"; then
  echo "$BIN_DIR"
  exit 0
fi
on_path="$(command -v actionlint || true)"
if [[ -n "$on_path" && "$on_path" != "$BIN_DIR/actionlint" && "$("$on_path" -version | head -1)" == "$ACTIONLINT_VERSION" ]]; then
  ln -sf "$on_path" "$BIN_DIR/actionlint"
else
  log "building actionlint $ACTIONLINT_VERSION"
  GOBIN="$BIN_DIR" go install -trimpath \
    -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
    "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
fi
set_stamp "$BIN_DIR/actionlint" "$ACTIONLINT_VERSION"
echo "$BIN_DIR"
