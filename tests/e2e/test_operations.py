# Every field of the kubernetes client's models is Optional; in these tests a missing field fails
# the test on the spot anyway, so narrowing each one would only add noise.
# pyright: reportOptionalMemberAccess=false, reportOptionalSubscript=false, reportOptionalIterable=false
# pyright: reportArgumentType=false
"""Operating the stack with the `pulumi` CLI: drift, a killed update, two updates at once, secrets.

The program runs here as a stack of its own (a second file backend, namespace flask-ops) in the
session's kwok cluster, with the HPA off: with an HPA the replica count is the HPA's, and a hand
scale would be no drift at all. The hand edits are made with kubectl itself, because
pulumi-kubernetes treats fields written by `kubectl*` field managers differently from other
clients' (test_c). Every test leaves the stack deployed and converged (a refreshing preview shows
no change) for the next.

The tests of the state itself (a killed update, two updates at once, no secret in the state) run
twice: with the stack's state on a file backend, then in a PostgreSQL database, the shared backend a
team would use (the drift tests run once: where the state is kept changes nothing for them).

What the runbook (README) takes from here: a hand edit of a field the program declares (a deleted
ConfigMap, `kubectl scale`, `kubectl edit` or `patch`) is shown by `pulumi preview --refresh` and
put back by `pulumi up --refresh`; an env var added with `kubectl set env` is shown by neither,
survives `up --refresh`, and goes at the next update of the Deployment; after a killed `pulumi up`
the backend's lock (file or PostgreSQL) stays until `pulumi cancel --yes`, after which `pulumi up`
finishes the update and clears its pending operation.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from pulumi import automation as auto

from devtools.backends import BACKENDS, FILE, POSTGRES, PostgresBackend
from devtools.cluster import IngressControllerStandIn, not_found, wait_for
from devtools.postgres import PostgresServer
from devtools.stacks import PulumiCli, Run
from tests.e2e.cli import (
    Kubectl,
    end_processes,
    kill_process_group,
    pending_operations,
    pulumi_cli,
    resource_type,
    summary_event,
)
from tests.e2e.conftest import STACK, state_backend, target_session_cluster
from tests.engine import project_stack

pytestmark = pytest.mark.e2e

NAMESPACE = "flask-ops"
APP = "flask-app"
CONTAINER = "flask"
REPLICAS = 3  # Pulumi.local.yaml
OPS_CONFIG = {"flask-k8s:namespace.name": NAMESPACE, "flask-k8s:autoscaling.enabled": "false"}

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_REF = "spec.template.spec.containers[0].envFrom[0].configMapRef.name"
CONFIG_VOLUME = "spec.template.spec.volumes[1].configMap.name"
LOCKED = "the stack is currently locked by 1 lock(s)"
# What the CLI says when it cannot reach the PostgreSQL backend (lib/pq's dial error).
DATABASE_UNREACHABLE = "connection refused"
# flask_k8s_components/workload.py: the Deployment takes its declared fields back from any other field manager.
PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce"


@dataclass
class Ops:
    cli: PulumiCli
    kubectl: Kubectl
    apps: client.AppsV1Api
    core: client.CoreV1Api

    def deployment(self) -> client.V1Deployment:
        return self.apps.read_namespaced_deployment(APP, NAMESPACE)

    def config_map_data(self, name: str) -> dict[str, str]:
        return self.core.read_namespaced_config_map(name, NAMESPACE).data or {}

    def locks(self) -> list[str]:
        return self.cli.locks()


# The state backends a test runs on (devtools.backends): the drift tests on the file backend only.
ON_A_FILE_BACKEND = pytest.mark.parametrize("ops_backend", [FILE], indirect=True)
ON_EVERY_BACKEND = pytest.mark.parametrize("ops_backend", BACKENDS, indirect=True)


@pytest.fixture(scope="module")
def ops_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def ops(
    request: pytest.FixtureRequest,
    ops_backend: str,
    tool_bin: Path,
    kubeconfig: str,
    kube: client.ApiClient,
    ingress_controller: IngressControllerStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Ops]:
    """The program deployed as its own stack, for tests that break and repair it."""
    scratch = tmp_path_factory.mktemp(f"ops-stack-{ops_backend}")
    kubectl = tool_bin / "kubectl"
    if not kubectl.exists():
        pytest.fail(f"kubectl is missing from {tool_bin}: scripts/toolchain/kube.sh builds it", pytrace=False)
    backend = state_backend(ops_backend, "operations", scratch, request)
    with project_stack(STACK, kubeconfig, tool_bin, scratch, backend=backend) as stack:
        target_session_cluster(stack)
        for key, value in OPS_CONFIG.items():
            stack.stack.set_config(key, auto.ConfigValue(value=value), path=True)
        cli = pulumi_cli(stack, tool_bin)
        # --diff prints every input of every resource: the most likely place for a secret to leak.
        first = cli.run("up", "--yes", "--skip-preview", "--diff")
        if first.returncode != 0:
            pytest.fail(f"the first up of the operations stack failed:\n{first.tail()}", pytrace=False)
        try:
            yield Ops(
                cli,
                Kubectl(kubectl, kubeconfig, scratch / "kubectl-cache"),
                client.AppsV1Api(kube),
                client.CoreV1Api(kube),
            )
        finally:
            # Only after a failed test: a fault test may have left the database down, and without
            # `cancel` the stack's destroy would be refused by the lock.
            if isinstance(backend, PostgresBackend) and not backend.server.running:
                backend.server.start()
            if cli.locks():
                cli.run("cancel", "--yes")


def container(deployment: client.V1Deployment) -> client.V1Container:
    (app,) = deployment.spec.template.spec.containers
    assert app.name == CONTAINER
    return app


def config_map_name(deployment: client.V1Deployment) -> str:
    name = container(deployment).env_from[0].config_map_ref.name
    assert name, "the container reads no ConfigMap"
    return name


def env_vars(deployment: client.V1Deployment) -> dict[str, str | None]:
    return {e.name: e.value for e in container(deployment).env or []}


def managers(deployment: client.V1Deployment) -> set[str]:
    """Field managers of the Deployment other than the controllers', with their subresource if any."""
    return {
        f"{m.manager}/{m.subresource}" if m.subresource else str(m.manager)
        for m in deployment.metadata.managed_fields or []
        if m.manager != "kube-controller-manager"
    }


