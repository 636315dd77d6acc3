# Every field of the kubernetes client's models is Optional; in the tests, the benchmarks and the demo
# a missing field fails on the spot anyway, so narrowing each one would only add noise.
# pyright: reportOptionalMemberAccess=false, reportOptionalSubscript=false, reportArgumentType=false
# pyright: reportIndexIssue=false
"""Talking to a kwok API server: polling helpers and an ingress-controller stand-in.

kwok runs no ingress controller; the end-to-end tests, the benchmarks and the demo's kwok branch
(`python -m devtools.cluster`) all play its part with the stand-in below.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

T = TypeVar("T")

# What an ingress controller publishes once it serves an Ingress; kwok has no controller, so the
# tests publish it (a loopback address: nothing is ever sent to it).
STAND_IN_ADDRESS = "127.0.0.1"


def api_client(kubeconfig: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=kubeconfig)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 120, interval: float = 0.5) -> T:
    """Polls `probe` until it returns something other than None/False; fails naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last is not None and last is not False:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def not_found(call: Callable[[], Any]) -> bool:
    """True once `call` answers 404."""
    try:
        call()
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return False


GATEWAY_API = ("gateway.networking.k8s.io", "v1")
# The controller name of the program's Traefik (flask_k8s_components/ingress_controller.py).
GATEWAY_CONTROLLER = "traefik.io/gateway-controller"


class IngressControllerStandIn:
    """Plays the part of the ingress controller for the program's waits, as Traefik does once it
    serves an object: publishes an address in the status of every Ingress of the given class, and
    for Gateway API accepts the GatewayClasses of its controller name, programs their Gateways and
    accepts the HTTPRoutes attached to those (ResolvedRefs False when a backend Service is missing,
    as Traefik reports it). A Gateway of another class gets no status, as from a controller that is
    not there."""

    def __init__(self, api: client.ApiClient, ingress_class: str = "nginx", interval: float = 0.5) -> None:
        self.networking = client.NetworkingV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.ingress_class = ingress_class
        self.interval = interval
        self.published: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingress-controller-stand-in", daemon=True)

    def __enter__(self) -> IngressControllerStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            # The API server may be busy, restarting or gone at teardown, or an Ingress just deleted:
            # try again next round.
            with contextlib.suppress(ApiException, urllib3.exceptions.HTTPError):
                self.publish_once()
            self._stop.wait(self.interval)

    def publish_once(self) -> None:
        for ingress in self.networking.list_ingress_for_all_namespaces().items:
            status = ingress.status.load_balancer if ingress.status else None
            if ingress.spec.ingress_class_name != self.ingress_class or (status and status.ingress):
                continue
            self.networking.patch_namespaced_ingress_status(
                ingress.metadata.name,
                ingress.metadata.namespace,
                {"status": {"loadBalancer": {"ingress": [{"ip": STAND_IN_ADDRESS}]}}},
            )
            self.published.append(f"{ingress.metadata.namespace}/{ingress.metadata.name}")
        try:
            classes = self.custom.list_cluster_custom_object(*GATEWAY_API, "gatewayclasses")["items"]
        except ApiException as error:
            if error.status == 404:
                return  # no Gateway API CRDs on this cluster
            raise
        ours = {c["metadata"]["name"] for c in classes if c["spec"]["controllerName"] == GATEWAY_CONTROLLER}
        for gateway_class in classes:
            if gateway_class["metadata"]["name"] in ours:
                self._accept(gateway_class, None, "gatewayclasses", {"Accepted": ("True", "Accepted")})
        served: set[tuple[str, str]] = set()
        for gateway in self.custom.list_cluster_custom_object(*GATEWAY_API, "gateways")["items"]:
            if gateway["spec"]["gatewayClassName"] in ours:
                served.add((gateway["metadata"]["namespace"], gateway["metadata"]["name"]))
                self._accept(
                    gateway,
                    gateway["metadata"]["namespace"],
                    "gateways",
                    {"Accepted": ("True", "Accepted"), "Programmed": ("True", "Programmed")},
                    extra={"addresses": [{"type": "IPAddress", "value": STAND_IN_ADDRESS}]},
                )
        for route in self.custom.list_cluster_custom_object(*GATEWAY_API, "httproutes")["items"]:
            self._accept_route(route, served)

    def _accept(
        self,
        obj: dict[str, Any],
        namespace: str | None,
        plural: str,
        wanted: dict[str, tuple[str, str]],
        extra: dict[str, Any] | None = None,
    ) -> None:
        generation = obj["metadata"].get("generation")
        have = {
            (c["type"], c["status"], c.get("observedGeneration"))
            for c in (obj.get("status") or {}).get("conditions") or []
        }
        if all((kind, status, generation) in have for kind, (status, _) in wanted.items()):
            return
        status = {
            "conditions": [_condition(kind, status, reason, generation) for kind, (status, reason) in wanted.items()]
        }
        body = {"status": {**status, **(extra or {})}}
        name = obj["metadata"]["name"]
        if namespace is None:
            self.custom.patch_cluster_custom_object_status(*GATEWAY_API, plural, name, body)
        else:
            self.custom.patch_namespaced_custom_object_status(*GATEWAY_API, namespace, plural, name, body)
        self.published.append(f"{plural}/{namespace or ''}/{name}")

    def _accept_route(self, route: dict[str, Any], served: set[tuple[str, str]]) -> None:
        namespace, generation = route["metadata"]["namespace"], route["metadata"].get("generation")
        backends = [b["name"] for rule in route["spec"].get("rules") or [] for b in rule.get("backendRefs") or []]
        missing = [b for b in backends if not self._service_exists(namespace, b)]
        resolved = ("False", "BackendNotFound") if missing else ("True", "ResolvedRefs")
        parents = []
        for ref in route["spec"].get("parentRefs") or []:
            if (ref.get("namespace", namespace), ref["name"]) not in served:
                continue
            conditions = [
                _condition("Accepted", "True", "Accepted", generation),
                _condition("ResolvedRefs", resolved[0], resolved[1], generation),
            ]
            parents.append({"parentRef": ref, "controllerName": GATEWAY_CONTROLLER, "conditions": conditions})
        current = (route.get("status") or {}).get("parents") or []
        if not parents or _same_parents(current, parents):
            return
        body = {"status": {"parents": parents}}
        self.custom.patch_namespaced_custom_object_status(
            *GATEWAY_API, namespace, "httproutes", route["metadata"]["name"], body
        )
        self.published.append(f"httproutes/{namespace}/{route['metadata']['name']}")

    def _service_exists(self, namespace: str, name: str) -> bool:
        try:
            self.core.read_namespaced_service(name, namespace)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True


