# Every field of the kubernetes client's models is Optional; in these tests a missing field fails
# the test on the spot anyway, so narrowing each one would only add noise.
# pyright: reportOptionalMemberAccess=false, reportOptionalSubscript=false, reportArgumentType=false
"""The real Pulumi engine and provider plugins against a real API server (kwok), end to end.

The tests follow one stack through its life: preview, up, outputs, a no-op second up, a config
change that rolls the Deployment, the HPA toggled, destroy. Each states what it proves on the API
server, and each asks for the state it starts from: `fresh` (nothing deployed) or `deployed` (up
as Pulumi.local.yaml says, the HPA's minimum running); test_6 only needs something to destroy.
The stack is shared, so in file order a fixture acts once (an `up` that undoes test_5's config
before the HPA toggle); in any other order they destroy or `up` as needed. A test that changes
the config does so in `Lifecycle.config_changes()`, which puts the stack file back afterwards. The
whole run is made twice, with the stack's state on a file backend and then in a PostgreSQL
database (the shared backend a team would use), one after the other on the same cluster.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from pulumi import automation as auto

from devtools.backends import BACKENDS
from devtools.cluster import STAND_IN_ADDRESS, IngressControllerStandIn, not_found, wait_for
from tests.e2e.conftest import STACK, E2EStack, state_backend, target_session_cluster
from tests.engine import project_stack

pytestmark = pytest.mark.e2e

NAMESPACE = "flask-app"
APP = "flask-app"
# Pulumi.local.yaml: replicas 3, but the HPA's minimum is 4, so the count visibly belongs to the HPA.
HPA_MIN = 4

EXPECTED_CREATES = {
    "pulumi:providers:kubernetes": 1,
    "kubernetes:core/v1:Namespace": 1,
    "kubernetes:core/v1:ResourceQuota": 1,
    "kubernetes:core/v1:LimitRange": 1,
    "kubernetes:core/v1:ConfigMap": 1,
    "kubernetes:core/v1:Secret": 2,  # the app's Secret and the TLS Secret
    "kubernetes:apps/v1:Deployment": 1,
    "kubernetes:core/v1:Service": 1,
    "kubernetes:networking.k8s.io/v1:Ingress": 1,
    "kubernetes:core/v1:ServiceAccount": 1,
    "kubernetes:core/v1:ServiceAccountPatch": 1,  # the namespace's default account, token off
    "kubernetes:policy/v1:PodDisruptionBudget": 1,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 1,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": 2,
    "random:index/randomPassword:RandomPassword": 3,
    "tls:index/privateKey:PrivateKey": 2,
    "tls:index/selfSignedCert:SelfSignedCert": 1,
    "tls:index/certRequest:CertRequest": 1,
    "tls:index/locallySignedCert:LocallySignedCert": 1,
    # Component resources and the stack itself are creates too.
    "pulumi:pulumi:Stack": 1,
    "flask-k8s:components:FlaskApp": 1,
    "flask-k8s:components:AppNamespace": 1,
    "flask-k8s:components:AppConfig": 1,
    "flask-k8s:components:AppSecrets": 1,
    "flask-k8s:components:Workload": 1,
    "flask-k8s:components:AppService": 1,
    "flask-k8s:components:AppIngress": 1,
    "flask-k8s:components:SelfSignedCertificate": 1,
    "flask-k8s:components:AppNetworkPolicy": 1,
}

# Default providers of the packages without an explicit one (they manage nothing on the cluster);
# the engine creates them, but leaves them out of its change summary.
DEFAULT_PROVIDERS = {"pulumi:providers:random": 1, "pulumi:providers:tls": 1}

# What Pod Security Admission "restricted" requires of a pod; the bare pod below has it all but resources.
RESTRICTED_POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


@dataclass
class Lifecycle:
    """One backend's `local` stack, shared by this file's tests, and whether what is deployed
    follows its stack file."""

    stack: E2EStack
    apps: client.AppsV1Api
    core: client.CoreV1Api
    stack_file: Path
    as_written: str
    """The stack file's text as the project copy has it (pointed at the session's cluster)."""
    config_was_changed: bool = False
    """A test deployed another config since the last `up` of the file as written."""

    def is_deployed(self) -> bool:
        return bool(self.stack.stack.export_stack().deployment.get("resources"))

    @contextmanager
    def config_changes(self) -> Iterator[auto.Stack]:
        """The stack, for a test that changes its config: the stack file is as written again
        afterwards, whatever the test did, and the next `deployed` test gets an `up` of it first."""
        try:
            yield self.stack.stack
        finally:
            self.stack_file.write_text(self.as_written)
            self.config_was_changed = True

    def up(self) -> None:
        """An `up` of the stack file as written."""
        assert self.stack.stack.up().summary.result == "succeeded"
        self.config_was_changed = False

    def destroy(self) -> None:
        """Nothing of the stack left, its namespace included (the next backend's stack deploys it again)."""
        assert self.stack.stack.destroy().summary.result == "succeeded"
        wait_for("namespace deletion", lambda: not_found(lambda: self.core.read_namespace(NAMESPACE)), timeout=120)
        self.config_was_changed = False


@pytest.fixture(scope="module", params=BACKENDS)
def lifecycle(
    request: pytest.FixtureRequest,
    tool_bin: Path,
    kubeconfig: str,
    kube: client.ApiClient,
    ingress_controller: IngressControllerStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Lifecycle]:
    """The `local` stack, on each state backend in turn; destroyed, namespace gone, before the next
    backend's starts (both deploy the namespace flask-app)."""
    scratch = tmp_path_factory.mktemp(f"lifecycle-{request.param}")
    backend = state_backend(request.param, "lifecycle", scratch, request)
    with project_stack(STACK, kubeconfig, tool_bin, scratch, backend=backend) as stack:
        target_session_cluster(stack)
        stack_file = stack.project_dir / f"Pulumi.{STACK}.yaml"
        state = Lifecycle(stack, client.AppsV1Api(kube), client.CoreV1Api(kube), stack_file, stack_file.read_text())
        yield state
        if state.is_deployed():
            state.destroy()


@pytest.fixture
def fresh(lifecycle: Lifecycle) -> E2EStack:
    """The stack with nothing deployed (destroyed first if a test left it up)."""
    if lifecycle.is_deployed():
        lifecycle.destroy()
    # Nothing deployed follows another config (test_6 may have destroyed one that did).
    lifecycle.config_was_changed = False
    return lifecycle.stack


@pytest.fixture
def deployed(lifecycle: Lifecycle) -> E2EStack:
    """The stack up as its stack file says, with the HPA's minimum of pods available: an `up` first
    only when nothing is deployed or a test deployed another config, a scale back only when a test
    left another count."""
    if lifecycle.config_was_changed or not lifecycle.is_deployed():
        lifecycle.up()
    if replicas_now(lifecycle.apps) != HPA_MIN:
        scale_as_the_hpa_would(lifecycle.apps, HPA_MIN)
    wait_for(f"{HPA_MIN} available replicas", lambda: deployment_available(lifecycle.apps, HPA_MIN), timeout=120)
    return lifecycle.stack


@pytest.fixture
def up_in_any_config(lifecycle: Lifecycle) -> E2EStack:
    """The stack with its objects deployed, in whatever config the last test deployed (for a test
    that only removes them): an `up` only when nothing is deployed."""
    if not lifecycle.is_deployed():
        lifecycle.up()
    return lifecycle.stack


def pod(name: str, container: dict[str, Any], pod_security: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "securityContext": RESTRICTED_POD_SECURITY if pod_security is None else pod_security,
            "containers": [{"name": "c", "image": "busybox:1.36", **container}],
        },
    }


