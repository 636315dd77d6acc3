"""End-to-end fixtures: the pinned toolchain, a kwok control plane, and a Pulumi stack on it.

Nothing here is skipped: if the tools cannot be made available, the session fails and says why.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client
from pulumi import automation as auto

from tests.e2e.cluster import IngressControllerStandIn, api_client
from tests.harness import ROOT

STACK = "local"
# What the program needs of the project folder; the tests run a copy so that `stack init` writes
# its encryption salt into the copy's Pulumi.local.yaml, not into the work tree.
PROJECT_FILES = ["Pulumi.yaml", f"Pulumi.{STACK}.yaml", "__main__.py", "settings.py", "components", "app", "policy"]


def _run_script(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["bash", *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} failed (exit {result.returncode}); the end-to-end tests need it.\n"
            f"--- stderr (last 60 lines) ---\n" + "\n".join(result.stderr.splitlines()[-60:]),
            pytrace=False,
        )
    return result.stdout.strip()


@pytest.fixture(scope="session")
def tool_bin() -> Path:
    """The folder with the pinned pulumi, plugins, kube-* and kwok binaries (built once, cached)."""
    bin_dir = Path(_run_script("scripts/toolchain.sh").splitlines()[-1])
    for tool in ("pulumi", "pulumi-language-python", "kwokctl", "kube-apiserver", "etcd"):
        if not (bin_dir / tool).exists():
            pytest.fail(f"scripts/toolchain.sh finished but {tool} is missing from its bin folder", pytrace=False)
    return bin_dir


@pytest.fixture(scope="session")
def kubeconfig(tool_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh kwok control plane for the session, deleted afterwards whatever the tests did."""
    path = tmp_path_factory.mktemp("kwok") / "kubeconfig"
    try:
        _run_script("scripts/kwok-cluster.sh", "up", str(path))
        yield str(path)
    finally:
        subprocess.run(["bash", "scripts/kwok-cluster.sh", "down"], cwd=ROOT, check=False, capture_output=True)


@pytest.fixture(scope="session")
def kube(kubeconfig: str) -> client.ApiClient:
    return api_client(kubeconfig)


@pytest.fixture(scope="session")
def ingress_controller(kube: client.ApiClient) -> Iterator[IngressControllerStandIn]:
    with IngressControllerStandIn(kube) as stand_in:
        yield stand_in


@dataclass
class E2EStack:
    stack: auto.Stack
    project_dir: Path
    kubeconfig: str


@pytest.fixture(scope="session")
def e2e_stack(
    tool_bin: Path,
    kubeconfig: str,
    ingress_controller: IngressControllerStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[E2EStack]:
    """The `local` stack of a copy of the project, with a file backend: no Pulumi account."""
    project = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, project / name)
    (project / ".venv").symlink_to(ROOT / ".venv")
    backend = tmp_path_factory.mktemp("backend")
    # pulumi-kubernetes writes the kubeconfig it was configured with to a new temporary file on every
    # run and never removes it (upstream behaviour, pkg/provider/util.go): keep those files in a
    # folder of our own and delete it with the stack, so no cluster credentials stay behind in /tmp.
    engine_tmp = Path(tempfile.mkdtemp(prefix="flask-e2e-engine-"))
    env = {
        "PATH": f"{tool_bin}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(tmp_path_factory.mktemp("pulumi-home")),
        "PULUMI_BACKEND_URL": backend.as_uri(),
        # A throwaway passphrase for a throwaway backend, never written anywhere.
        "PULUMI_CONFIG_PASSPHRASE": secrets.token_urlsafe(24),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "KUBECONFIG": kubeconfig,
        "TMPDIR": str(engine_tmp),
    }
    with pytest.MonkeyPatch.context() as mp:
        # The Automation API looks the CLI up on this process's PATH.
        mp.setenv("PATH", env["PATH"])
        stack = auto.create_stack(
            STACK,
            work_dir=str(project),
            opts=auto.LocalWorkspaceOptions(env_vars=env),
        )
        try:
            yield E2EStack(stack=stack, project_dir=project, kubeconfig=kubeconfig)
        finally:
            # Whatever happened, leave nothing on the cluster (the cluster itself goes with `kubeconfig`).
            try:
                stack.destroy()
            finally:
                stack.workspace.remove_stack(STACK, force=True)
                shutil.rmtree(engine_tmp, ignore_errors=True)
