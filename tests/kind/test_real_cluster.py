# Every field of the kubernetes client's models is Optional; in these tests a missing field fails
# the test on the spot anyway, so narrowing each one would only add noise.
# pyright: reportOptionalMemberAccess=false, reportOptionalSubscript=false, reportOptionalIterable=false
# pyright: reportArgumentType=false, reportGeneralTypeIssues=false
"""The program on a real Kind cluster: real containers, behind its own ingress controller, over real TLS.

Mocks check what the program sends and kwok what the API server accepts; these tests check what a
user gets. They run in file order on one stack: up (the program installs Traefik, the controller
users get), HTTPS through the Ingress, the pods as Kubernetes runs them, the article's body limit;
then, back to back and each under the same HTTPS load that must see no failed request, a config
change and an image change rolled out, a worker drained, and two bad releases (one never ready, one
crashing) that `pulumi up` must refuse while the running release keeps serving and that the next
good `up` replaces. Then the same stack moves to the Gateway API route: HTTPS, the redirect, the
body limit, an image change under load, and a Gateway of a class nobody serves, which `pulumi up`
must refuse with the controller's words while the route in place keeps serving; destroy.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import pytest
import urllib3
from kubernetes import client
from pulumi import automation as auto

from devtools.cluster import not_found, wait_for
from tests.engine import run_script
from tests.kind.conftest import APP, CLUSTER, CONTROLLER_NAMESPACE, HOST, MEASURED, NAMESPACE, Deployed, versions
from tests.kind.traffic import LoadGenerator, LoadResult

pytestmark = pytest.mark.kind

T = TypeVar("T")

SELECTOR = f"app.kubernetes.io/instance={APP}"
WORKERS = {f"{CLUSTER}-worker", f"{CLUSTER}-worker2"}
REPLICAS = 3  # Pulumi.yaml's default, which kind-ci keeps
# Every disruption below runs under this load and must cost no request of at least this many (issue
# 10's bar): 1500 at 20/s is 75 s, longer than a rollout or a drain takes here, so the load keeps
# going after those until the count is reached.
RATE = 20.0
MIN_REQUESTS = 1500
# After a scenario ends, keep the load on while the old pods terminate: that is when requests drop.
DRAIN_SECONDS = 15
ERROR_LINE = re.compile(r"error|critical|traceback|exception", re.IGNORECASE)
REVISION = "deployment.kubernetes.io/revision"


def app_pods(kube: client.ApiClient) -> list[client.V1Pod]:
    return client.CoreV1Api(kube).list_namespaced_pod(NAMESPACE, label_selector=SELECTOR).items


def replica_set_of(pod: client.V1Pod) -> str:
    owners = [ref.name for ref in pod.metadata.owner_references or [] if ref.kind == "ReplicaSet"]
    assert len(owners) == 1, f"pod {pod.metadata.name} has owners {pod.metadata.owner_references}"
    return owners[0]


def is_ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def settled_pods(
    kube: client.ApiClient, not_on: str | None = None, off_node: str | None = None, timeout: float = 180
) -> tuple[str, list[client.V1Pod]]:
    """Waits until the app's three pods (terminating ones too) are Ready on one ReplicaSet, other
    than `not_on`, and none is on `off_node`; returns that ReplicaSet's name and its pods."""

    def probe() -> tuple[str, list[client.V1Pod]] | None:
        pods = app_pods(kube)
        owners = {replica_set_of(p) for p in pods}
        if (
            len(owners) == 1
            and len(pods) == REPLICAS
            and all(is_ready(p) for p in pods)
            and not_on not in owners
            and all(p.spec.node_name != off_node for p in pods)
        ):
            return owners.pop(), pods
        return None

    what = f"{REPLICAS} Ready pods on one ReplicaSet other than {not_on}, none on node {off_node}"
    found = wait_for(what, probe, timeout=timeout)
    assert found is not None
    return found