def assert_patch_force(deployment: client.V1Deployment) -> None:
    """Why hand edits of declared fields are put back: without the annotation, the provider's
    server-side apply refuses to take a field from another field manager (kubectl's): preview and
    up then fail with a field conflict (`kubectl scale`), or preview fails and up, which first
    takes over the fields of `kubectl*` managers, succeeds (`kubectl edit`, `patch`)."""
    annotations = deployment.metadata.annotations or {}
    assert annotations.get(PATCH_FORCE_ANNOTATION) == "true", "the Deployment no longer declares patchForce"


def changes(preview: dict[str, Any]) -> list[tuple[str, str]]:
    """(resource type, operation) of every step of a preview that would change something."""
    return sorted((resource_type(s["urn"]), s["op"]) for s in preview["steps"] if s["op"] not in ("same", "refresh"))


def diff_paths(preview: dict[str, Any], resource: str) -> set[str]:
    (step,) = [s for s in preview["steps"] if resource_type(s["urn"]) == resource and s["op"] == "update"]
    return set(step.get("detailedDiff") or {})


def preview_errors(preview: dict[str, Any]) -> str:
    return "".join(d["message"] for d in preview.get("diagnostics") or [] if d.get("severity") == "error")


def changed(events: list[dict[str, Any]]) -> dict[str, int]:
    """The update's resource changes, without the unchanged ones."""
    return {op: n for op, n in summary_event(events)["resourceChanges"].items() if op != "same"}


def assert_converged(ops: Ops) -> None:
    """The stack is deployed and unchanged: a refreshing preview finds nothing to do."""
    run, preview = ops.cli.preview_json("--refresh")
    assert run.returncode == 0, run.tail()
    assert changes(preview) == [], preview_errors(preview)


