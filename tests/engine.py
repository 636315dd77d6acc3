"""The real Pulumi engine, for the layers that run it: tests/e2e (kwok) and tests/kind (Kind).

Both run a stack of a copy of the project (so `stack init` writes its encryption salt into the
copy's stack file, not into the work tree), with a file backend and a throwaway passphrase: no
Pulumi account, nothing left behind. Nothing here skips: if a script the tests need fails, the
session fails and shows the end of its output.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.harness import ROOT

# What the program needs of the project folder.
PROJECT_SOURCES = ["Pulumi.yaml", "__main__.py", "settings", "components", "app", "policy"]


def run_script(*args: str, env: dict[str, str] | None = None, timeout: float | None = None) -> str:
    """Runs `bash ARGS...` in the project; returns its stdout, or fails the test with its stderr."""
    result = subprocess.run(
        ["bash", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=timeout,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} failed (exit {result.returncode}); the tests need it.\n"
            f"--- stderr (last 60 lines) ---\n" + "\n".join(result.stderr.splitlines()[-60:]),
            pytrace=False,
        )
    return result.stdout.strip()


def pinned_tool_bin(
    script: str = "scripts/toolchain.sh",
    tools: tuple[str, ...] = ("pulumi", "pulumi-language-python", "kwokctl", "kube-apiserver", "etcd"),
) -> Path:
    """The folder with the pinned tools `script` makes available (built once, cached, or linked)."""
    bin_dir = Path(run_script(script).splitlines()[-1])
    for tool in tools:
        if not (bin_dir / tool).exists():
            pytest.fail(f"{script} finished but {tool} is missing from its bin folder", pytrace=False)
    return bin_dir


@dataclass
class ProjectStack:
    stack: auto.Stack
    project_dir: Path
    kubeconfig: str


@contextmanager
def project_stack(stack_name: str, kubeconfig: str, tool_bin: Path, scratch: Path) -> Iterator[ProjectStack]:
    """Stack `stack_name` of a copy of the project under `scratch`; destroyed and removed afterwards."""
    project = scratch / "project"
    project.mkdir()
    for name in [*PROJECT_SOURCES, f"Pulumi.{stack_name}.yaml"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, project / name)
    (project / ".venv").symlink_to(ROOT / ".venv")
    backend = scratch / "backend"
    backend.mkdir()
    pulumi_home = scratch / "pulumi-home"
    pulumi_home.mkdir()
    # pulumi-kubernetes writes the kubeconfig it was configured with to a new temporary file on every
    # run and never removes it (upstream behaviour, pkg/provider/util.go): keep those files in a
    # folder of our own and delete it with the stack, so no cluster credentials stay behind in /tmp.
    engine_tmp = Path(tempfile.mkdtemp(prefix="flask-engine-"))
    env = {
        "PATH": f"{tool_bin}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(pulumi_home),
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
        stack = auto.create_stack(stack_name, work_dir=str(project), opts=auto.LocalWorkspaceOptions(env_vars=env))
        try:
            yield ProjectStack(stack=stack, project_dir=project, kubeconfig=kubeconfig)
        finally:
            # Whatever happened, leave nothing on the cluster (the cluster itself is the caller's).
            try:
                stack.destroy()
            finally:
                stack.workspace.remove_stack(stack_name, force=True)
                shutil.rmtree(engine_tmp, ignore_errors=True)