def under_load(
    deployed: Deployed, what: str, scenario: Callable[[LoadGenerator], T], max_seconds: float = 240.0
) -> tuple[T, LoadResult]:
    """Runs `scenario` while RATE requests/s go through the ingress, keeps the load on DRAIN_SECONDS
    longer and until MIN_REQUESTS were sent, prints what the load saw and asserts that nothing failed.

    The load is capped at `max_seconds` (and as many requests as that takes at RATE); a scenario that
    outlasts the cap fails the test rather than being measured only in part."""
    load = LoadGenerator(deployed.client, rate=RATE, max_seconds=max_seconds, max_requests=int(RATE * max_seconds))
    completed = False
    with load:
        try:
            outcome = scenario(load)
            time.sleep(DRAIN_SECONDS)
            load.finish(MIN_REQUESTS)
            completed = True
        finally:
            # Printed whatever happened: a failed scenario's load is the first thing to look at.
            result = load.stop()
            MEASURED.append(f"{what}: {result.summary()}{'' if completed else ' (the scenario failed)'}")
    assert result.stopped_by == "finish", f"{what}: the load hit its cap before the scenario ended: {result.summary()}"
    assert result.sent >= MIN_REQUESTS, f"{what}: {result.summary()}"
    assert result.failed == 0, f"{what}: {result.summary()}"
    return outcome, result


def rollout_at_return(kube: client.ApiClient) -> str:
    """How far the Deployment's rollout was, read right after `pulumi up` returned; says so when
    it was not complete. Recorded, not asserted: in one run (of five, under CPU contention) an image
    change's `up` returned after 3.9 s, before a rollout of three pods can be done, and 23 updates
    since did not do it again; this line is how a CI log shows the next one. The scenarios' own
    checks do not depend on it: they wait for the pods themselves."""
    apps = client.AppsV1Api(kube)
    deployment = apps.read_namespaced_deployment(APP, NAMESPACE)
    revision = deployment.metadata.annotations.get(REVISION)
    (current,) = [
        rs
        for rs in apps.list_namespaced_replica_set(NAMESPACE, label_selector=SELECTOR).items
        if rs.metadata.annotations.get(REVISION) == revision
    ]
    ready = current.status.ready_replicas or 0
    progressing = {c.type: c.reason for c in deployment.status.conditions or []}.get("Progressing")
    complete = (
        ready == REPLICAS
        and deployment.status.observed_generation == deployment.metadata.generation
        and progressing == "NewReplicaSetAvailable"
    )
    return (
        f"revision {revision}, {ready}/{REPLICAS} of its pods ready, Progressing {progressing}"
        f"{'' if complete else ' (pulumi up returned before the rollout was complete)'}"
    )


def timed_up(deployed: Deployed, kube: client.ApiClient, what: str) -> float:
    """`pulumi up`, its wall time recorded in the summary (it bounds what a CI timeout must allow)
    with where the rollout was when it returned."""
    started = time.monotonic()
    deployed.stack.stack.up(on_output=print)
    took = time.monotonic() - started
    MEASURED.append(f"{what}: pulumi up took {took:.1f} s; then {rollout_at_return(kube)}")
    return took


def roll_under_load(
    deployed: Deployed, kube: client.ApiClient, what: str, change: Callable[[], None]
) -> tuple[str, LoadResult]:
    """Applies `change` and `pulumi up` under load; returns the ReplicaSet every pod then runs on."""
    before, _ = settled_pods(kube)
    change()

    def roll(_load: LoadGenerator) -> str:
        timed_up(deployed, kube, what)
        return settled_pods(kube, not_on=before)[0]

    return under_load(deployed, what, roll)


def up_that_fails(stack: auto.Stack, success_means: Callable[[float], str]) -> tuple[float, str]:
    """`pulumi up`, which must fail: how long it took and its error. A success fails the test with
    `success_means(seconds)`."""
    started = time.monotonic()
    try:
        stack.up(on_output=print)
    except auto.CommandError as failed:
        return time.monotonic() - started, str(failed)
    pytest.fail(success_means(time.monotonic() - started))


def test_up_completed_with_the_real_ingress_await(deployed: Deployed, kube: client.ApiClient) -> None:
    assert deployed.up.summary.result == "succeeded"
    (ingress,) = client.NetworkingV1Api(kube).list_namespaced_ingress(NAMESPACE, label_selector=SELECTOR).items
    # The provider waited for a real controller to publish an address, not for nothing.
    assert "pulumi.com/skipAwait" not in (ingress.metadata.annotations or {})
    assert [entry.hostname for entry in ingress.status.load_balancer.ingress] == ["localhost"]
    assert ingress.spec.ingress_class_name == "nginx"


@pytest.mark.parametrize("path", ["/", "/health", "/ready"])
def test_https_through_the_ingress_answers_200(deployed: Deployed, path: str) -> None:
    response = deployed.client.get(path)
    assert response.status == 200, f"GET https://{HOST}{path}: {response.status} {response.data[:200]!r}"