def deployment_rolled_out(ops: Ops) -> client.V1Deployment | None:
    dep = ops.deployment()
    status = dep.status
    done = (
        status.observed_generation == dep.metadata.generation
        and status.updated_replicas == REPLICAS
        and status.available_replicas == REPLICAS
        and status.replicas == REPLICAS
    )
    return dep if done else None


def set_log_level(ops: Ops, level: str) -> None:
    """A release: a config value the pods read, so the Deployment rolls to a new ConfigMap."""
    result = ops.cli.run("config", "set", "--path", "flask-k8s:app.env.LOG_LEVEL", level)
    assert result.returncode == 0, result.tail()


@ON_A_FILE_BACKEND
def test_a_configmap_deleted_by_hand_is_recreated(ops: Ops) -> None:
    old_name = config_map_name(ops.deployment())
    program_data = ops.config_map_data(old_name)
    ops.kubectl("delete", "configmap", old_name, "-n", NAMESPACE)

    run, preview = ops.cli.preview_json("--refresh")
    assert run.returncode == 0, run.tail()
    assert changes(preview) == sorted([(CONFIG_MAP, "create"), (DEPLOYMENT, "update")])
    # The ConfigMap is auto-named: it comes back under a new name, so both references in the pod
    # template change and the pods roll onto it.
    assert diff_paths(preview, DEPLOYMENT) == {CONFIG_REF, CONFIG_VOLUME}

    run, events = ops.cli.up_json("--refresh")
    assert run.returncode == 0, run.tail()
    assert changed(events) == {"create": 1, "update": 1}
    deployment = ops.deployment()
    new_name = config_map_name(deployment)
    assert new_name != old_name
    assert {v.config_map.name for v in deployment.spec.template.spec.volumes if v.config_map} == {new_name}
    assert ops.config_map_data(new_name) == program_data
    wait_for("the Deployment to roll onto the new ConfigMap", lambda: deployment_rolled_out(ops), timeout=60)
    assert_converged(ops)


@ON_A_FILE_BACKEND
def test_b_deployment_scaled_by_hand_is_scaled_back(ops: Ops) -> None:
    assert_patch_force(ops.deployment())
    ops.kubectl("scale", f"deployment/{APP}", "-n", NAMESPACE, "--replicas=1")
    # kubectl's manager now owns .spec.replicas, through the scale subresource.
    assert "kubectl/scale" in managers(ops.deployment())

    run, preview = ops.cli.preview_json("--refresh")
    assert run.returncode == 0, run.tail()
    assert changes(preview) == [(DEPLOYMENT, "update")]
    assert diff_paths(preview, DEPLOYMENT) == {"spec.replicas"}

    run, events = ops.cli.up_json("--refresh")
    assert run.returncode == 0, run.tail()
    assert changed(events) == {"update": 1}
    deployment = ops.deployment()
    assert deployment.spec.replicas == REPLICAS
    # Pulumi owns the count again.
    assert "kubectl/scale" not in managers(deployment)
    wait_for(f"{REPLICAS} replicas", lambda: deployment_rolled_out(ops), timeout=60)
    assert_converged(ops)


