"""Real-cluster fixtures: a Kind cluster with real containers (scripts/kind-cluster.sh), and the
`kind-ci` stack of the program deployed on it, its own ingress controller included.

The cluster is made once per session and deleted afterwards whatever the tests did; the Docker
engine, if the script started one, is stopped by its PID. Nothing is skipped: a cluster that
cannot be made fails the session with the end of the script's output.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client
from pulumi import automation as auto

from devtools.cluster import api_client
from devtools.harness import ROOT
from tests.engine import ProjectStack, pinned_tool_bin, project_stack, run_script
from tests.kind.traffic import IngressClient

STACK = "kind-ci"
CLUSTER = "flask-ci"  # Pulumi.kind-ci.yaml's cluster.context is kind-<this>
HOST = "flask-app.local"
NAMESPACE = "flask-app"
APP = "flask-app"
CONTROLLER_NAMESPACE = "traefik"  # cluster.ingressController.namespace's default
# With KIND_OFFLINE=1 and a cold cache, `up` builds the cluster's tools and images first: about 7
# minutes after the other layers' tools (measured), far longer when it must build those too.
CLUSTER_UP_TIMEOUT = 45 * 60


# What the tests measured (request counts during rollouts), printed at the end of the run whether the
# tests passed or not, so every CI log carries the numbers.
MEASURED: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if MEASURED:
        terminalreporter.section("measured on the real cluster")
        for line in MEASURED:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def tool_bin() -> Path:
    """The Pulumi engine and plugins only: the cluster's tools are scripts/kind-cluster.sh's business."""
    return pinned_tool_bin("scripts/toolchain/pulumi.sh", ("pulumi", "pulumi-language-python"))


@pytest.fixture(scope="session")
def kind_kubeconfig(tool_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("kind") / "kubeconfig"
    env = {"KIND_CLUSTER_NAME": CLUSTER}
    try:
        run_script("scripts/kind-cluster.sh", "up", str(path), env=env, timeout=CLUSTER_UP_TIMEOUT)
        yield str(path)
    finally:
        subprocess.run(
            ["bash", "scripts/kind-cluster.sh", "down"],
            cwd=ROOT,
            check=False,
            capture_output=True,
            env={**os.environ, **env},
        )


@pytest.fixture(scope="session")
def kube(kind_kubeconfig: str) -> client.ApiClient:
    return api_client(kind_kubeconfig)


@dataclass
class Deployed:
    """The kind-ci stack after its first `pulumi up`, and a client that reaches the app through the ingress."""

    stack: ProjectStack
    up: auto.UpResult
    ca_file: Path
    client: IngressClient


def offline_parameters(stack: auto.Stack) -> None:
    """Where no registry is reachable (KIND_OFFLINE=1), the two values a user's stack would not
    set: the controller's image, built here and loaded into the nodes by scripts/kind-cluster.sh,
    and the folder of its CRDs, written from Go modules (scripts/toolchain/crds.sh). Nothing else
    differs from what a user runs."""
    if os.environ.get("KIND_OFFLINE") != "1":
        return
    image = f"local/traefik:v{versions()['TRAEFIK_VERSION'].removeprefix('v')}"
    crds = run_script("scripts/toolchain/crds.sh").strip()
    for key, value in (("cluster.ingressController.image", image), ("cluster.ingressController.crds.dir", crds)):
        stack.set_config(f"flask-k8s:{key}", auto.ConfigValue(value), path=True)


def versions() -> dict[str, str]:
    """scripts/versions.env as a mapping."""
    lines = (ROOT / "scripts" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))


@pytest.fixture(scope="session")
def deployed(tool_bin: Path, kind_kubeconfig: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    scratch = tmp_path_factory.mktemp("kind-stack")
    with project_stack(STACK, kind_kubeconfig, tool_bin, scratch) as stack:
        offline_parameters(stack.stack)
        result = stack.stack.up(on_output=print)
        ca_file = scratch / "ca.crt"
        ca_file.write_text(str(stack.stack.outputs()["caCertificate"].value))
        ingress = IngressClient(HOST, str(ca_file))
        try:
            yield Deployed(stack=stack, up=result, ca_file=ca_file, client=ingress)
        finally:
            ingress.close()
