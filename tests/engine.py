"""The real Pulumi engine, for the layers that run it: tests/e2e (kwok) and tests/kind (Kind).

Both run a stack of a copy of the project (so `stack init` writes its encryption salt into the
copy's stack file, not into the work tree), with a file backend (or the caller's, e.g. a PostgreSQL
database: tests/backends.py) and a throwaway passphrase: no Pulumi account, nothing left behind.
Nothing here skips: if a script the tests need fails, the session fails and shows the end of its
output.
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
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from tests.backends import FileBackend, StateBackend
from tests.harness import PROJECT, ROOT

# What the program needs of the project folder. Not components/: the program imports the component
# library installed in .venv (README: Install), as any other program would.
PROJECT_SOURCES = ["Pulumi.yaml", "__main__.py", "settings", "app", "policy"]
# What `pulumi stack init` writes into a stack file so the stack's secrets decrypt: with a passphrase,
# only encryptionsalt; the other two with a key-management secrets provider.
SECRETS_SETTINGS = ("secretsprovider", "encryptedkey", "encryptionsalt")


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


def copy_project(stack_name: str, destination: Path, source: Path = ROOT) -> Path:
    """A copy of what the program needs of `source` (the work tree by default), with its `.venv` linked."""
    destination.mkdir(parents=True)
    for name in [*PROJECT_SOURCES, f"Pulumi.{stack_name}.yaml"]:
        if (source / name).is_dir():
            shutil.copytree(source / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source / name, destination / name)
    (destination / ".venv").symlink_to(ROOT / ".venv")
    return destination


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
        backend = FileBackend(scratch / "backend")
        backend.root.mkdir()
    pulumi_home = scratch / "pulumi-home"
    pulumi_home.mkdir()
    # pulumi-kubernetes writes the kubeconfig it was configured with to a new temporary file on every
    # run and never removes it (upstream behaviour, pkg/provider/util.go): keep those files in a
    # folder of our own and delete it with the stack, so no cluster credentials stay behind in /tmp.
    engine_tmp = Path(tempfile.mkdtemp(prefix="flask-engine-"))
    env = {
        "PATH": f"{tool_bin}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(pulumi_home),
        "PULUMI_BACKEND_URL": backend.url,
        **backend.env,
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
    settings = yaml.safe_load((stack.project_dir / name).read_text())
    carried = {key: settings[key] for key in SECRETS_SETTINGS if key in settings}
    assert "encryptionsalt" in carried, f"the stack file {name} has no encryptionsalt to carry over"
    stack_file = project / name
    stack_file.write_text(yaml.safe_dump({**(yaml.safe_load(stack_file.read_text()) or {}), **carried}))
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