def test_the_certificate_is_the_stacks_own(deployed: Deployed) -> None:
    """The 200s above were verified against caCertificate; the system's CAs do not trust the server."""
    system_cas = urllib3.HTTPSConnectionPool(
        "127.0.0.1", 443, cert_reqs="CERT_REQUIRED", server_hostname=HOST, assert_hostname=HOST, retries=False
    )
    with pytest.raises(urllib3.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        system_cas.request("GET", "/", headers={"Host": HOST})


def test_plain_http_redirects_to_https(deployed: Deployed) -> None:
    response = deployed.client.get_plain_http("/health")
    assert response.status in (301, 302, 307, 308), response.status
    assert response.headers["Location"].startswith(f"https://{HOST}/"), response.headers


def test_pods_run_restricted_ready_and_spread_over_both_workers(deployed: Deployed, kube: client.ApiClient) -> None:
    _, pods = settled_pods(kube)
    assert {pod.spec.node_name for pod in pods} == WORKERS
    for pod in pods:
        spec = pod.spec
        assert spec.security_context.run_as_non_root is True
        assert spec.security_context.seccomp_profile.type == "RuntimeDefault"
        (container,) = spec.containers
        security = container.security_context
        assert security.allow_privilege_escalation is False
        assert security.capabilities.drop == ["ALL"]
        assert security.read_only_root_filesystem is True
        (status,) = pod.status.container_statuses
        assert status.ready and status.restart_count == 0, f"{pod.metadata.name}: {status}"


def test_pod_security_admission_enforces_restricted(deployed: Deployed, kube: client.ApiClient) -> None:
    """The app's pods were admitted under `restricted`, which refuses a privileged pod."""
    labels = client.CoreV1Api(kube).read_namespace(NAMESPACE).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged-probe"},
        "spec": {"containers": [{"name": "c", "image": "flask-app:ci", "securityContext": {"privileged": True}}]},
    }
    with pytest.raises(client.ApiException) as refused:
        client.CoreV1Api(kube).create_namespaced_pod(NAMESPACE, privileged, dry_run="All")
    assert refused.value.status == 403 and "violates PodSecurity" in str(refused.value.body)


def test_the_front_door_is_the_programs_own_traefik(deployed: Deployed, kube: client.ApiClient) -> None:
    """What serves the Ingress is the controller the program installed, not a stand-in, and nothing
    of the retired ingress-nginx is on the cluster."""
    (controller,) = client.AppsV1Api(kube).list_namespaced_deployment(CONTROLLER_NAMESPACE).items
    (container,) = controller.spec.template.spec.containers
    assert container.image.rpartition(":")[2] == f"v{versions()['TRAEFIK_VERSION']}", container.image
    assert controller.status.ready_replicas == 1
    assert "--providers.kubernetesIngressNGINX=true" in (container.args or [])
    assert controller.spec.template.spec.security_context.run_as_non_root is True
    namespaces = {ns.metadata.name for ns in client.CoreV1Api(kube).list_namespace().items}
    assert "ingress-nginx" not in namespaces
    (ingress_class,) = client.NetworkingV1Api(kube).list_ingress_class().items
    assert (ingress_class.metadata.name, ingress_class.spec.controller) == ("nginx", "k8s.io/ingress-nginx")


# The article's limit (nginx.ingress.kubernetes.io/proxy-body-size: 5m) and a body either side of it.
BODY_LIMIT = 5 * 2**20
ABOVE, BELOW = 6 * 2**20, 4 * 2**20


def assert_body_limit(deployed: Deployed, route: str, scratch: Path) -> None:
    """Above the limit the proxy answers 413 itself; below it the whole body reaches the app, whose
    /upload reads it and answers its size."""
    above, _, _ = deployed.client.post("/upload", ABOVE, scratch)
    below, _, body = deployed.client.post("/upload", BELOW, scratch)
    MEASURED.append(f"body limit through {route}: POST 6 MiB -> {above}, POST 4 MiB -> {below} {body.strip()}")
    assert above == 413, above
    assert below == 200 and json.loads(body) == {"received_bytes": BELOW}, (below, body[:200])


def test_the_articles_body_limit_holds_through_the_ingress(deployed: Deployed, tmp_path: Path) -> None:
    assert_body_limit(deployed, "the Ingress", tmp_path)