def creates_by_type(events: list[auto.EngineEvent]) -> Counter[str]:
    return Counter(
        e.resource_pre_event.metadata.type
        for e in events
        if e.resource_pre_event is not None and e.resource_pre_event.metadata.op == auto.OpType.CREATE
    )


def current_replica_set(apps: client.AppsV1Api) -> client.V1ReplicaSet:
    """The Deployment's newest ReplicaSet (highest revision)."""
    sets = apps.list_namespaced_replica_set(NAMESPACE, label_selector=f"app={APP}").items
    return max(sets, key=lambda rs: int(rs.metadata.annotations["deployment.kubernetes.io/revision"]))


def deployment_available(apps: client.AppsV1Api, replicas: int) -> client.V1Deployment | None:
    dep = apps.read_namespaced_deployment(APP, NAMESPACE)
    status = dep.status
    done = (
        status.observed_generation == dep.metadata.generation
        and status.updated_replicas == replicas
        and status.available_replicas == replicas
        and (status.replicas or 0) == replicas
    )
    return dep if done else None


def test_1_preview_lists_the_expected_creates(fresh: E2EStack) -> None:
    events: list[auto.EngineEvent] = []
    result = fresh.stack.preview(on_event=events.append)
    assert dict(creates_by_type(events)) == EXPECTED_CREATES | DEFAULT_PROVIDERS
    assert result.change_summary == {auto.OpType.CREATE: sum(EXPECTED_CREATES.values())}


