"""End-to-end fixtures: the pinned toolchain, a kwok control plane, a private PostgreSQL server for
the shared-state backend, and a Pulumi stack on them.

Nothing here is skipped: if the tools cannot be made available, the session fails and says why.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from devtools.backends import FILE, POSTGRES, StateBackend, file_backend, postgres_backend
from devtools.cluster import IngressControllerStandIn, api_client
from devtools.harness import ROOT
from devtools.postgres import PostgresError, PostgresServer, postgres_server
from tests.engine import ProjectStack, pinned_tool_bin, project_stack, run_script, set_cluster_context

STACK = "local"
E2EStack = ProjectStack


@pytest.fixture(scope="session")
def tool_bin() -> Path:
    """The folder with the pinned pulumi, plugins, kube-* and kwok binaries (built once, cached)."""
    return pinned_tool_bin()


@pytest.fixture(scope="session")
def kubeconfig(tool_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh kwok control plane for the session, deleted afterwards whatever the tests did."""
    path = tmp_path_factory.mktemp("kwok") / "kubeconfig"
    try:
        run_script("scripts/kwok-cluster.sh", "up", str(path))
        yield str(path)
    finally:
        subprocess.run(["bash", "scripts/kwok-cluster.sh", "down"], cwd=ROOT, check=False, capture_output=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the session (the backend a team shares), from the distribution's
    binaries; stopped by its PID afterwards, whatever the tests did, and checked gone (no process,
    nothing on its port: the teardown fails otherwise). Started only if a test asks for it."""
    try:
        with postgres_server() as server:
            yield server
    except PostgresError as failed:
        pytest.fail(f"the PostgreSQL layer needs a server: {failed}", pytrace=False)


def state_backend(kind: str, name: str, scratch: Path, request: pytest.FixtureRequest) -> StateBackend:
    """A fresh, empty backend of `kind` for one stack: a folder under `scratch`, or a database `name`
    of its own on the session's PostgreSQL server."""
    if kind == FILE:
        return file_backend(scratch / "backend")
    assert kind == POSTGRES, kind
    return postgres_backend(request.getfixturevalue("postgres"), name)


@pytest.fixture(scope="session")
def kube(kubeconfig: str) -> client.ApiClient:
    return api_client(kubeconfig)


@pytest.fixture(scope="session")
def ingress_controller(kube: client.ApiClient) -> Iterator[IngressControllerStandIn]:
    with IngressControllerStandIn(kube) as stand_in:
        yield stand_in


@pytest.fixture(scope="session")
def e2e_stack(
    tool_bin: Path,
    kubeconfig: str,
    ingress_controller: IngressControllerStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ProjectStack]:
    """The `local` stack of a copy of the project, with a file backend: no Pulumi account."""
    with project_stack(STACK, kubeconfig, tool_bin, tmp_path_factory.mktemp("local-stack")) as stack:
        target_session_cluster(stack)
        yield stack


def target_session_cluster(stack: ProjectStack) -> None:
    """Points the stack at the session's cluster, whatever KWOK_CLUSTER_NAME named it.

    Pulumi.local.yaml names the context of the default cluster (kwok-flask-e2e); with another
    KWOK_CLUSTER_NAME (two people testing on one machine) the context is kwok-<name>, and the stack
    would otherwise fail to find it. Set in the project copy's stack file, never in the work tree, and
    in that copy's config layout (an earlier release's tree may have another).
    """
    context = yaml.safe_load(Path(stack.kubeconfig).read_text())["current-context"]
    set_cluster_context(stack.stack, stack.project_dir, context)