def test_the_apps_logs_hold_no_error_line(deployed: Deployed, kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    for pod in app_pods(kube):
        log = core.read_namespaced_pod_log(pod.metadata.name, NAMESPACE)
        assert "Booting worker" in log, f"{pod.metadata.name} logged no gunicorn start: {log[:500]}"
        errors = [line for line in log.splitlines() if ERROR_LINE.search(line)]
        assert errors == [], f"{pod.metadata.name}: {errors[:5]}"


def test_a_config_change_rolls_every_pod_without_a_failed_request(deployed: Deployed, kube: client.ApiClient) -> None:
    stack = deployed.stack.stack
    new_rs, _ = roll_under_load(
        deployed,
        kube,
        "config change (app.env.LOG_LEVEL)",
        lambda: stack.set_config("flask-k8s:app.env.LOG_LEVEL", auto.ConfigValue("debug"), path=True),
    )
    pods = app_pods(kube)
    assert {replica_set_of(p) for p in pods} == {new_rs}
    core = client.CoreV1Api(kube)
    config_maps = {
        env.config_map_ref.name for env in pods[0].spec.containers[0].env_from if env.config_map_ref is not None
    }
    assert [core.read_namespaced_config_map(name, NAMESPACE).data["LOG_LEVEL"] for name in config_maps] == ["debug"]


def roll_to_a_new_image(deployed: Deployed, kube: client.ApiClient, image: str, what: str) -> None:
    """Builds and loads `image`, points the stack at it and rolls it out under load: every pod ends
    on one new ReplicaSet running it."""
    run_script("scripts/kind-cluster.sh", "image", image, env={"KIND_CLUSTER_NAME": CLUSTER})
    stack = deployed.stack.stack
    new_rs, _ = roll_under_load(
        deployed, kube, what, lambda: stack.set_config("flask-k8s:app.image", auto.ConfigValue(image), path=True)
    )
    pods = app_pods(kube)
    assert {replica_set_of(p) for p in pods} == {new_rs}
    assert {p.spec.containers[0].image for p in pods} == {image}
    assert all(s.image.endswith(image) for p in pods for s in p.status.container_statuses)


def test_an_image_change_rolls_every_pod_without_a_failed_request(deployed: Deployed, kube: client.ApiClient) -> None:
    roll_to_a_new_image(deployed, kube, "flask-app:ci-2", "image change")


def drain(kube: client.ApiClient, node: str, timeout: float = 120) -> tuple[list[str], int]:
    """`kubectl drain` for the app's pods: cordons `node` and evicts each app pod on it through the
    Eviction API, retrying while the PodDisruptionBudget refuses (429), as kubectl does; returns the
    evicted pods and how many evictions the budget refused. The caller uncordons."""
    core = client.CoreV1Api(kube)
    core.patch_node(node, {"spec": {"unschedulable": True}})
    pending = sorted(p.metadata.name for p in app_pods(kube) if p.spec.node_name == node)
    evicted: list[str] = []
    refused = 0
    deadline = time.monotonic() + timeout
    while pending:
        for name in list(pending):
            eviction = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=NAMESPACE))
            try:
                core.create_namespaced_pod_eviction(name, NAMESPACE, eviction)
            except client.ApiException as error:
                if error.status != 429:
                    raise
                refused += 1
                continue
            pending.remove(name)
            evicted.append(name)
        if pending:
            assert time.monotonic() < deadline, f"the PDB still refused evicting {pending} after {timeout:.0f} s"
            time.sleep(1)
    return evicted, refused


def uncordon(kube: client.ApiClient, node: str) -> None:
    client.CoreV1Api(kube).patch_node(node, {"spec": {"unschedulable": False}})


