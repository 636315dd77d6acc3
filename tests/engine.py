"""The real Pulumi engine, for the layers that run it: tests/e2e (kwok) and tests/kind (Kind).

Both run a stack of a copy of the project with a file backend (or the caller's, e.g. a PostgreSQL
database: devtools/backends.py) and a throwaway passphrase, through the Automation API: no Pulumi
account, nothing left behind. The copy, the engine's folders and environment are devtools/stacks.py's,
which the benchmarks and the demo share; what is pytest's (failing a test, patching this process's
PATH) is here. Nothing here skips: if a script the tests need fails, the session fails and shows the
end of its output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from devtools.backends import StateBackend, file_backend
from devtools.harness import PROJECT, ROOT
from devtools.stacks import carry_secrets_settings, copy_project, secrets_settings, throwaway_env


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
    backend: StateBackend


@contextmanager
def project_stack(
    stack_name: str,
    kubeconfig: str,
    tool_bin: Path,
    scratch: Path,
    project: Path | None = None,
    backend: StateBackend | None = None,
) -> Iterator[ProjectStack]:
    """Stack `stack_name` of a copy of the project under `scratch` (or of `project`, a tree prepared
    by the caller, e.g. an earlier release's), its state in `backend` (default: a folder under
    `scratch`); destroyed and removed afterwards."""
    if project is None:
        project = copy_project(stack_name, scratch / "project")
    if backend is None:
        backend = file_backend(scratch / "backend")
    # Not under `scratch` (pytest keeps the last sessions' tmp_path): the kubeconfig copies the
    # provider leaves in TMPDIR go with the stack (devtools/stacks.py).
    engine_tmp = Path(tempfile.mkdtemp(prefix="flask-engine-"))
    env = throwaway_env(scratch, tool_bin, kubeconfig, backend, tmpdir=engine_tmp)
    with pytest.MonkeyPatch.context() as mp:
        # The Automation API looks the CLI up on this process's PATH.
        mp.setenv("PATH", env["PATH"])
        stack = auto.create_stack(stack_name, work_dir=str(project), opts=auto.LocalWorkspaceOptions(env_vars=env))
        try:
            yield ProjectStack(stack=stack, project_dir=project, kubeconfig=kubeconfig, backend=backend)
        finally:
            # Whatever happened, leave nothing on the cluster (the cluster itself is the caller's).
            try:
                stack.destroy()
            finally:
                stack.workspace.remove_stack(stack_name, force=True)
                shutil.rmtree(engine_tmp, ignore_errors=True)


def same_stack_in(stack: ProjectStack, project: Path) -> ProjectStack:
    """The same stack (backend, passphrase, state) run by another tree of the project, e.g. the next
    release's. That tree's stack file gets the stack's secrets settings, so the passphrase decrypts."""
    name = f"Pulumi.{stack.stack.name}.yaml"
    carried = secrets_settings(stack.project_dir / name)
    assert "encryptionsalt" in carried, f"the stack file {name} has no encryptionsalt to carry over"
    carry_secrets_settings(carried, project / name)
    options = auto.LocalWorkspaceOptions(env_vars=stack.stack.workspace.env_vars)
    selected = auto.select_stack(stack.stack.name, work_dir=str(project), opts=options)
    return ProjectStack(stack=selected, project_dir=project, kubeconfig=stack.kubeconfig, backend=stack.backend)


def declared_config(project: Path) -> dict[str, Any]:
    """The config keys a tree's Pulumi.yaml declares (without the project's `flask-k8s:` prefix), with
    their declarations."""
    declared = yaml.safe_load((project / "Pulumi.yaml").read_text()).get("config") or {}
    return {key.removeprefix(f"{PROJECT}:"): value for key, value in declared.items()}


def set_in_layout(stack: auto.Stack, project: Path, value: str, *, group: str, field: str, flat: str) -> None:
    """Sets a setting in the config layout of the tree that runs the stack: `group.field` by path where
    its Pulumi.yaml declares `group` an object (the grouped layout), else the flat key (4a17c1c's)."""
    declared = declared_config(project)
    if isinstance(declared.get(group), dict) and declared[group].get("type") == "object":
        stack.set_config(f"{PROJECT}:{group}.{field}", auto.ConfigValue(value=value), path=True)
    elif flat in declared:
        stack.set_config(f"{PROJECT}:{flat}", auto.ConfigValue(value=value))
    else:
        raise AssertionError(f"{project.name}/Pulumi.yaml declares neither an object `{group}` nor `{flat}`")


def set_cluster_context(stack: auto.Stack, project: Path, context: str) -> None:
    """Points a stack at a kubeconfig context: `cluster.context`, or `kubeContext` in the flat layout."""
    set_in_layout(stack, project, context, group="cluster", field="context", flat="kubeContext")
