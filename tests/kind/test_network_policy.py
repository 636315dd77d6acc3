# The kubernetes client's models make every field Optional; a missing one fails the test anyway.
# pyright: reportOptionalMemberAccess=false, reportOptionalSubscript=false, reportOptionalIterable=false
# pyright: reportArgumentType=false
"""The app's NetworkPolicies on a cluster that enforces them: what they block, and what they let through.

On the Kind cluster of scripts/kind-cluster.sh (whose `up` has already proved that the cluster
enforces NetworkPolicy at all), the `kind-ci` stack's policies are checked by connections between
the cluster's own pods: a pod of another namespace cannot open the app's port while HTTPS through
the ingress controller answers; an app pod resolves names, reaches a test target that the stack's
egress rule allows (the stack is pointed at that in-cluster target) and nothing else; and with
`namespace.networkPolicy.enabled false` the same blocked connections succeed, so these tests can fail.

Every probe target is listening, which a connection from a pod without a policy in its way shows
first: a blocked connection is then the policy's doing, not a closed port. Blocked means refused (the
enforcer REJECTs) or timed out within PROBE_TIMEOUT seconds.

The probe pods run the app's own image (it has Python): `python -m http.server` as targets and a
sleeping client to exec into, in a namespace of their own that the test deletes. The tests run in
file order, before tests/kind/test_real_cluster.py, and leave the stack's config as they found it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pulumi
import pytest
from kubernetes import client
from kubernetes.stream import stream
from pulumi import automation as auto

from devtools.cluster import not_found, wait_for
from devtools.harness import stack_config
from settings import PROJECT, StackSettings, load_settings
from settings.schema import NamespaceGroup
from tests.kind.conftest import APP, NAMESPACE, STACK, Deployed

pytestmark = pytest.mark.kind

PROBE_NAMESPACE = "netpol-probe"
PROBE_TIMEOUT = 3.0
ALLOWED_PORT = 8080  # the stack's egress rule allows the target on this port...
OTHER_PORT = 8081  # ...and not on this one, where the target listens too
SELECTOR = f"app.kubernetes.io/instance={APP}"
BLOCKED = ("refused", "timeout")

# Run inside a pod: one TCP connection, and how it went. Exit code 0 whatever the outcome, so that
# the outcome is read from stdout alone.
CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()
    print("open")
except ConnectionRefusedError:
    print("refused")
except TimeoutError:
    print("timeout")
except OSError as error:
    print(f"error {error.errno} {error.strerror}")
"""
RESOLVE = """
import json, socket, sys
print(json.dumps(sorted({a[4][0] for a in socket.getaddrinfo(sys.argv[1], 443, proto=socket.IPPROTO_TCP)})))
"""


def stack_settings() -> StackSettings:
    """The kind-ci stack's settings as the program reads them (its stack file over Pulumi.yaml's defaults)."""
    pulumi.runtime.set_all_config(stack_config(STACK), [])
    return load_settings()


def controller_namespace() -> str:
    """The ingress controller's namespace, as the kind-ci stack's policy admits it (its setting, read
    whether the policy is on or off)."""
    raw = stack_config(STACK).get(f"{PROJECT}:namespace")
    return NamespaceGroup.model_validate(json.loads(raw or "{}")).network_policy.ingress_controller_namespace


def run_in(kube: client.ApiClient, namespace: str, pod: str, *command: str) -> str:
    """Runs a command in a pod's (first) container and returns its output."""
    # An ApiClient of its own: the websocket call swaps the client's transport while it runs.
    output = stream(
        client.CoreV1Api(client.ApiClient(kube.configuration)).connect_get_namespaced_pod_exec,
        pod,
        namespace,
        command=list(command),
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _request_timeout=30,
    )
    return str(output).strip()


def connect(kube: client.ApiClient, namespace: str, pod: str, host: str, port: int) -> str:
    """From `pod`: "open", "refused", "timeout" or "error ..." for one TCP connection to host:port."""
    return run_in(kube, namespace, pod, "python", "-c", CONNECT, host, str(port), str(PROBE_TIMEOUT))


def settled(kube: client.ApiClient, namespace: str, pod: str, host: str, port: int, want: tuple[str, ...]) -> str:
    """The outcome of connections from `pod` once it is one of `want`, or the last one after 20 s: an
    enforcer applies a policy change within a second or two of `up` returning."""
    deadline = time.monotonic() + 20
    outcome = connect(kube, namespace, pod, host, port)
    while outcome not in want and time.monotonic() < deadline:
        time.sleep(1)
        outcome = connect(kube, namespace, pod, host, port)
    return outcome


