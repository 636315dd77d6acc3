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
actionlint_version() { "$2" -version | head -n1; } # actionlint_version NAME PATH
if ! link_from_path actionlint "$ACTIONLINT_VERSION" actionlint_version; then
  log "building actionlint $ACTIONLINT_VERSION"
  GOBIN="$BIN_DIR" go install -trimpath \
    -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
    "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
  set_stamp "$BIN_DIR/actionlint" "$ACTIONLINT_VERSION"
fi
echo "$BIN_DIR"