def test_draining_a_worker_moves_its_pods_without_a_failed_request(deployed: Deployed, kube: client.ApiClient) -> None:
    """The PDB (maxUnavailable 1) lets a drain proceed one pod at a time; the app loses no request."""
    (pdb,) = client.PolicyV1Api(kube).list_namespaced_pod_disruption_budget(NAMESPACE, label_selector=SELECTOR).items
    assert pdb.spec.max_unavailable == 1
    replica_set, pods = settled_pods(kube)
    # The busier worker (3 pods on 2 workers: it has 2 or 3), so the budget must hold a second eviction.
    node, count = Counter(p.spec.node_name for p in pods).most_common(1)[0]
    assert node in WORKERS and count >= 2, [(p.metadata.name, p.spec.node_name) for p in pods]
    on_node = sorted(p.metadata.name for p in pods if p.spec.node_name == node)

    def drain_node(_load: LoadGenerator) -> tuple[list[str], int, list[client.V1Pod]]:
        started = time.monotonic()
        try:
            evicted, refused = drain(kube, node)
            # The drain is done when every pod left the node (terminated, not just terminating) and
            # its replacements elsewhere are Ready; a drain creates no ReplicaSet.
            after = settled_pods(kube, off_node=node)[1]
        finally:
            uncordon(kube, node)
        MEASURED.append(
            f"drain of a worker: {len(evicted)} pods evicted and replaced in {time.monotonic() - started:.1f} s; "
            f"the PDB refused {refused} eviction(s) meanwhile"
        )
        return evicted, refused, after

    (evicted, refused, after), _ = under_load(deployed, f"drain of a worker ({count} app pods)", drain_node)
    assert evicted == on_node
    # Evicting the second pod before the first one's replacement was Ready would leave 1 of 3
    # unavailable pods too many: the budget refused it at least once.
    assert refused >= 1
    assert {replica_set_of(p) for p in after} == {replica_set}
    assert {p.spec.node_name for p in after} == WORKERS - {node}
    assert not set(on_node) & {p.metadata.name for p in after}
    assert not client.CoreV1Api(kube).read_node(node).spec.unschedulable


# The two bad releases: tiny images FROM the CI app image (tests/kind/images/), built and loaded
# into the nodes by scripts/kind-cluster.sh during the session.
BAD_RELEASES = {
    "never-ready": "tests/kind/images/never-ready.Dockerfile",
    "crash-on-start": "tests/kind/images/crash-on-start.Dockerfile",
}
# What a failing `pulumi up` may take beyond the Deployment's own timeout: starting the engine and the
# program and diffing the other resources (a whole good `up` with its rollout takes about 30 s here).
UP_OVERHEAD_SECONDS = 60


@dataclass
class ReplicaSetWatch:
    """Polls the app's ReplicaSets in a thread while a `pulumi up` runs: one sample per poll, each
    mapping a ReplicaSet to its (spec.replicas, readyReplicas, availableReplicas)."""

    kube: client.ApiClient
    interval: float = 0.5
    samples: list[dict[str, tuple[int, int, int]]] = field(default_factory=list)
    missed: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _poll(self) -> None:
        apps = client.AppsV1Api(self.kube)
        while not self._stop.wait(self.interval):
            try:
                replica_sets = apps.list_namespaced_replica_set(NAMESPACE, label_selector=SELECTOR).items
            except (client.ApiException, urllib3.exceptions.HTTPError):
                # A busy API server may miss a poll; the test asserts that enough of them answered.
                self.missed += 1
                continue
            self.samples.append(
                {
                    rs.metadata.name: (
                        rs.spec.replicas or 0,
                        rs.status.ready_replicas or 0,
                        rs.status.available_replicas or 0,
                    )
                    for rs in replica_sets
                }
            )

    def __enter__(self) -> ReplicaSetWatch:
        self._thread = threading.Thread(target=self._poll, name="replica-set-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# A diagnostic's heading in `pulumi up`'s output: `<type token> (<logical name>):`.
DIAGNOSTIC_HEADING = re.compile(r"^[\w.-]+:[\w./-]*:\w+ \(.+\):$")


def error_lines(error: str, limit: int = 10) -> list[str]:
    """The Deployment's diagnostic in a failed `pulumi up`'s output: its heading and its reasons."""
    lines = [line.strip() for line in error.splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("kubernetes:apps/v1:Deployment")), None)
    if start is None:
        return lines[-limit:]
    end = next(
        (i for i in range(start + 1, len(lines)) if DIAGNOSTIC_HEADING.match(lines[i]) or lines[i] == "Outputs:"),
        len(lines),
    )
    return [line for line in lines[start:end] if line][:limit]


def config_int(deployed: Deployed, key: str) -> int:
    return int(deployed.stack.stack.get_config(f"flask-k8s:{key}", path=True).value)


@dataclass
class BadRelease:
    """What happened while a bad release was tried and the good one put back."""

    seconds_to_fail: float
    error: str
    watch: ReplicaSetWatch
    bad_pods: list[client.V1Pod]
    deployment: client.V1Deployment
    recovered_on: str
    recovered_pods: list[client.V1Pod]


