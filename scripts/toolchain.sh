#!/usr/bin/env bash
# Makes every pinned tool of the end-to-end tests available and prints the folder they are in:
# the Pulumi CLI, its Python language host and provider plugins (toolchain/pulumi.sh), the
# Kubernetes control plane run by kwok (toolchain/kube.sh), and the CRDs the program installs with
# its ingress controller (toolchain/crds.sh). Versions: scripts/versions.env.
#
# A tool already on PATH at the pinned version is used as it is; anything else is built from its Go
# module into a cache outside the work tree (default ~/.cache/flask-k8s-pulumi, or $FLASK_K8S_CACHE),
# once: a second run takes seconds. Usage: PATH="$(scripts/toolchain.sh):$PATH"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/toolchain/pulumi.sh" >/dev/null
bash "$here/toolchain/kube.sh" >/dev/null
bash "$here/toolchain/crds.sh" >/dev/null
# shellcheck source-path=SCRIPTDIR source=toolchain/common.sh
source "$here/toolchain/common.sh"
echo "$BIN_DIR"