@ON_A_FILE_BACKEND
def test_c_env_var_set_by_hand_is_invisible_until_the_next_release(ops: Ops) -> None:
    # An env entry overrides the ConfigMap's LOG_LEVEL (envFrom) in the pods; the program declares
    # no `env`, so with server-side apply it is another manager's field, outside Pulumi's diff.
    ops.kubectl("set", "env", f"deployment/{APP}", "-n", NAMESPACE, "-c", CONTAINER, "LOG_LEVEL=debug")
    deployment = ops.deployment()
    assert env_vars(deployment) == {"LOG_LEVEL": "debug"}
    # The only trace of the edit besides the field itself: a field manager other than Pulumi's.
    assert "kubectl-set" in managers(deployment)

    run, preview = ops.cli.preview_json("--refresh")
    assert run.returncode == 0, run.tail()
    assert changes(preview) == [], "the refresh now sees a hand-set env var: update this test and the runbook"
    run, events = ops.cli.up_json("--refresh")
    assert run.returncode == 0, run.tail()
    assert changed(events) == {}
    assert env_vars(ops.deployment()) == {"LOG_LEVEL": "debug"}, "up --refresh removed the hand-set env var"

    # The next update of the Deployment (here a release) first moves every field a `kubectl*` manager
    # wrote without a subresource to Pulumi's manager (pulumi-kubernetes 4.25, pkg/await/await.go,
    # fixCSAFieldManagers), then applies the program, which has no env: the hand-set value goes,
    # silently, with a change nobody connects to it.
    old_config = config_map_name(ops.deployment())
    set_log_level(ops, "error")
    run, events = ops.cli.up_json()
    assert run.returncode == 0, run.tail()
    deployment = ops.deployment()
    assert env_vars(deployment) == {}
    assert "kubectl-set" not in managers(deployment)
    assert ops.config_map_data(config_map_name(deployment))["LOG_LEVEL"] == "error"
    assert not_found(lambda: ops.core.read_namespaced_config_map(old_config, NAMESPACE))
    wait_for("the release to roll out", lambda: deployment_rolled_out(ops), timeout=60)
    assert_converged(ops)


@ON_A_FILE_BACKEND
def test_d_env_source_edited_by_hand_is_put_back(ops: Ops) -> None:
    assert_patch_force(ops.deployment())
    program_value = config_map_name(ops.deployment())
    edit = [
        {"op": "replace", "path": "/spec/template/spec/containers/0/envFrom/0/configMapRef/name", "value": "by-hand"}
    ]
    ops.kubectl("patch", f"deployment/{APP}", "-n", NAMESPACE, "--type=json", "-p", json.dumps(edit))

    run, preview = ops.cli.preview_json("--refresh")
    assert run.returncode == 0, run.tail()
    assert changes(preview) == [(DEPLOYMENT, "update")]
    assert diff_paths(preview, DEPLOYMENT) == {CONFIG_REF}

    run, events = ops.cli.up_json("--refresh")
    assert run.returncode == 0, run.tail()
    assert changed(events) == {"update": 1}
    deployment = ops.deployment()
    assert config_map_name(deployment) == program_value
    assert "kubectl-patch" not in managers(deployment)
    wait_for("the Deployment to roll back", lambda: deployment_rolled_out(ops), timeout=60)
    assert_converged(ops)


@contextmanager
def nodes_cordoned(core: client.CoreV1Api) -> Iterator[None]:
    """No new pod can be scheduled, so a rollout holds at its surge pod, and `pulumi up` with it
    (it waits for the rollout): a window of our choosing in the middle of an update."""
    nodes = [n.metadata.name for n in core.list_node().items]
    try:
        for node in nodes:
            core.patch_node(node, {"spec": {"unschedulable": True}})
        yield
    finally:
        for node in nodes:
            core.patch_node(node, {"spec": {"unschedulable": False}})


@contextmanager
def background_up(cli: PulumiCli, log: Path) -> Iterator[subprocess.Popen[str]]:
    """`pulumi up` running in the background; never left running, whatever the test does."""
    with log.open("w") as output:
        up = cli.start("up", "--yes", "--skip-preview", output=output)
        try:
            yield up
        finally:
            if up.poll() is None:
                end_processes(kill_process_group(up))
            cli.transcript.append(("pulumi up (in the background)", log.read_text()))


def wait_until_updating_the_deployment(cli: PulumiCli, up: subprocess.Popen[str]) -> None:
    """Watches the checkpoint the engine writes before each operation starts."""

    def probe() -> bool:
        if up.poll() is not None:
            raise AssertionError(f"pulumi up ended (exit {up.returncode}) before it started updating the Deployment")
        pending = pending_operations(cli.checkpoint())
        return any(op == "updating" and resource_type(urn) == DEPLOYMENT for op, urn in pending)

    wait_for("the engine to start updating the Deployment", probe, timeout=90, interval=0.1)