@pytest.mark.parametrize("bad", list(BAD_RELEASES))
def test_a_bad_release_fails_in_bounded_time_and_the_next_good_up_recovers(
    deployed: Deployed, kube: client.ApiClient, bad: str
) -> None:
    """`pulumi up` with an image that never turns ready, or crashes, fails within the stack's
    app.rollout.timeoutSeconds naming the Deployment and ProgressDeadlineExceeded; meanwhile the old
    ReplicaSet keeps every replica available (maxUnavailable 0) and no request fails; `pulumi up`
    with the good image then recovers with no manual step."""
    image = f"flask-app:{bad}"
    run_script("scripts/kind-cluster.sh", "image", image, BAD_RELEASES[bad], env={"KIND_CLUSTER_NAME": CLUSTER})
    stack = deployed.stack.stack
    good_image = stack.get_config("flask-k8s:app.image", path=True).value
    deadline = config_int(deployed, "app.rollout.progressDeadlineSeconds")
    timeout = config_int(deployed, "app.rollout.timeoutSeconds")
    good_rs, _ = settled_pods(kube)
    apps = client.AppsV1Api(kube)

    def release(_load: LoadGenerator) -> BadRelease:
        stack.set_config("flask-k8s:app.image", auto.ConfigValue(image), path=True)
        with ReplicaSetWatch(kube) as watch:
            seconds_to_fail, error = up_that_fails(
                stack,
                lambda took: f"pulumi up with {image} succeeded after {took:.1f} s; then {rollout_at_return(kube)}",
            )
        MEASURED.append(
            f"bad release ({bad}): pulumi up failed after {seconds_to_fail:.1f} s "
            f"(progressDeadlineSeconds {deadline}, timeoutSeconds {timeout}), saying:"
        )
        MEASURED.extend(f"    {line}" for line in error_lines(error))
        # As the failed `up` left them, before the good release replaces them.
        bad_pods = [p for p in app_pods(kube) if replica_set_of(p) != good_rs]
        deployment = apps.read_namespaced_deployment(APP, NAMESPACE)
        stack.set_config("flask-k8s:app.image", auto.ConfigValue(good_image), path=True)
        timed_up(deployed, kube, f"bad release ({bad}): recovery")
        recovered_on, recovered_pods = settled_pods(kube)
        return BadRelease(seconds_to_fail, error, watch, bad_pods, deployment, recovered_on, recovered_pods)

    # The load outlasts the failing `up` (the Deployment's timeout) and the recovery.
    result, _ = under_load(deployed, f"bad release ({bad})", release, max_seconds=timeout + 240.0)

    # Bounded: the Deployment's timeout ends the wait, well before the provider's default 10 minutes.
    assert result.seconds_to_fail < timeout + UP_OVERHEAD_SECONDS, result.error[-3000:]
    # The error names the Deployment and why the rollout failed: the Deployment controller's own
    # condition, naming the new ReplicaSet, and what the provider saw of the new pod.
    (bad_rs,) = {replica_set_of(p) for p in result.bad_pods}
    (bad_pod,) = result.bad_pods
    pod_reason = {
        "never-ready": f"[Pod {NAMESPACE}/{bad_pod.metadata.name}]: containers with unready status: [flask]",
        "crash-on-start": "(Error: exit code 1)",
    }[bad]
    for expected in (
        "kubernetes:apps/v1:Deployment",
        f'"{NAMESPACE}/{APP}"',
        f'[ProgressDeadlineExceeded] ReplicaSet "{bad_rs}" has timed out progressing',
        pod_reason,
    ):
        assert expected in result.error, f"{expected!r} not in the error of pulumi up:\n{result.error[-3000:]}"
    progressing = {c.type: c for c in result.deployment.status.conditions}["Progressing"]
    assert (progressing.status, progressing.reason) == ("False", "ProgressDeadlineExceeded")

    # The release was really tried and was really bad: its pods ran the image and never turned ready.
    assert result.bad_pods and all(p.spec.containers[0].image == image for p in result.bad_pods)
    assert not any(is_ready(p) for p in result.bad_pods)
    statuses = [p.status.container_statuses[0] for p in result.bad_pods]
    if bad == "crash-on-start":
        assert all(s.restart_count >= 1 and s.last_state.terminated.exit_code == 1 for s in statuses), statuses
    else:
        assert all(s.state.running is not None and s.restart_count == 0 for s in statuses), statuses

    # Throughout the failing `up`, the old ReplicaSet kept all its replicas ready and available, and
    # the bad one never had one ready (maxUnavailable 0: no old pod goes before a new one is ready).
    watch = result.watch
    assert len(watch.samples) >= result.seconds_to_fail / 2, f"only {len(watch.samples)} polls ({watch.missed} missed)"
    assert all(sample[good_rs] == (REPLICAS, REPLICAS, REPLICAS) for sample in watch.samples), [
        sample[good_rs] for sample in watch.samples if sample[good_rs] != (REPLICAS, REPLICAS, REPLICAS)
    ][:5]
    assert any(sample.get(bad_rs, (0, 0, 0))[0] >= 1 for sample in watch.samples)
    assert all(sample.get(bad_rs, (0, 0, 0))[1:] == (0, 0) for sample in watch.samples)

    # The good release's `up` put the old ReplicaSet back in charge: every pod Ready on the good image,
    # the bad ReplicaSet scaled to 0, the app answering.
    assert result.recovered_on == good_rs
    assert {p.spec.containers[0].image for p in result.recovered_pods} == {good_image}
    assert apps.read_namespaced_replica_set(bad_rs, NAMESPACE).spec.replicas == 0
    assert deployed.client.get("/ready").status == 200