def test_2_up_creates_everything_and_the_namespace_limits_are_in_force(
    fresh: E2EStack, kube: client.ApiClient, ingress_controller: IngressControllerStandIn
) -> None:
    result = fresh.stack.up(on_output=print)
    assert result.summary.result == "succeeded"
    assert result.summary.resource_changes is not None
    assert result.summary.resource_changes == {"create": sum(EXPECTED_CREATES.values())}

    core, apps = client.CoreV1Api(kube), client.AppsV1Api(kube)
    # `up` returned with the HPA's minimum Available (not one pod that the HPA raises later).
    dep = deployment_available(apps, HPA_MIN)
    assert dep is not None, apps.read_namespaced_deployment(APP, NAMESPACE).status
    assert dep.spec.template.metadata.labels["app"] == APP
    pods = core.list_namespaced_pod(NAMESPACE, label_selector=f"app={APP}").items
    assert len(pods) == HPA_MIN
    assert all(p.status.phase == "Running" for p in pods)
    # The Service's own await is skipped (flask_k8s_components/service.py): the Deployment's held `up` until
    # the pods were Ready, so the endpoints have them at once, and the Ingress (the route to them)
    # was created only after the Deployment became Available.
    wait_for(f"{HPA_MIN} ready endpoints", lambda: ready_endpoints(core) == HPA_MIN, timeout=10)
    assert f"{NAMESPACE}/{APP}-ingress" in ingress_controller.published
    ingress = client.NetworkingV1Api(kube).read_namespaced_ingress(f"{APP}-ingress", NAMESPACE)
    available = next(c for c in dep.status.conditions or [] if c.type == "Available" and c.status == "True")
    created, ready = ingress.metadata.creation_timestamp, available.last_transition_time
    assert created is not None and ready is not None and created >= ready, (created, ready)

    quota = core.read_namespaced_resource_quota(f"{NAMESPACE}-quota", NAMESPACE)
    # Derived from what a rollout can hold at its peak: HPA maximum 6 + 1 surge + 1 stopping = 8 pods,
    # x the 500m CPU limit of each (Pulumi.local.yaml sets no quota of its own).
    assert quota.status.hard["limits.cpu"] == "4"
    assert quota.status.hard["pods"] == "8"
    # Quota usage is counted: 4 pods x 500m CPU limit.
    wait_for("quota usage", lambda: quota_used(core, "limits.cpu") == "2", timeout=30)

    # LimitRange: a pod without resources (otherwise compliant) gets the namespace's defaults.
    bare = core.create_namespaced_pod(NAMESPACE, pod("bare", {"securityContext": RESTRICTED_CONTAINER_SECURITY}))
    try:
        resources = bare.spec.containers[0].resources
        assert resources.requests == {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"}
        assert resources.limits == {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "256Mi"}
        # ResourceQuota: a pod beyond the namespace's CPU limits is refused at admission.
        too_big = {
            "securityContext": RESTRICTED_CONTAINER_SECURITY,
            "resources": {"limits": {"cpu": "9"}, "requests": {"cpu": "1"}},
        }
        with pytest.raises(client.ApiException) as refused:
            core.create_namespaced_pod(NAMESPACE, pod("too-big", too_big))
        assert refused.value.status == 403
        assert "exceeded quota" in str(refused.value.body)
    finally:
        core.delete_namespaced_pod("bare", NAMESPACE, grace_period_seconds=0)
        wait_for("the bare pod to go", lambda: not_found(lambda: core.read_namespaced_pod("bare", NAMESPACE)))


def ready_endpoints(core: client.CoreV1Api) -> int:
    endpoints = core.read_namespaced_endpoints(f"{APP}-service", NAMESPACE)
    return sum(len(s.addresses or []) for s in endpoints.subsets or [])


def quota_used(core: client.CoreV1Api, resource: str) -> str | None:
    used = core.read_namespaced_resource_quota(f"{NAMESPACE}-quota", NAMESPACE).status.used or {}
    return used.get(resource)


@pytest.mark.usefixtures("deployed")
def test_2_the_hardening_is_in_force(kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    # Pod Security Admission "restricted": the app's pods were admitted (they run); a pod that
    # asks for privileges is refused.
    labels = core.read_namespace(NAMESPACE).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    with pytest.raises(client.ApiException) as refused:
        core.create_namespaced_pod(
            NAMESPACE,
            pod("privileged", {"securityContext": {"privileged": True}, "resources": {"limits": {"cpu": "100m"}}}, {}),
        )
    assert refused.value.status == 403
    assert "violates PodSecurity" in str(refused.value.body)

    sa = core.read_namespaced_service_account(APP, NAMESPACE)
    assert sa.automount_service_account_token is False
    pods = core.list_namespaced_pod(NAMESPACE, label_selector=f"app={APP}").items
    assert {p.spec.service_account_name for p in pods} == {APP}
    # Nor does the namespace's default account give a token to any other pod started here.
    assert core.read_namespaced_service_account("default", NAMESPACE).automount_service_account_token is False
    # Logs and writable layers cannot fill a node: every app container has a disk request and limit.
    for p in pods:
        resources = p.spec.containers[0].resources
        assert (resources.requests["ephemeral-storage"], resources.limits["ephemeral-storage"]) == ("64Mi", "256Mi")

    pdb = client.PolicyV1Api(kube).read_namespaced_pod_disruption_budget(APP, NAMESPACE)
    assert pdb.spec.max_unavailable == 1
    assert pdb.spec.selector.match_labels["app"] == APP
    assert pdb.spec.unhealthy_pod_eviction_policy == "AlwaysAllow"
    # With 4 healthy pods and maxUnavailable 1, one eviction is allowed: drains proceed.
    wait_for("the PDB to allow a disruption", lambda: (pdb_status(kube) or 0) >= 1, timeout=60)

    hpa = client.AutoscalingV2Api(kube).read_namespaced_horizontal_pod_autoscaler(APP, NAMESPACE)
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (HPA_MIN, 6)
    assert hpa.spec.scale_target_ref.name == APP
    assert hpa.spec.metrics[0].resource.name == "cpu"

    networking = client.NetworkingV1Api(kube)
    deny = networking.read_namespaced_network_policy(f"{APP}-default-deny-ingress", NAMESPACE)
    assert deny.spec.pod_selector.match_labels is None
    assert deny.spec.policy_types == ["Ingress"]
    app_policy = networking.read_namespaced_network_policy(f"{APP}-app", NAMESPACE)
    (rule,) = app_policy.spec.ingress or []
    assert rule.ports[0].port == 5000
    assert rule.var_from[0].namespace_selector.match_labels == {"kubernetes.io/metadata.name": "traefik"}


def pdb_status(kube: client.ApiClient) -> int | None:
    status = client.PolicyV1Api(kube).read_namespaced_pod_disruption_budget(APP, NAMESPACE).status
    return status.disruptions_allowed if status else None


def test_3_stack_outputs_are_what_the_readme_says(deployed: E2EStack) -> None:
    outputs: dict[str, Any] = {k: v.value for k, v in deployed.stack.outputs().items()}
    assert outputs["url"] == "https://flask-app.local/"
    assert outputs["namespace"] == NAMESPACE
    assert outputs["deploymentName"] == APP
    assert outputs["serviceName"] == f"{APP}-service"
    assert outputs["ingressAddress"] == STAND_IN_ADDRESS
    assert outputs["caCertificate"].startswith("-----BEGIN CERTIFICATE-----")
    # Only what the README lists: no kubeconfig output for a context-based stack.
    assert set(outputs) == {"url", "namespace", "deploymentName", "serviceName", "ingressAddress", "caCertificate"}


def test_4_a_second_up_changes_nothing_and_leaves_the_hpa_its_replicas(
    deployed: E2EStack, kube: client.ApiClient
) -> None:
    apps, autoscaling = client.AppsV1Api(kube), client.AutoscalingV2Api(kube)
    # The HPA has seen the count the Deployment was created with (its minimum) and left it there
    # (kwok serves no metrics, so it has nothing to scale on).
    wait_for(
        "the HPA to observe its minimum",
        lambda: (
            autoscaling.read_namespaced_horizontal_pod_autoscaler(APP, NAMESPACE).status.current_replicas == HPA_MIN
        ),
        timeout=60,
    )
    assert apps.read_namespaced_deployment(APP, NAMESPACE).spec.replicas == HPA_MIN

    preview = deployed.stack.preview()
    assert set(preview.change_summary) == {auto.OpType.SAME}, preview.change_summary
    result = deployed.stack.up()
    assert set(result.summary.resource_changes or {}) == {"same"}, result.summary.resource_changes
    # Not reset to the stack's `replicas` (3): the count stays the HPA's.
    assert apps.read_namespaced_deployment(APP, NAMESPACE).spec.replicas == HPA_MIN


@pytest.mark.usefixtures("deployed")
def test_5_a_config_change_rolls_the_deployment(lifecycle: Lifecycle, kube: client.ApiClient) -> None:
    core, apps = client.CoreV1Api(kube), client.AppsV1Api(kube)
    before = current_replica_set(apps)
    old_config = before.spec.template.spec.containers[0].env_from[0].config_map_ref.name

    with lifecycle.config_changes() as stack:
        stack.set_config("flask-k8s:app.env.LOG_LEVEL", auto.ConfigValue(value="warning"), path=True)
        result = stack.up()
    assert result.summary.result == "succeeded"

    after = current_replica_set(apps)
    assert after.metadata.name != before.metadata.name, "no new ReplicaSet: the pods were not rolled"
    new_config = after.spec.template.spec.containers[0].env_from[0].config_map_ref.name
    assert new_config != old_config
    assert core.read_namespaced_config_map(new_config, NAMESPACE).data["LOG_LEVEL"] == "warning"
    wait_for("all replicas available on the new ReplicaSet", lambda: deployment_available(apps, HPA_MIN), timeout=120)
    old = apps.read_namespaced_replica_set(before.metadata.name, NAMESPACE)
    assert (old.spec.replicas or 0) == 0
    # The replaced ConfigMap is deleted once nothing refers to it.
    assert not_found(lambda: core.read_namespaced_config_map(old_config, NAMESPACE))


def scale_as_the_hpa_would(apps: client.AppsV1Api, replicas: int) -> None:
    """Writes the count through the scale subresource with a field manager of its own, as the HPA
    controller does (kwok has no metrics, so the real HPA never scales on load here)."""
    apps.patch_namespaced_deployment_scale(
        APP, NAMESPACE, {"spec": {"replicas": replicas}}, field_manager="hpa-stand-in"
    )


def replicas_now(apps: client.AppsV1Api) -> int:
    return apps.read_namespaced_deployment(APP, NAMESPACE).spec.replicas or 0


@pytest.mark.usefixtures("deployed")
def test_5b_toggling_the_hpa_never_lowers_the_running_count(lifecycle: Lifecycle, kube: client.ApiClient) -> None:
    apps, autoscaling = client.AppsV1Api(kube), client.AutoscalingV2Api(kube)
    with lifecycle.config_changes() as config:
        # HPA off with a fixed count above the running one: the Deployment goes to it, the HPA is deleted.
        config.set_config("flask-k8s:autoscaling.enabled", auto.ConfigValue(value="false"), path=True)
        config.set_config("flask-k8s:app.replicas", auto.ConfigValue(value="5"), path=True)
        assert config.up().summary.result == "succeeded"
        assert deployment_available(apps, 5) is not None
        assert not_found(lambda: autoscaling.read_namespaced_horizontal_pod_autoscaler(APP, NAMESPACE))

        # HPA on again, minimum 4: the five running pods stay (before, the field left Pulumi's apply and
        # the Deployment fell back to 1 pod until the HPA raised it to its minimum). app.replicas goes
        # with it: settings refuses a count that the HPA would own.
        config.set_config("flask-k8s:autoscaling.enabled", auto.ConfigValue(value="true"), path=True)
        config.remove_config("flask-k8s:app.replicas", path=True)
        seen: list[int] = []
        assert config.up(on_event=lambda _: seen.append(replicas_now(apps))).summary.result == "succeeded"
        assert min(seen) == 5, f"the replica count went down to {min(seen)} during the up"
        assert replicas_now(apps) == 5
        assert deployment_available(apps, 5) is not None

        # The HPA scales (here: its stand-in, through the scale subresource): neither a no-op `up` nor
        # `up --refresh` puts the count back, and neither reports a change to make.
        scale_as_the_hpa_would(apps, 6)
        wait_for("6 available replicas", lambda: deployment_available(apps, 6), timeout=60)
        assert set(config.preview(refresh=True).change_summary) == {auto.OpType.SAME}
        result = config.up(refresh=True)
        assert set(result.summary.resource_changes or {}) == {"same"}, result.summary.resource_changes
        assert replicas_now(apps) == 6
    # The `deployed` fixture of the next test brings the count back to the HPA's minimum.


def test_6_destroy_removes_everything(up_in_any_config: E2EStack, kube: client.ApiClient) -> None:
    result = up_in_any_config.stack.destroy()
    assert result.summary.result == "succeeded"
    core = client.CoreV1Api(kube)
    wait_for("namespace deletion", lambda: not_found(lambda: core.read_namespace(NAMESPACE)), timeout=120)
    assert up_in_any_config.stack.export_stack().deployment.get("resources") in (None, [])