@ON_EVERY_BACKEND
def test_e_an_up_killed_halfway_is_finished_after_pulumi_cancel(ops: Ops, tmp_path: Path) -> None:
    old_config = config_map_name(ops.deployment())
    set_log_level(ops, "warning")
    with nodes_cordoned(ops.core), background_up(ops.cli, tmp_path / "killed-up.log") as up:
        wait_until_updating_the_deployment(ops.cli, up)
        survivors = kill_process_group(up)
        # The plugins run in process groups of their own and outlive the CLI (by hand they were
        # still running minutes later): a user must end them too.
        end_processes(survivors)

    # What the killed engine left: the Deployment's update pending in the state, and its lock.
    assert [(op, resource_type(urn)) for op, urn in pending_operations(ops.cli.checkpoint())] == [
        ("updating", DEPLOYMENT)
    ]
    assert len(ops.locks()) == 1
    refused = ops.cli.run("up", "--yes", "--skip-preview")
    assert refused.returncode != 0
    assert LOCKED in refused.output and f"(pid {up.pid})" in refused.output, refused.tail()

    # The recovery: with no pulumi process of that update left, `pulumi cancel` deletes the lock
    # (with a diy backend too, in this version), and `pulumi up` finishes the update.
    cancel = ops.cli.run("cancel", "--yes")
    assert cancel.returncode == 0, cancel.tail()
    assert ops.locks() == []
    resumed = ops.cli.run("up", "--yes", "--skip-preview")
    assert resumed.returncode == 0, resumed.tail()
    assert "interrupted while updating" in resumed.output, resumed.tail()

    exported = ops.cli.run("stack", "export")
    assert exported.returncode == 0, exported.tail()
    assert pending_operations(json.loads(exported.stdout)["deployment"]) == []
    deployment = wait_for("the release to roll out", lambda: deployment_rolled_out(ops), timeout=60)
    assert ops.config_map_data(config_map_name(deployment))["LOG_LEVEL"] == "warning"
    assert not_found(lambda: ops.core.read_namespaced_config_map(old_config, NAMESPACE))
    assert_converged(ops)


@ON_EVERY_BACKEND
def test_f_a_second_up_while_one_runs_is_refused(ops: Ops, tmp_path: Path) -> None:
    before = ops.cli.run("stack", "export")
    urns_before = {r["urn"] for r in json.loads(before.stdout)["deployment"]["resources"]}
    set_log_level(ops, "critical")
    with background_up(ops.cli, tmp_path / "first-up.log") as first:
        with nodes_cordoned(ops.core):
            wait_until_updating_the_deployment(ops.cli, first)
            second = ops.cli.run("up", "--yes", "--skip-preview")
        # Uncordoned: the first update's rollout can finish.
        first_code = first.wait(timeout=180)
    first_output = ops.cli.transcript[-1][1]

    assert second.returncode != 0
    assert LOCKED in second.output and f"(pid {first.pid})" in second.output, second.tail()
    assert first_code == 0, "\n".join(first_output.splitlines()[-60:])
    assert ops.locks() == []

    exported = ops.cli.run("stack", "export")
    assert exported.returncode == 0, exported.tail()
    state = json.loads(exported.stdout)["deployment"]
    assert pending_operations(state) == []
    # Same resources as before the two updates (the ConfigMap's URN is stable; only its name changes).
    assert {r["urn"] for r in state["resources"]} == urns_before
    deployment = wait_for("the release to roll out", lambda: deployment_rolled_out(ops), timeout=60)
    assert ops.config_map_data(config_map_name(deployment))["LOG_LEVEL"] == "critical"
    assert_converged(ops)


APP_SECRET_KEYS = ("SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_PASSWORD", "DATABASE_URL")
# The lengths flask_k8s_components/secrets.py asks pulumi-random for.
GENERATED_LENGTHS = {"SECRET_KEY": 64, "JWT_SECRET_KEY": 64, "DATABASE_PASSWORD": 32}