# --- The Gateway API route -------------------------------------------------------------------------------------

GATEWAY_API = ("gateway.networking.k8s.io", "v1")


def gateway_objects(kube: client.ApiClient, plural: str) -> list[dict[str, Any]]:
    found = client.CustomObjectsApi(kube).list_namespaced_custom_object(*GATEWAY_API, NAMESPACE, plural)
    return list(cast(dict[str, Any], found)["items"])


def conditions(status: dict[str, Any]) -> dict[str, str]:
    return {str(c["type"]): str(c["status"]) for c in status.get("conditions") or []}


# Moving between the route APIs is not a rollout and not hitless: while Traefik attaches the new
# HTTPRoute to the new Gateway's listener for the same host, that listener answers 404 (24 of 1500
# requests over 1.2 s in the first measured run). README says so; the gap is measured and bounded.
MOVE_MAX_GAP_SECONDS = 5.0


def test_moving_to_gateway_api_serves_https_through_the_gateway(deployed: Deployed, kube: client.ApiClient) -> None:
    """ingress.api gateway: one `pulumi up` replaces the Ingress by a Gateway and HTTPRoutes, and
    returns only once the Gateway is Programmed and the routes Accepted with their references
    resolved; under load, at most a short gap of 404s while the route attaches."""
    stack = deployed.stack.stack
    stack.set_config("flask-k8s:ingress.api", auto.ConfigValue("gateway"), path=True)
    load = LoadGenerator(deployed.client, rate=RATE, max_seconds=240.0, max_requests=int(RATE * 240.0))
    with load:
        try:
            timed_up(deployed, kube, "move from the Ingress to Gateway API")
            time.sleep(DRAIN_SECONDS)
            load.finish(MIN_REQUESTS)
        finally:
            result = load.stop()
            MEASURED.append(f"move from the Ingress to Gateway API: {result.summary()}")
    assert set(result.failures) <= {"404"}, result.summary()
    assert result.longest_gap() <= MOVE_MAX_GAP_SECONDS, result.summary()
    # Read right after `up` returned: nothing is waited for here.
    (gateway,) = gateway_objects(kube, "gateways")
    assert conditions(gateway["status"]) | {"Accepted": "True", "Programmed": "True"} == conditions(gateway["status"])
    routes = gateway_objects(kube, "httproutes")
    assert len(routes) == 2  # the app's, and the redirect from HTTP
    for route in routes:
        (parent,) = route["status"]["parents"]
        assert conditions(parent) == {"Accepted": "True", "ResolvedRefs": "True"}, route["metadata"]
    assert client.NetworkingV1Api(kube).list_namespaced_ingress(NAMESPACE).items == []
    response = deployed.client.get("/ready")
    assert response.status == 200, response.data[:200]


def test_the_gateway_redirects_plain_http_to_https(deployed: Deployed) -> None:
    response = deployed.client.get_plain_http("/health")
    assert response.status == 301, response.status
    assert response.headers["Location"].startswith(f"https://{HOST}/"), response.headers


def test_the_gateway_serves_the_stacks_certificate(deployed: Deployed) -> None:
    """The 200s through the Gateway are verified against caCertificate, as through the Ingress."""
    assert deployed.client.get("/").status == 200
    test_the_certificate_is_the_stacks_own(deployed)


