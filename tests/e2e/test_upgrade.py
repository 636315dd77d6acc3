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

A second test gives the previous release's stack what a dev stack of it had: ingress-nginx, from a
trimmed copy of the release's Kind manifest (tests/e2e/ingress-nginx-kind.yaml). This code then
installs Traefik in the same `up`: the ingress-nginx objects must go, IngressClass `nginx` must
stay (both controllers declare it), and no app object may be deleted or replaced.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from pulumi import automation as auto

from devtools.cluster import IngressControllerStandIn, label_ingress_ready_node, not_found, wait_for
from devtools.harness import PROJECT, ROOT
from devtools.stacks import copy_project
from tests.e2e.cli import pulumi_cli
from tests.e2e.conftest import STACK, target_session_cluster
from tests.engine import ProjectStack, project_stack, run_script, same_stack_in, set_in_layout

pytestmark = pytest.mark.e2e

# The previous release (components 2.0.0): this code must upgrade a stack it deployed without
# replacing or deleting anything, whichever route API the stack uses. At the next release, set it to
# that release's commit, in full (`git rev-parse <commit>`).
PREVIOUS_RELEASE = "5022a8f234b909f0389ceb336eb45420f93ba2bc"
# The last release that installed ingress-nginx (components 1.0.0): its dev stacks move to Traefik.
INGRESS_NGINX_RELEASE = "a95f4cfb1d76e057a26844334b0425370e4a8788"

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
    old_urn: str = ""
    """The URN of the resource's old state, when it had one (another URN through an alias)."""

    def __str__(self) -> str:
        changed = f" ({', '.join(self.diff)})" if self.diff else ""
        was = f" (was {self.old_urn})" if self.old_urn and self.old_urn != self.urn else ""
        return f"{self.op:<18} {self.urn}{changed}{was}"


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
    return [
        Step(s["op"], s["urn"], tuple(sorted(s.get("detailedDiff") or {})), (s.get("oldState") or {}).get("urn", ""))
        for s in preview["steps"]
    ]


def update_steps(events: list[dict[str, Any]]) -> list[Step]:
    """The steps the engine took in `pulumi up --json`, from its events."""
    pre = [e["resourcePreEvent"]["metadata"] for e in events if "resourcePreEvent" in e]
    return [
        Step(m["op"], m["urn"], tuple(sorted(m.get("detailedDiff") or {})), (m.get("old") or {}).get("urn", ""))
        for m in pre
    ]


def assert_nothing_destroyed(what: str, steps: Iterable[Step], release: str = PREVIOUS_RELEASE) -> None:
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
            f"{what}: the upgrade from {release[:7]} deletes or replaces {len(destructive)} resource(s)"
            " (a renamed resource needs `aliases` with its old name):\n"
            + "\n".join(f"  {step}" for step in [*destructive, *created]),
            pytrace=False,
        )


def live_uids(kube: client.ApiClient, outputs: dict[str, Any]) -> dict[str, str]:
    """The uids of the app's Namespace and Deployment (named by the stack's outputs)."""
    namespace = client.CoreV1Api(kube).read_namespace(outputs["namespace"])
    deployment = client.AppsV1Api(kube).read_namespaced_deployment(outputs["deploymentName"], outputs["namespace"])
    return {"Namespace": str(namespace.metadata.uid), "Deployment": str(deployment.metadata.uid)}