def app_pods(kube: client.ApiClient) -> list[client.V1Pod]:
    pods = client.CoreV1Api(kube).list_namespaced_pod(NAMESPACE, label_selector=SELECTOR).items
    ready = [p for p in pods if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]
    # Ready means the kubelet's probes reached gunicorn on the app port: the port is listening.
    assert ready, f"no Ready pod of the app in {NAMESPACE}"
    return ready


# --- The probe pods -------------------------------------------------------------------------------------


def _restricted() -> client.V1SecurityContext:
    return client.V1SecurityContext(
        run_as_non_root=True,
        allow_privilege_escalation=False,
        capabilities=client.V1Capabilities(drop=["ALL"]),
        seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
    )


def _container(name: str, image: str, command: list[str], port: int | None = None) -> client.V1Container:
    return client.V1Container(
        name=name,
        image=image,
        image_pull_policy="IfNotPresent",
        command=command,
        security_context=_restricted(),
        readiness_probe=client.V1Probe(tcp_socket=client.V1TCPSocketAction(port=port), period_seconds=1)
        if port
        else None,
    )


def _server(port: int, image: str) -> client.V1Container:
    return _container(f"http-{port}", image, ["python", "-m", "http.server", str(port)], port)


@dataclass
class Probes:
    client_pod: str
    target_ip: str
    """Listens on ALLOWED_PORT and OTHER_PORT; the stack's egress rule allows ALLOWED_PORT."""
    outside_ip: str
    """Listens on ALLOWED_PORT, outside every egress rule."""


@pytest.fixture(scope="module")
def probes(deployed: Deployed, kube: client.ApiClient) -> Iterator[Probes]:
    core = client.CoreV1Api(kube)
    image = stack_settings().app.workload.image  # loaded into the nodes by scripts/kind-cluster.sh
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=PROBE_NAMESPACE)))
    pods = {
        "client": [_container("client", image, ["sleep", "3600"])],
        "target": [_server(ALLOWED_PORT, image), _server(OTHER_PORT, image)],
        "outside": [_server(ALLOWED_PORT, image)],
    }
    try:
        for name, containers in pods.items():
            spec = client.V1PodSpec(containers=containers, termination_grace_period_seconds=0)
            core.create_namespaced_pod(
                PROBE_NAMESPACE,
                client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels={"probe": name}), spec=spec),
            )

        def ready_ips() -> dict[str, str] | None:
            found = core.list_namespaced_pod(PROBE_NAMESPACE).items
            ready = {
                str(p.metadata.name): str(p.status.pod_ip)
                for p in found
                if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
            }
            return ready if len(ready) == len(pods) else None

        ips = wait_for("the probe pods to be Ready", ready_ips, timeout=120)
        yield Probes(client_pod="client", target_ip=ips["target"], outside_ip=ips["outside"])
    finally:
        core.delete_namespace(PROBE_NAMESPACE, grace_period_seconds=0)
        wait_for(
            f"namespace {PROBE_NAMESPACE} to be gone",
            lambda: not_found(lambda: core.read_namespace(PROBE_NAMESPACE)) or None,
            timeout=120,
        )


def _set_egress(stack: auto.Stack, cidr: str, port: int) -> None:
    stack.set_config("flask-k8s:namespace.networkPolicy.egress[0].cidr", auto.ConfigValue(cidr), path=True)
    stack.set_config("flask-k8s:namespace.networkPolicy.egress[0].port", auto.ConfigValue(str(port)), path=True)


@pytest.fixture(scope="module")
def egress_to_target(deployed: Deployed, probes: Probes) -> Iterator[Probes]:
    """The stack's egress rule pointed at the target pod (its IP /32, ALLOWED_PORT), as prod's points at
    its database; removed again afterwards."""
    stack = deployed.stack.stack
    _set_egress(stack, f"{probes.target_ip}/32", ALLOWED_PORT)
    try:
        stack.up(on_output=print)
        yield probes
    finally:
        stack.remove_config("flask-k8s:namespace.networkPolicy.egress", path=True)
        stack.up(on_output=print)