def test_the_articles_body_limit_holds_through_the_gateway(deployed: Deployed, tmp_path: Path) -> None:
    assert_body_limit(deployed, "Gateway API", tmp_path)


def test_an_image_change_through_the_gateway_drops_no_request(deployed: Deployed, kube: client.ApiClient) -> None:
    roll_to_a_new_image(deployed, kube, "flask-app:ci-3", "image change through Gateway API")


def test_a_gateway_nobody_serves_fails_up_with_its_condition_while_the_route_keeps_serving(
    deployed: Deployed, kube: client.ApiClient
) -> None:
    """A GatewayClass no controller serves: `pulumi up` fails within the rollout's timeout, quoting
    the Gateway's own condition, and the Gateway and routes in place keep serving (the new ones were
    made beside them); the next good `up` recovers."""
    stack = deployed.stack.stack
    timeout = config_int(deployed, "app.rollout.timeoutSeconds")
    (serving,) = gateway_objects(kube, "gateways")

    def bad_then_good(_load: LoadGenerator) -> tuple[float, str]:
        stack.set_config("flask-k8s:ingress.gateway.className", auto.ConfigValue("nobody-serves-this"), path=True)
        took, error = up_that_fails(stack, lambda _: "pulumi up with a GatewayClass nobody serves succeeded")
        MEASURED.append(f"Gateway of an unserved class: pulumi up failed after {took:.1f} s, saying:")
        MEASURED.extend(
            f"    {line.strip()}" for line in error.splitlines() if "Gateway " in line or "HTTPRoute " in line
        )
        # The Gateway that served is still there, programmed, next to the new one.
        names = {g["metadata"]["name"]: g for g in gateway_objects(kube, "gateways")}
        assert serving["metadata"]["name"] in names, sorted(names)
        assert deployed.client.get("/ready").status == 200
        stack.set_config("flask-k8s:ingress.gateway.className", auto.ConfigValue("traefik"), path=True)
        timed_up(deployed, kube, "Gateway of an unserved class: recovery")
        return took, error

    (took, error), _ = under_load(deployed, "Gateway of an unserved class, and recovery", bad_then_good)
    assert took < timeout + UP_OVERHEAD_SECONDS, error[-3000:]
    assert "the route is not serving after" in error, error[-3000:]
    assert "Accepted=Unknown (Pending): Waiting for controller" in error, error[-3000:]
    # After the recovery: one Gateway of the served class, programmed; the unserved one is gone.
    (gateway,) = gateway_objects(kube, "gateways")
    assert gateway["spec"]["gatewayClassName"] == "traefik"
    assert conditions(gateway["status"])["Programmed"] == "True"


def test_destroy_leaves_no_object_of_the_app_nor_its_controller(deployed: Deployed, kube: client.ApiClient) -> None:
    deployed.stack.stack.destroy(on_output=print)
    core = client.CoreV1Api(kube)
    for namespace in (NAMESPACE, CONTROLLER_NAMESPACE):
        wait_for(
            f"namespace {namespace} to be gone",
            lambda n=namespace: not_found(lambda: core.read_namespace(n)),
            timeout=180,
        )
    leftovers = [
        f"{kind}/{item.metadata.namespace}/{item.metadata.name}"
        for kind, items in {
            "pod": core.list_pod_for_all_namespaces(label_selector=SELECTOR).items,
            "service": core.list_service_for_all_namespaces(label_selector=SELECTOR).items,
            "configmap": core.list_config_map_for_all_namespaces(label_selector=SELECTOR).items,
            "secret": core.list_secret_for_all_namespaces(label_selector=SELECTOR).items,
            "ingress": client.NetworkingV1Api(kube).list_ingress_for_all_namespaces(label_selector=SELECTOR).items,
            "ingressclass": client.NetworkingV1Api(kube).list_ingress_class().items,
        }.items()
        for item in items
    ]
    assert leftovers == []
    # The controller's cluster-wide objects and its CRDs went with it (and so every Gateway API object).
    rbac = client.RbacAuthorizationV1Api(kube)
    assert [r.metadata.name for r in rbac.list_cluster_role().items if "traefik" in (r.metadata.name or "")] == []
    crds = client.ApiextensionsV1Api(kube).list_custom_resource_definition().items
    assert [c.metadata.name for c in crds if c.spec.group in ("gateway.networking.k8s.io", "traefik.io")] == []
    # Nothing answers on the node's ports any more.
    with pytest.raises(urllib3.exceptions.HTTPError):
        deployed.client.get_plain_http("/health")