# Each route the previous release could deploy: the Ingress of the local stack, or Gateway API with
# the program's own controller (its Gateway was renamed in 3.0.0, with an alias).
CONTROLLER_NAMESPACE = "traefik-upgrade"
ROUTES: dict[str, dict[str, str]] = {
    "ingress": {},
    "gateway": {
        "autoscaling.enabled": "false",
        "cluster.ingressController.install": "true",
        "cluster.ingressController.namespace": CONTROLLER_NAMESPACE,
        "namespace.networkPolicy.ingressControllerNamespace": CONTROLLER_NAMESPACE,
        "ingress.api": "gateway",
    },
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_upgrade_from_the_previous_release_replaces_and_deletes_nothing(
    route: str,
    tool_bin: Path,
    kubeconfig: str,
    kube: client.ApiClient,
    ingress_controller: IngressControllerStandIn,
    tmp_path: Path,
) -> None:
    config = dict(ROUTES[route])
    if config.get("cluster.ingressController.install") == "true":
        config["cluster.ingressController.crds.dir"] = run_script("scripts/toolchain/crds.sh").strip()
        label_ingress_ready_node(kube)
    release = release_tree(PREVIOUS_RELEASE, tmp_path / "release")
    with project_stack(STACK, kubeconfig, tool_bin, tmp_path, project=release) as previous:
        on_session_cluster(previous)
        set_config(previous, config)
        previous.stack.up()
        outputs = {key: value.value for key, value in previous.stack.outputs().items()}
        before = live_uids(kube, outputs)

        current = on_session_cluster(same_stack_in(previous, copy_project(STACK, tmp_path / "current")))
        set_config(current, config)
        cli = pulumi_cli(current, tool_bin)
        run, preview = cli.preview_json("--show-replacement-steps")
        assert run.returncode == 0, run.tail()
        assert_nothing_destroyed(f"preview ({route})", preview_steps(preview))

        run, events = cli.up_json()
        assert run.returncode == 0, run.tail()
        assert_nothing_destroyed(f"up ({route})", update_steps(events))
        assert live_uids(kube, outputs) == before
        if route == "gateway":
            # The Gateway kept its live object (and so its generated name) under its new Pulumi name.
            listed: Any = client.CustomObjectsApi(kube).list_namespaced_custom_object(
                "gateway.networking.k8s.io", "v1", NAMESPACE, "gateways"
            )
            gateways: list[dict[str, Any]] = listed["items"]
            assert [g["metadata"]["name"].rsplit("-", 1)[0] for g in gateways] == ["flask-app-ingress-gateway-gateway"]
    # Destroyed on the way out, whatever happened (project_stack): nothing of it stays on the cluster.
    core = client.CoreV1Api(kube)
    wait_for(f"namespace {NAMESPACE} to go", lambda: not_found(lambda: core.read_namespace(NAMESPACE)), timeout=60)


# --- A dev stack of the previous release, with ingress-nginx, moved over to Traefik -----------------

INGRESS_NGINX_MANIFEST = Path(__file__).with_name("ingress-nginx-kind.yaml")
INGRESS_NGINX_NAMESPACE = "ingress-nginx"
# The previous release's component that applied the manifest (a95f4cf's ingress_nginx.py): every
# object of the manifest is a child of it, and the only resources the upgrade may delete.
INGRESS_NGINX_TYPE = "flask-k8s:components:IngressNginx"
# The new controller's labels on the objects it owns (ingress_controller.py; `ingress-controller`
# is __main__.py's name for it).
TRAEFIK_LABELS = {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "ingress-controller"}


def with_ingress_nginx_from_file(release: Path) -> Path:
    """The release tree, changed in two places so its stack installs ingress-nginx on kwok: the
    manifest is this test's file instead of the release's URL (out of reach offline), and its
    settings let the `existing` target install it (the release allowed it with target kind only,
    and kwok is no Kind cluster). Nothing else of the release changes."""
    edits = {
        # The copy of the library the release's program imports (release_tree).
        release / "flask_k8s_components" / "ingress_nginx.py": (
            'MANIFEST_URL = (\n    "https://raw.githubusercontent.com/kubernetes/ingress-nginx/{version}/deploy/static/provider/kind/deploy.yaml"\n)',
            f"MANIFEST_URL = {json.dumps(str(INGRESS_NGINX_MANIFEST))}",
        ),
        release / "settings" / "checks.py": (
            '        if cluster.ingress_nginx.install:\n            p.add("cluster.ingressNginx.install", True, '
            '"installs the Kind flavour: only with cluster.target kind")\n',
            "",
        ),
    }
    for path, (old, new) in edits.items():
        text = path.read_text()
        assert text.count(old) == 1, f"{path.relative_to(release)} of {INGRESS_NGINX_RELEASE[:7]} has no unique {old!r}"
        path.write_text(text.replace(old, new))
    return release


def set_config(stack: ProjectStack, values: dict[str, str]) -> None:
    for key, value in values.items():
        stack.stack.set_config(f"{PROJECT}:{key}", auto.ConfigValue(value=value), path=True)


def is_ingress_nginx(urn: str) -> bool:
    """Whether a URN is the old IngressNginx component or one of its descendants."""
    return INGRESS_NGINX_TYPE in urn.split("::")[2].split("$")


def assert_only_ingress_nginx_destroyed(what: str, steps: Iterable[Step]) -> list[Step]:
    """Prints every step that is not `same`; fails naming each destructive step of anything but the
    old ingress-nginx objects (by their old URN: one may live on under an alias). Returns the
    destructive steps (ingress-nginx's)."""
    steps = list(steps)
    for step in steps:
        if step.op != "same":
            print(f"{what}: {step}")
    destructive = [step for step in steps if step.op in DESTRUCTIVE_OPS]
    others = [step for step in destructive if not is_ingress_nginx(step.old_urn or step.urn)]
    if others:
        pytest.fail(
            f"{what}: moving from ingress-nginx deletes or replaces {len(others)} resource(s) other than"
            " ingress-nginx's:\n" + "\n".join(f"  {step}" for step in others),
            pytrace=False,
        )
    return destructive


def ingress_nginx_leftovers(kube: client.ApiClient) -> list[str]:
    """The manifest's objects still on the cluster: its namespace and its cluster-scoped RBAC (the
    namespaced ones go with the namespace)."""
    core, rbac = client.CoreV1Api(kube), client.RbacAuthorizationV1Api(kube)
    probes = {
        f"Namespace {INGRESS_NGINX_NAMESPACE}": lambda: core.read_namespace(INGRESS_NGINX_NAMESPACE),
        "ClusterRole ingress-nginx": lambda: rbac.read_cluster_role("ingress-nginx"),
        "ClusterRoleBinding ingress-nginx": lambda: rbac.read_cluster_role_binding("ingress-nginx"),
    }
    return [name for name, probe in probes.items() if not not_found(probe)]


def pod_report(kube: client.ApiClient, namespace: str) -> str:
    """Each pod of a namespace with its phase, node and scheduling condition (for failure messages)."""
    lines = []
    for pod in client.CoreV1Api(kube).list_namespaced_pod(namespace).items:
        scheduled = next((c for c in pod.status.conditions or [] if c.type == "PodScheduled"), None)
        why = f" {scheduled.reason}: {scheduled.message}" if scheduled and scheduled.status != "True" else ""
        lines.append(f"  {namespace}/{pod.metadata.name} {pod.status.phase} on {pod.spec.node_name}{why}")
    return "\n".join(lines) or f"  (no pods in {namespace})"


def test_upgrade_from_ingress_nginx_deletes_it_and_keeps_the_app_and_ingress_class(
    tool_bin: Path,
    kubeconfig: str,
    kube: client.ApiClient,
    ingress_controller: IngressControllerStandIn,
    tmp_path: Path,
) -> None:
    crds = run_script("scripts/toolchain/crds.sh").strip()
    # Both controllers take host ports there.
    label_ingress_ready_node(kube)
    networking = client.NetworkingV1Api(kube)

    release = with_ingress_nginx_from_file(release_tree(INGRESS_NGINX_RELEASE, tmp_path / "release"))
    with project_stack(STACK, kubeconfig, tool_bin, tmp_path, project=release) as previous:
        on_session_cluster(previous)
        set_config(previous, {"cluster.ingressNginx.install": "true"})
        previous.stack.up()
        outputs = {key: value.value for key, value in previous.stack.outputs().items()}
        before = live_uids(kube, outputs)
        assert ingress_nginx_leftovers(kube) == [
            f"Namespace {INGRESS_NGINX_NAMESPACE}",
            "ClusterRole ingress-nginx",
            "ClusterRoleBinding ingress-nginx",
        ], "the previous release did not install ingress-nginx"
        old_class = networking.read_ingress_class("nginx")
        print(f"before: IngressClass nginx uid {old_class.metadata.uid}, labels {old_class.metadata.labels}")
        print(pod_report(kube, INGRESS_NGINX_NAMESPACE))

        # What a user of the dev stack sets (README: Migrating); this tree's stack file has none of the
        # old keys, which it would refuse.
        current = on_session_cluster(same_stack_in(previous, copy_project(STACK, tmp_path / "current")))
        set_config(current, {"cluster.ingressController.install": "true", "cluster.ingressController.crds.dir": crds})
        cli = pulumi_cli(current, tool_bin)
        run, preview = cli.preview_json("--show-replacement-steps")
        assert run.returncode == 0, run.tail()
        planned = assert_only_ingress_nginx_destroyed("preview", preview_steps(preview))
        assert planned, "preview: nothing of ingress-nginx is to be deleted"

        # The controller's Deployment may wait up to its 5-minute create timeout: give the CLI longer.
        run = cli.run("up", "--yes", "--skip-preview", "--json", timeout=600)
        events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
        failures = [
            f"{e['diagnosticEvent'].get('urn', '')}: {e['diagnosticEvent']['message'].strip()}"
            for e in events
            if e.get("diagnosticEvent", {}).get("severity") == "error"
        ]
        assert run.returncode == 0, "\n".join(
            ["`pulumi up` failed:", *failures, pod_report(kube, "traefik"), pod_report(kube, INGRESS_NGINX_NAMESPACE)]
        )
        destroyed = assert_only_ingress_nginx_destroyed("up", update_steps(events))
        deleted = [step for step in destroyed if step.op in ("delete", "delete-replaced")]
        print(f"up: {len(deleted)} ingress-nginx resource(s) deleted, of {len(destroyed)} destructive step(s)")

        assert ingress_nginx_leftovers(kube) == []
        assert live_uids(kube, outputs) == before
        # IngressClass `nginx`: there, and the new controller's (its labels, not ingress-nginx's).
        assert not not_found(lambda: networking.read_ingress_class("nginx")), (
            "IngressClass nginx is gone from the cluster after the upgrade"
        )
        ingress_class = networking.read_ingress_class("nginx")
        print(f"after: IngressClass nginx uid {ingress_class.metadata.uid}, labels {ingress_class.metadata.labels}")
        assert ingress_class.spec.controller == "k8s.io/ingress-nginx"
        labels = ingress_class.metadata.labels or {}
        assert TRAEFIK_LABELS.items() <= labels.items(), labels
        assert "app.kubernetes.io/part-of" not in labels, labels

        # Pulumi's state and the cluster agree: a refreshing preview finds nothing to do.
        run, preview = cli.preview_json("--refresh")
        assert run.returncode == 0, run.tail()
        drift = [step for step in preview_steps(preview) if step.op not in ("same", "refresh")]
        assert drift == [], "after the upgrade, `pulumi preview --refresh` plans:\n" + "\n".join(
            f"  {step}" for step in drift
        )
    core = client.CoreV1Api(kube)
    wait_for(f"namespace {NAMESPACE} to go", lambda: not_found(lambda: core.read_namespace(NAMESPACE)), timeout=60)