# --- Ingress: only the ingress controller's namespace reaches the app --------------------------------------


def test_the_ingress_controller_reaches_the_app_and_another_namespace_does_not(
    deployed: Deployed, kube: client.ApiClient, probes: Probes
) -> None:
    # The namespace the policy admits (the stack's setting) is where the controller answering runs.
    admitted = controller_namespace()
    assert client.CoreV1Api(kube).list_namespaced_pod(admitted).items, (
        f"no pod in {admitted}, the namespace the stack's policy admits as the ingress controller's"
    )
    assert deployed.client.get("/").status == 200
    port = stack_settings().app.workload.port
    outcomes = {
        p.metadata.name: connect(kube, PROBE_NAMESPACE, probes.client_pod, p.status.pod_ip, port)
        for p in app_pods(kube)
    }
    assert outcomes and all(o in BLOCKED for o in outcomes.values()), (
        f"from namespace {PROBE_NAMESPACE} to the app's port {port}: {outcomes} (want refused or timeout)"
    )


# --- Egress: DNS, the allowed target, and nothing else ----------------------------------------------------


def test_every_egress_target_is_listening(kube: client.ApiClient, egress_to_target: Probes) -> None:
    p = egress_to_target
    seen = {
        (host, port): connect(kube, PROBE_NAMESPACE, p.client_pod, host, port)
        for host, port in ((p.target_ip, ALLOWED_PORT), (p.target_ip, OTHER_PORT), (p.outside_ip, ALLOWED_PORT))
    }
    assert set(seen.values()) == {"open"}, f"from a pod that no policy restricts: {seen}"


def test_an_app_pod_resolves_names(kube: client.ApiClient, egress_to_target: Probes) -> None:
    pod = app_pods(kube)[0].metadata.name
    output = run_in(kube, NAMESPACE, pod, "python", "-c", RESOLVE, "kubernetes.default.svc.cluster.local")
    assert json.loads(output), f"DNS from app pod {pod}: {output}"


def test_an_app_pod_reaches_the_allowed_target_only(kube: client.ApiClient, egress_to_target: Probes) -> None:
    p = egress_to_target
    pod = app_pods(kube)[0].metadata.name
    allowed = settled(kube, NAMESPACE, pod, p.target_ip, ALLOWED_PORT, ("open",))
    other_port = connect(kube, NAMESPACE, pod, p.target_ip, OTHER_PORT)
    outside = connect(kube, NAMESPACE, pod, p.outside_ip, ALLOWED_PORT)
    assert (allowed, other_port in BLOCKED, outside in BLOCKED) == ("open", True, True), (
        f"from app pod {pod}: {p.target_ip}:{ALLOWED_PORT} (allowed) {allowed}, "
        f"{p.target_ip}:{OTHER_PORT} {other_port}, {p.outside_ip}:{ALLOWED_PORT} {outside}"
    )


# --- Without the policy, the same connections succeed ----------------------------------------------------


@pytest.fixture
def policy_disabled(deployed: Deployed) -> Iterator[None]:
    stack = deployed.stack.stack
    stack.set_config("flask-k8s:namespace.networkPolicy.enabled", auto.ConfigValue("false"), path=True)
    try:
        stack.up(on_output=print)
        yield
    finally:
        stack.remove_config("flask-k8s:namespace.networkPolicy.enabled", path=True)
        stack.up(on_output=print)


def test_without_the_policy_the_blocked_connections_succeed(
    deployed: Deployed, kube: client.ApiClient, probes: Probes, policy_disabled: None
) -> None:
    policies = client.NetworkingV1Api(kube).list_namespaced_network_policy(NAMESPACE).items
    assert policies == [], f"policies left with networkPolicy.enabled false: {[p.metadata.name for p in policies]}"
    port = stack_settings().app.workload.port
    pod = app_pods(kube)[0]
    inbound = settled(kube, PROBE_NAMESPACE, probes.client_pod, pod.status.pod_ip, port, ("open",))
    outbound = settled(kube, NAMESPACE, pod.metadata.name, probes.outside_ip, ALLOWED_PORT, ("open",))
    assert (inbound, outbound) == ("open", "open"), (
        f"with the policy off: {PROBE_NAMESPACE} -> app {pod.status.pod_ip}:{port} {inbound}, "
        f"app -> {probes.outside_ip}:{ALLOWED_PORT} {outbound}"
    )