def label_ingress_ready_node(kube: client.ApiClient) -> str:
    """Labels one node `ingress-ready=true`, as Kind labels its control plane: the ingress controller
    takes host ports there (flask_k8s_components/kind_cluster.py). kwok's nodes have no such label of
    their own. Returns the node's name."""
    node = client.CoreV1Api(kube).list_node().items[0].metadata.name
    assert node is not None
    client.CoreV1Api(kube).patch_node(node, {"metadata": {"labels": {"ingress-ready": "true"}}})
    return node


def _condition(kind: str, status: str, reason: str, generation: int | None) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    condition = {"type": kind, "status": status, "reason": reason, "message": "stand-in", "lastTransitionTime": now}
    if generation is not None:
        condition["observedGeneration"] = generation
    return condition


def _same_parents(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    def key(parents: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted(
            (
                p["parentRef"]["name"],
                tuple(sorted((c["type"], c["status"], c.get("observedGeneration")) for c in p["conditions"])),
            )
            for p in parents
        )

    return key(current) == key(wanted)


def main() -> None:
    """`python -m devtools.cluster`: play the ingress controller for $KUBECONFIG until Ctrl-C."""
    with IngressControllerStandIn(api_client(os.environ["KUBECONFIG"])) as stand_in:
        print(
            f"publishing {STAND_IN_ADDRESS} for every nginx-class Ingress and accepting Traefik's Gateway API "
            "objects; Ctrl-C to stop",
            flush=True,
        )
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            print(f"published: {', '.join(stand_in.published) or 'none'}")


if __name__ == "__main__":
    main()