class Concealed:
    """A secret value that never gets printed. Not a str, so no assertion can diff it as text, and its
    repr hides it (pytest prints reprs in failures, and every local with --showlocals): the texts that
    hold the values are kept in helpers' frames, and the test asserts on names only."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<concealed>"


def encodings(value: str) -> dict[str, str]:
    """The forms a leaked value would take in the places searched."""
    as_json = json.dumps(value)[1:-1]
    return {
        "plain": value,
        "JSON-escaped": as_json,
        # Go's encoding/json (the CLI's state files and events) also escapes <, > and &.
        "Go-JSON-escaped": as_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
        # A Secret's `data`, if the provider ever echoed it.
        "base64": base64.b64encode(value.encode()).decode(),
    }


def leaks(values: dict[str, Concealed], places: dict[str, str]) -> list[str]:
    """'KEY in PLACE' for every value found, in any of its forms, in a place's text."""
    return sorted(
        f"{key} in {place}"
        for place, text in places.items()
        for key, value in values.items()
        if any(form in text for form in encodings(value.reveal()).values())
    )


def live_secret_values(ops: Ops, kube: client.ApiClient) -> tuple[str, dict[str, Concealed]]:
    """The app Secret's name and the values the cluster holds: the app's secrets and the TLS key."""
    app_secret = ops.core.read_namespaced_secret(container(ops.deployment()).env_from[1].secret_ref.name, NAMESPACE)
    values = {key: Concealed(base64.b64decode(app_secret.data[key]).decode()) for key in APP_SECRET_KEYS}
    ingress = client.NetworkingV1Api(kube).read_namespaced_ingress(f"{APP}-ingress", NAMESPACE)
    tls_secret = ops.core.read_namespaced_secret(ingress.spec.tls[0].secret_name, NAMESPACE)
    values["tls.key"] = Concealed(base64.b64decode(tls_secret.data["tls.key"]).decode())
    return str(app_secret.metadata.name), values


def facts_that_fail(values: dict[str, Concealed]) -> list[str]:
    """The values are the real ones (a search for empty or wrong values would find nothing either)."""
    plain = {key: value.reveal() for key, value in values.items()}
    facts = {
        **{f"{key} has {n} characters": len(plain[key]) == n for key, n in GENERATED_LENGTHS.items()},
        "DATABASE_URL is a postgresql URL": plain["DATABASE_URL"].startswith("postgresql://"),
        "DATABASE_URL carries DATABASE_PASSWORD": plain["DATABASE_PASSWORD"] in plain["DATABASE_URL"],
        "tls.key is a PEM private key": plain["tls.key"].startswith("-----BEGIN") and "PRIVATE KEY" in plain["tls.key"],
    }
    return [fact for fact, holds in facts.items() if not holds]


def planted_but_not_found(values: dict[str, Concealed]) -> list[str]:
    """The search finds every value where it is planted, in each form it looks for."""
    plain = {key: value.reveal() for key, value in values.items()}
    planted = {
        "a JSON document": json.dumps(plain),
        "Secret data": json.dumps({k: base64.b64encode(v.encode()).decode() for k, v in plain.items()}),
        "plain text": " ".join(plain.values()),
    }
    expected = sorted(f"{key} in {place}" for key in values for place in planted)
    found = leaks(values, planted)
    return [name for name in expected if name not in found]


def searched_places(ops: Ops) -> dict[str, str]:
    """Every object of the stack's backend (state, its backups and history; with PostgreSQL, also the
    table's rows as stored and a `pg_dump` backup of the database), `pulumi stack output --json`, and
    all that the CLI printed in this module's tests on this backend, by name."""
    places = ops.cli.backend.stored_texts()
    outputs = ops.cli.run("stack", "output", "--json")
    assert outputs.returncode == 0, "pulumi stack output --json failed"
    places["pulumi stack output --json"] = outputs.stdout
    for number, (command, output) in enumerate(ops.cli.transcript):
        places[f"output of command {number} ({command})"] = output
    return places


def app_secret_is_encrypted_in_state(ops: Ops, secret_name: str) -> bool:
    """The provider keeps the Secret's stringData as base64 `data`: a Pulumi secret (ciphertext) in
    both the inputs and the outputs the state records."""
    state = ops.cli.stored_stack()["checkpoint"]["latest"]
    (secret,) = [r for r in state["resources"] if r["type"] == SECRET and r.get("id", "").endswith(f"/{secret_name}")]
    return "ciphertext" in secret["inputs"]["data"] and "ciphertext" in secret["outputs"]["data"]


