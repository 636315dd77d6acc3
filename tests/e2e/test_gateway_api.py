# Every field of the kubernetes client's models is Optional; a missing one fails the test anyway.
# pyright: reportOptionalMemberAccess=false, reportOptionalSubscript=false, reportIndexIssue=false
# pyright: reportArgumentType=false
"""The Gateway API route and the program's own ingress controller, applied to a real API server.

Mocks check what the program sends; here the kwok control plane, with the CRDs the program installs
(Gateway API's standard channel and Traefik's, from scripts/toolchain/crds.sh as offline stacks read
them), validates every Gateway, HTTPRoute, GatewayClass and Middleware strictly, as a cluster would.
kwok runs no container, so devtools/cluster.py's stand-in plays Traefik's part in the objects'
status; `pulumi up` reads that status through the program's own wait (route_status.py), so the
tests also show that wait ending, and failing with the controller's words when no controller
serves a Gateway's class. Runs in file order on its own stack and namespaces.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from pulumi import automation as auto

from devtools.cluster import GATEWAY_API, IngressControllerStandIn, label_ingress_ready_node, not_found, wait_for
from tests.e2e.conftest import STACK, target_session_cluster
from tests.engine import ProjectStack, project_stack, run_script

NAMESPACE = "gateway-e2e"
CONTROLLER_NAMESPACE = "traefik-e2e"
# Short, so that the refused Gateway below fails in well under a minute (the wait is the rollout's).
ROLLOUT_TIMEOUT = 40


@pytest.fixture(scope="module")
def gateway_stack(
    tool_bin: Path,
    kubeconfig: str,
    kube: client.ApiClient,
    ingress_controller: IngressControllerStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ProjectStack]:
    crds = run_script("scripts/toolchain/crds.sh").strip()
    label_ingress_ready_node(kube)
    config = {
        "namespace.name": NAMESPACE,
        "autoscaling.enabled": "false",
        "cluster.ingressController.install": "true",
        "cluster.ingressController.namespace": CONTROLLER_NAMESPACE,
        "cluster.ingressController.crds.dir": crds,
        "namespace.networkPolicy.ingressControllerNamespace": CONTROLLER_NAMESPACE,
        "ingress.api": "gateway",
        "app.rollout.progressDeadlineSeconds": "10",
        "app.rollout.timeoutSeconds": str(ROLLOUT_TIMEOUT),
    }
    with project_stack(STACK, kubeconfig, tool_bin, tmp_path_factory.mktemp("gateway-stack")) as stack:
        target_session_cluster(stack)
        for key, value in config.items():
            stack.stack.set_config(f"flask-k8s:{key}", auto.ConfigValue(value), path=True)
        yield stack


def custom(kube: client.ApiClient, plural: str, namespace: str | None = NAMESPACE) -> list[dict[str, Any]]:
    api = client.CustomObjectsApi(kube)
    if namespace is None:
        return api.list_cluster_custom_object(*GATEWAY_API, plural)["items"]
    return api.list_namespaced_custom_object(*GATEWAY_API, namespace, plural)["items"]


def test_up_installs_the_controller_and_routes_through_gateway_api(
    gateway_stack: ProjectStack, kube: client.ApiClient
) -> None:
    result = gateway_stack.stack.up(on_output=print)
    assert result.summary.result == "succeeded"
    assert result.outputs["url"].value == "https://flask-app.local/"
    # The CRDs, applied from the files an offline stack reads, serve their kinds.
    crds = {c.metadata.name for c in client.ApiextensionsV1Api(kube).list_custom_resource_definition().items}
    assert {
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
        "middlewares.traefik.io",
    } <= crds
    (gateway_class,) = custom(kube, "gatewayclasses", None)
    assert gateway_class["spec"]["controllerName"] == "traefik.io/gateway-controller"
    (gateway,) = custom(kube, "gateways")
    assert {item["name"]: item["port"] for item in gateway["spec"]["listeners"]} == {"http": 80, "https": 443}
    routes = {r["metadata"]["name"].rsplit("-", 1)[0]: r for r in custom(kube, "httproutes")}
    assert set(routes) == {"flask-app-ingress-gateway-route", "flask-app-ingress-gateway-redirect"}
    backend = routes["flask-app-ingress-gateway-route"]["spec"]["rules"][0]["backendRefs"]
    assert backend == [{"group": "", "kind": "Service", "name": "flask-app-service", "port": 80, "weight": 1}]
    # The up returned only after the routes were accepted by the (stand-in) controller.
    for route in routes.values():
        (parent,) = route["status"]["parents"]
        assert {c["type"]: c["status"] for c in parent["conditions"]} == {"Accepted": "True", "ResolvedRefs": "True"}
    (middleware,) = client.CustomObjectsApi(kube).list_namespaced_custom_object(
        "traefik.io", "v1alpha1", NAMESPACE, "middlewares"
    )["items"]
    assert middleware["spec"] == {"buffering": {"maxRequestBodyBytes": 5 * 2**20}}
    apps = client.AppsV1Api(kube)
    controller = apps.read_namespaced_deployment("traefik", CONTROLLER_NAMESPACE)
    assert controller.spec.template.spec.containers[0].image == "traefik:v3.6.12"
    assert client.NetworkingV1Api(kube).list_namespaced_ingress(NAMESPACE).items == []


def test_a_gateway_of_a_class_nobody_serves_fails_up_with_its_condition(gateway_stack: ProjectStack) -> None:
    stack = gateway_stack.stack
    stack.set_config("flask-k8s:ingress.gateway.className", auto.ConfigValue("nobody-serves-this"), path=True)
    with pytest.raises(auto.CommandError) as failed:
        stack.up(on_output=print)
    error = str(failed.value)
    print("\n".join(line for line in error.splitlines() if "Gateway" in line or "route is not" in line))
    assert "the route is not serving after" in error
    assert "Accepted=Unknown (Pending): Waiting for controller" in error
    stack.set_config("flask-k8s:ingress.gateway.className", auto.ConfigValue("traefik"), path=True)
    assert stack.up(on_output=print).summary.result == "succeeded"


def test_destroy_removes_the_route_the_controller_and_its_crds(
    gateway_stack: ProjectStack, kube: client.ApiClient
) -> None:
    gateway_stack.stack.destroy(on_output=print)
    core = client.CoreV1Api(kube)
    for namespace in (NAMESPACE, CONTROLLER_NAMESPACE):
        wait_for(f"namespace {namespace} gone", lambda n=namespace: not_found(lambda: core.read_namespace(n)))
    crds = client.ApiextensionsV1Api(kube).list_custom_resource_definition().items
    assert [c.metadata.name for c in crds if c.spec.group in ("gateway.networking.k8s.io", "traefik.io")] == []
    assert [c.metadata.name for c in client.NetworkingV1Api(kube).list_ingress_class().items] == []
