# Every field of the kubernetes client's models is Optional; in these tests a missing field fails
# the test on the spot anyway, so narrowing each one would only add noise.
# pyright: reportOptionalMemberAccess=false
"""Upgrading a deployed stack from the previous release to this code replaces and deletes nothing.

The previous release is the last one with ingress-nginx (a95f4cf): moving to Traefik, TLS owned by
the route and the components' 2.0.0 must keep every live object of the app.

The previous release's tree (from `git archive`: no worktree, no network) deploys its own `local`
stack on the session's kwok cluster; then this work tree's program takes the same stack over (same
file backend and passphrase, the stack file's encryption salt carried over), previews and updates
it. A resource renamed without `aliases`, or a change of an input that forces a replacement, shows
here as a delete or a replace, named by URN, and the Deployment and Namespace must keep their uid.
Creates and updates are allowed (they are printed).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from devtools.cluster import IngressControllerStandIn, not_found, wait_for
from devtools.harness import ROOT
from devtools.stacks import copy_project
from tests.e2e.cli import pulumi_cli
from tests.e2e.conftest import STACK, target_session_cluster
from tests.engine import ProjectStack, project_stack, same_stack_in, set_in_layout

pytestmark = pytest.mark.e2e

# The previous release: this code must upgrade a stack it deployed without replacing or deleting
# anything. At the next release, set it to that release's commit, in full (`git rev-parse <commit>`).
PREVIOUS_RELEASE = "a95f4cfb1d76e057a26844334b0425370e4a8788"

NAMESPACE = "flask-upgrade"  # a namespace of its own, beside the other end-to-end stacks
# Steps that delete a live object or make a new one in its place (Pulumi's replacement steps: the
# engine's deploy.IsReplacementStep, and delete).
DESTRUCTIVE_OPS = frozenset(
    {
        "delete",
        "replace",
        "create-replacement",
        "delete-replaced",
        "read-replacement",
        "discard-replaced",
        "import-replacement",
        "remove-pending-replace",
    }
)


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    diff: tuple[str, ...] = ()

    def __str__(self) -> str:
        changed = f" ({', '.join(self.diff)})" if self.diff else ""
        return f"{self.op:<18} {self.urn}{changed}"


def release_tree(commit: str, destination: Path) -> Path:
    """The project as of `commit`, extracted with `git archive | tar -x`, with the work tree's .venv."""
    known = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True, check=False
    )
    if known.returncode != 0:
        pytest.fail(
            f"commit {commit} (the previous release) is not in this clone, a shallow one perhaps: "
            "fetch the full history (`git fetch --unshallow`) and run the test again",
            pytrace=False,
        )
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True)
    destination.mkdir()
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive.stdout, check=True)
    (destination / ".venv").symlink_to(ROOT / ".venv")  # Pulumi.yaml: virtualenv: .venv
    # From 1.0.0 the components are a distribution, installed into the (shared) .venv from this work
    # tree; the release's own copy beside its __main__.py comes first on the program's path, so the
    # release runs with the library it shipped.
    library = destination / "components" / "flask_k8s_components"
    if library.is_dir():
        shutil.copytree(library, destination / "flask_k8s_components")
    return destination


def on_session_cluster(stack: ProjectStack) -> ProjectStack:
    """Aims the stack at the session's cluster, in a namespace of its own, in its tree's config layout."""
    target_session_cluster(stack)
    set_in_layout(stack.stack, stack.project_dir, NAMESPACE, group="namespace", field="name", flat="namespace")
    return stack


def preview_steps(preview: dict[str, Any]) -> list[Step]:
    """The steps of `pulumi preview --json` (with --show-replacement-steps)."""
    return [Step(s["op"], s["urn"], tuple(sorted(s.get("detailedDiff") or {}))) for s in preview["steps"]]


def update_steps(events: list[dict[str, Any]]) -> list[Step]:
    """The steps the engine took in `pulumi up --json`, from its events."""
    pre = [e["resourcePreEvent"]["metadata"] for e in events if "resourcePreEvent" in e]
    return [Step(m["op"], m["urn"], tuple(sorted(m.get("detailedDiff") or {}))) for m in pre]


def assert_nothing_destroyed(what: str, steps: Iterable[Step]) -> None:
    """Prints the creates and updates; fails naming every step that deletes or replaces (and the
    creates, where a renamed resource's new name shows)."""
    steps = list(steps)
    for step in steps:
        if step.op in ("create", "update"):
            print(f"{what}: {step}")
    destructive = [step for step in steps if step.op in DESTRUCTIVE_OPS]
    if destructive:
        created = [step for step in steps if step.op == "create"]
        pytest.fail(
            f"{what}: the upgrade from {PREVIOUS_RELEASE[:7]} deletes or replaces {len(destructive)} resource(s)"
            " (a renamed resource needs `aliases` with its old name):\n"
            + "\n".join(f"  {step}" for step in [*destructive, *created]),
            pytrace=False,
        )


def live_uids(kube: client.ApiClient, outputs: dict[str, Any]) -> dict[str, str]:
    """The uids of the app's Namespace and Deployment (named by the stack's outputs)."""
    namespace = client.CoreV1Api(kube).read_namespace(outputs["namespace"])
    deployment = client.AppsV1Api(kube).read_namespaced_deployment(outputs["deploymentName"], outputs["namespace"])
    return {"Namespace": str(namespace.metadata.uid), "Deployment": str(deployment.metadata.uid)}


def test_upgrade_from_the_previous_release_replaces_and_deletes_nothing(
    tool_bin: Path,
    kubeconfig: str,
    kube: client.ApiClient,
    ingress_controller: IngressControllerStandIn,
    tmp_path: Path,
) -> None:
    release = release_tree(PREVIOUS_RELEASE, tmp_path / "release")
    with project_stack(STACK, kubeconfig, tool_bin, tmp_path, project=release) as previous:
        on_session_cluster(previous).stack.up()
        outputs = {key: value.value for key, value in previous.stack.outputs().items()}
        before = live_uids(kube, outputs)

        current = on_session_cluster(same_stack_in(previous, copy_project(STACK, tmp_path / "current")))
        cli = pulumi_cli(current, tool_bin)
        run, preview = cli.preview_json("--show-replacement-steps")
        assert run.returncode == 0, run.tail()
        assert_nothing_destroyed("preview", preview_steps(preview))

        run, events = cli.up_json()
        assert run.returncode == 0, run.tail()
        assert_nothing_destroyed("up", update_steps(events))
        assert live_uids(kube, outputs) == before
    # Destroyed on the way out, whatever happened (project_stack): nothing of it stays on the cluster.
    core = client.CoreV1Api(kube)
    wait_for(f"namespace {NAMESPACE} to go", lambda: not_found(lambda: core.read_namespace(NAMESPACE)), timeout=60)