@ON_EVERY_BACKEND
def test_g_no_secret_in_plain_text(ops: Ops, kube: client.ApiClient) -> None:
    secret_name, values = live_secret_values(ops, kube)
    assert facts_that_fail(values) == []
    assert planted_but_not_found(values) == []
    # The state does hold the app's secrets, encrypted.
    assert app_secret_is_encrypted_in_state(ops, secret_name)

    places = searched_places(ops)
    names, found = list(places), leaks(values, places)
    del places  # the texts stay out of the failure report, even with --showlocals
    assert f"backend object {ops.cli.stack_key}" in names
    assert any("--diff" in name for name in names), "the first up's output is not among the places searched"
    assert found == []


# Faults of the shared backend itself: its database server goes away in the middle of an update.
ON_POSTGRES = pytest.mark.parametrize("ops_backend", [POSTGRES], indirect=True)
# Kubernetes kinds of the objects the stack manages in its namespace, as `kubectl get` names them.
MANAGED_KINDS = (
    "configmaps,secrets,deployments,services,ingresses,serviceaccounts,poddisruptionbudgets,"
    "networkpolicies,resourcequotas,limitranges,horizontalpodautoscalers"
)
# What Kubernetes itself puts in every namespace.
UNMANAGED = {("ConfigMap", f"{NAMESPACE}/kube-root-ca.crt")}


def database_server(ops: Ops) -> PostgresServer:
    backend = ops.cli.backend
    assert isinstance(backend, PostgresBackend), backend.kind
    return backend.server


def unaccounted(ops: Ops) -> dict[str, list[str]]:
    """Objects of the stack in its state but not on the cluster, and objects on the cluster (in the
    stack's namespace) that no resource of the state accounts for: both empty when the state and the
    cluster agree."""
    state = json.loads(ops.cli.run("stack", "export").stdout)["deployment"]
    in_state = {
        # A patch of the namespace's default ServiceAccount manages that account.
        (r["type"].split(":")[-1].removesuffix("Patch"), r["id"])
        for r in state["resources"]
        if r["type"].startswith("kubernetes:") and not r["type"].startswith("pulumi:providers:") and r.get("id")
    }
    listed = json.loads(ops.kubectl("get", MANAGED_KINDS, "-n", NAMESPACE, "-o", "json"))["items"]
    on_cluster = {(o["kind"], f"{NAMESPACE}/{o['metadata']['name']}") for o in listed} - UNMANAGED
    on_cluster |= {("Namespace", NAMESPACE)} if not not_found(lambda: ops.core.read_namespace(NAMESPACE)) else set()
    # The namespace's default account exists whether or not the stack patches it.
    on_cluster -= {("ServiceAccount", f"{NAMESPACE}/default")} - in_state
    return {
        "in the state, not on the cluster": sorted(f"{k} {i}" for k, i in in_state - on_cluster),
        "on the cluster, not in the state": sorted(f"{k} {i}" for k, i in on_cluster - in_state),
    }


def objects_that_are_not_json(ops: Ops) -> list[str]:
    """Keys of the backend's JSON objects (checkpoints, backups, history, locks) that do not parse."""
    broken = []
    for key, data in ops.cli.backend.objects().items():
        if key.endswith(".json"):
            try:
                json.loads(data)
            except ValueError:
                broken.append(key)
    return broken


def up_during_a_database_fault(
    ops: Ops, log: Path, level: str, fault: Callable[[PostgresServer], None]
) -> tuple[int, str, tuple[Any, str]]:
    """A release (LOG_LEVEL `level`) whose `pulumi up` meets `fault` of the database server while it
    waits for the Deployment's rollout. Returns the up's exit code and output, and the checkpoint
    stored just before the fault with the name of the ConfigMap the release replaces."""
    server = database_server(ops)
    old_config = config_map_name(ops.deployment())
    set_log_level(ops, level)
    with background_up(ops.cli, log) as up:
        with nodes_cordoned(ops.core):
            wait_until_updating_the_deployment(ops.cli, up)
            stored_before = ops.cli.stored_stack()
            fault(server)
        # Uncordoned: the rollout finishes, and the engine goes on to write its next checkpoint.
        code = up.wait(timeout=180)
    return code, server.redact(ops.cli.transcript[-1][1]), (stored_before, old_config)


