#!/usr/bin/env bash
# Makes the pinned kube-score (a static checker of Kubernetes objects: security context, probes,
# NetworkPolicy targets, image pull policy, ...) available in $BIN_DIR, built from its Go module like
# the other linters. checkov, the PyPI alternative, would add about 60 packages to the one lock
# (boto3, numpy, rustworkx, docker, gitpython, ...) for one scan. A matching kube-score already on
# PATH is used instead. Prints $BIN_DIR on stdout.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
: "${KUBE_SCORE_VERSION:?KUBE_SCORE_VERSION is not set in scripts/versions.env}"
lock_toolchain kube-score

if stamped "$BIN_DIR/kube-score" "$KUBE_SCORE_VERSION"; then
  echo "$BIN_DIR"
  exit 0
fi
# "kube-score version: 1.20.0, commit: ..., built: ..."
kube_score_version() { "$2" version | sed -n 's/^kube-score version: \([^,]*\),.*/\1/p'; }
if ! link_from_path kube-score "$KUBE_SCORE_VERSION" kube_score_version; then
  log "building kube-score $KUBE_SCORE_VERSION"
  GOBIN="$BIN_DIR" go install -trimpath -ldflags "-s -w -X main.version=$KUBE_SCORE_VERSION" \
    "github.com/zegl/kube-score/cmd/kube-score@v$KUBE_SCORE_VERSION"
  set_stamp "$BIN_DIR/kube-score" "$KUBE_SCORE_VERSION"
fi
echo "$BIN_DIR"
