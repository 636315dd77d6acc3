#!/usr/bin/env bash
# Every test of the project, layer by layer, each stopping the run when it fails:
#   0. set-up              .venv with the locked dependencies (scripts/install.sh; quick once done)
#   1. lint and types      ruff, ruff format, pyright, yamllint, actionlint (.pre-commit-config.yaml)
#   1b. manifest scan      kube-score over the objects dev and prod render under mocks; each finding
#                          fixed or allow-listed with its reason (tests/manifest_scan.py)
#   2. unit                Pulumi mocks, seconds (tests/unit), and the benchmarks' own code
#                          (benchmarks/test_*.py)
#   2b. library            the component library's wheel in an empty virtualenv, its example under
#                          mocks there (tests/library)
#   3. end-to-end          the real engine against a kwok API server (tests/e2e), a YAML program
#                          using the component package included
#   3b. benchmarks         one round of each deployment benchmark on kwok, so they never rot; their
#                          numbers are printed, never checked against a threshold (benchmarks/)
#   4. real cluster        the program on a Kind cluster with real containers behind an ingress (tests/kind)
# Sets up .venv itself (layer 0), so a fresh clone needs no step before it. Layer 3 needs
# PostgreSQL's server binaries (README: Install). Layer 4 needs Docker and kind, or KIND_OFFLINE=1 on
# a machine that reaches no container registry (then it builds them; see scripts/kind-cluster.sh).
# Each layer's wall time is printed after it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=$SECONDS
layer() { # layer NAME COMMAND...
  local t0=$SECONDS
  echo "== $1"
  shift
  "$@"
  echo "== done in $((SECONDS - t0)) s (total $((SECONDS - started)) s)"
}

layer "set-up: .venv (scripts/install.sh)" bash scripts/install.sh
layer "lint and types" .venv/bin/pre-commit run --all-files --show-diff-on-failure
layer "manifest scan: kube-score over dev and prod, findings against tests/kube-score-allow.txt" \
  bash -c '.venv/bin/python -m tests.manifest_scan --kube-score "$(bash scripts/toolchain/kube-score.sh)/kube-score"'
layer "unit tests" .venv/bin/pytest tests/unit benchmarks
layer "component library: its wheel in an empty virtualenv, the example program under mocks" .venv/bin/pytest tests/library
# The toolchain scripts print their bin folder on stdout (for callers that put it on PATH): a path
# of this machine, which a test log has no use for; their progress goes to stderr.
layer "pinned Pulumi engine, plugins and kwok control plane (scripts/toolchain.sh)" bash -c 'bash scripts/toolchain.sh >/dev/null'
layer "end-to-end tests: real engine, kwok API server" .venv/bin/pytest tests/e2e
layer "Helm 4, for the benchmarks (scripts/toolchain/helm.sh)" bash -c 'bash scripts/toolchain/helm.sh >/dev/null'
layer "benchmark, one round: pulumi vs kubectl vs Helm 4 on kwok" .venv/bin/python benchmarks/deploy_tools.py --rounds 1
layer "benchmark, one round: 1 and 2 apps as fleet stacks vs one stack vs Helm 4 on kwok" .venv/bin/python benchmarks/fleet.py --apps 1,2 --parallel 2
layer "benchmark, one round: file backend vs PostgreSQL on kwok" .venv/bin/python benchmarks/state_backends.py --apps 2
# Building a cold cluster's tools and images takes long: do it here, where its progress shows, and
# not inside the test fixture that makes the cluster.
layer "Kind cluster tools and images (scripts/kind-cluster.sh prepare)" bash scripts/kind-cluster.sh prepare
layer "real-cluster tests: Kind, real containers, ingress, TLS" .venv/bin/pytest tests/kind