def recover_with_the_runbook(ops: Ops) -> list[Run]:
    """README "When a `pulumi up` goes wrong": `pulumi cancel` (no process of the update is left),
    `pulumi refresh`, `pulumi up`. Returns the three commands' runs."""
    steps = [ops.cli.run("cancel", "--yes"), ops.cli.run("refresh", "--yes", "--skip-preview")]
    steps.append(ops.cli.run("up", "--yes", "--skip-preview"))
    for step in steps:
        assert step.returncode == 0, f"{' '.join(step.args[1:3])}:\n{ops.cli.backend.redact(step.tail())}"
    return steps


@ON_POSTGRES
def test_h_the_database_killed_during_an_up(ops: Ops, tmp_path: Path) -> None:
    server = database_server(ops)
    code, output, (stored_before, old_config) = up_during_a_database_fault(
        ops, tmp_path / "up.log", "debug", PostgresServer.kill
    )
    # The update fails, saying that it could not write the state and why (the text: README).
    assert code != 0, output[-3000:]
    assert DATABASE_UNREACHABLE in output and f"127.0.0.1:{server.port}" in output, output[-3000:]
    print(f"\n--- pulumi up, the database killed in its middle (exit {code}) ---\n" + output[-2500:])

    # Restarted (crash recovery from the write-ahead log): what the backend holds is whole, and the
    # stack's state is the last checkpoint written before the kill, its Deployment update pending.
    server.start()
    assert objects_that_are_not_json(ops) == []
    assert ops.cli.stored_stack() == stored_before
    assert [(op, resource_type(urn)) for op, urn in pending_operations(ops.cli.checkpoint())] == [
        ("updating", DEPLOYMENT)
    ]
    # The update's lock stayed (its release failed too): the next `up` is refused until `cancel`.
    assert len(ops.locks()) == 1
    refused = ops.cli.run("up", "--yes", "--skip-preview")
    assert refused.returncode != 0 and LOCKED in refused.output, refused.tail()

    steps = recover_with_the_runbook(ops)
    print("--- the runbook after the restart ---\n" + "\n\n".join(server.redact(s.output) for s in steps))
    assert ops.locks() == []
    assert pending_operations(json.loads(ops.cli.run("stack", "export").stdout)["deployment"]) == []
    deployment = wait_for("the release to roll out", lambda: deployment_rolled_out(ops), timeout=60)
    assert ops.config_map_data(config_map_name(deployment))["LOG_LEVEL"] == "debug"
    assert not_found(lambda: ops.core.read_namespaced_config_map(old_config, NAMESPACE))
    assert unaccounted(ops) == {"in the state, not on the cluster": [], "on the cluster, not in the state": []}
    assert_converged(ops)


@ON_POSTGRES
def test_i_the_database_restarted_during_an_up(ops: Ops, tmp_path: Path) -> None:
    code, output, (_, old_config) = up_during_a_database_fault(ops, tmp_path / "up.log", "info", PostgresServer.restart)
    print(f"\n--- pulumi up, the database restarted in its middle (exit {code}) ---\n" + output[-2500:])
    assert objects_that_are_not_json(ops) == []
    assert ops.locks() == [], "the update left its lock"
    assert code == 0, output[-3000:]
    assert pending_operations(json.loads(ops.cli.run("stack", "export").stdout)["deployment"]) == []
    deployment = wait_for("the release to roll out", lambda: deployment_rolled_out(ops), timeout=60)
    assert ops.config_map_data(config_map_name(deployment))["LOG_LEVEL"] == "info"
    assert not_found(lambda: ops.core.read_namespaced_config_map(old_config, NAMESPACE))
    assert unaccounted(ops) == {"in the state, not on the cluster": [], "on the cluster, not in the state": []}
    assert_converged(ops)
