"""How `pulumi up` decides that a Gateway API route serves, from the objects' status alone."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest
from flask_k8s_components import route_status
from flask_k8s_components.route_status import ObjectRef, RouteNotServing, RouteWait, problems, wait_until_serving

from devtools.harness import ROOT

GATEWAY = ObjectRef("flask-app", "flask-app-gateway-1a2b")
ROUTE = ObjectRef("flask-app", "flask-app-route-3c4d")
WAIT = RouteWait(gateway=GATEWAY, parent=GATEWAY, routes=[ROUTE], timeout_seconds=60)


def condition(kind: str, status: str, reason: str = "", message: str = "", generation: int = 1) -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message, "observedGeneration": generation}


def gateway(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"generation": 1}, "status": {"conditions": list(conditions)}}


def route(*conditions: dict[str, Any], parent: str = GATEWAY.name) -> dict[str, Any]:
    ref = {"name": parent, "namespace": GATEWAY.namespace}
    return {"metadata": {"generation": 1}, "status": {"parents": [{"parentRef": ref, "conditions": list(conditions)}]}}


SERVING_GATEWAY = gateway(condition("Accepted", "True"), condition("Programmed", "True"))
SERVING_ROUTE = route(condition("Accepted", "True"), condition("ResolvedRefs", "True"))


def reader(objects: Mapping[str, Mapping[str, Any] | None]) -> route_status.Reader:
    return lambda plural, namespace, name: objects.get(plural)


def test_a_programmed_gateway_and_an_accepted_route_serve() -> None:
    assert problems(WAIT, reader({"gateways": SERVING_GATEWAY, "httproutes": SERVING_ROUTE})) == ([], False)


def test_a_route_whose_backend_is_missing_is_a_verdict_with_the_controllers_message() -> None:
    missing = route(
        condition("Accepted", "True"),
        condition("ResolvedRefs", "False", "BackendNotFound", "Cannot load HTTPBackendRef flask-app/nope"),
    )
    lines, verdict = problems(WAIT, reader({"gateways": SERVING_GATEWAY, "httproutes": missing}))
    assert lines == [
        f"HTTPRoute {ROUTE} on Gateway {GATEWAY}: ResolvedRefs=False (BackendNotFound): "
        "Cannot load HTTPBackendRef flask-app/nope"
    ]
    assert verdict


def test_a_gateway_of_a_class_nobody_serves_waits_for_a_controller() -> None:
    # The CRD's defaults: what a Gateway of an unknown class keeps forever.
    pending = gateway(
        condition("Accepted", "Unknown", "Pending", "Waiting for controller"),
        condition("Programmed", "Unknown", "Pending", "Waiting for controller"),
    )
    lines, verdict = problems(WAIT, reader({"gateways": pending, "httproutes": {"metadata": {}, "status": {}}}))
    assert lines[0] == f"Gateway {GATEWAY}: Accepted=Unknown (Pending): Waiting for controller"
    assert "no controller has reported on it" in lines[2]
    assert not verdict


def test_a_condition_of_an_older_generation_does_not_count() -> None:
    old = route(condition("Accepted", "True", generation=1), condition("ResolvedRefs", "True", generation=1))
    old["metadata"]["generation"] = 2
    lines, _ = problems(WAIT, reader({"gateways": SERVING_GATEWAY, "httproutes": old}))
    assert len(lines) == 2
    assert all("=True () (for an older generation)" in line for line in lines), lines


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()

    def sleep(seconds: float) -> None:
        fake.now += seconds

    monkeypatch.setattr(time, "sleep", sleep)
    return fake


def test_the_wait_ends_as_soon_as_the_route_serves(clock: Clock) -> None:
    states = iter(
        [{"gateways": None, "httproutes": None}] * 3 + [{"gateways": SERVING_GATEWAY, "httproutes": SERVING_ROUTE}]
    )
    current: dict[str, Any] = {}

    def read(plural: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        if plural == "gateways":
            current.update(next(states))
        return current[plural]

    wait_until_serving(WAIT, read, clock)
    assert clock.now == 3 * route_status.POLL_SECONDS


def test_a_settled_false_fails_early_and_quotes_the_controller(clock: Clock) -> None:
    refused = route(condition("Accepted", "False", "NotAllowedByListeners", "No listener allows this namespace"))
    with pytest.raises(RouteNotServing) as failed:
        wait_until_serving(WAIT, reader({"gateways": SERVING_GATEWAY, "httproutes": refused}), clock)
    assert clock.now == pytest.approx(route_status.FALSE_FOR_SECONDS)
    assert "Accepted=False (NotAllowedByListeners): No listener allows this namespace" in str(failed.value)


def test_no_answer_at_all_fails_at_the_timeout(clock: Clock) -> None:
    shared = RouteWait(gateway=None, parent=ObjectRef("gateways", "nope"), routes=[ROUTE], timeout_seconds=30)
    with pytest.raises(RouteNotServing, match="no controller has reported on it for Gateway gateways/nope"):
        wait_until_serving(shared, reader({"httproutes": {"metadata": {"generation": 1}, "status": {}}}), clock)
    assert clock.now == 30


def test_the_pinned_versions_are_the_toolchains() -> None:
    """The program's defaults and scripts/versions.env name the same Traefik and Gateway API releases."""
    versions = dict(
        line.split("=", 1)
        for line in (ROOT / "scripts/versions.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    from flask_k8s_components import ingress_controller

    assert f"v{versions['TRAEFIK_VERSION']}" == ingress_controller.TRAEFIK_VERSION
    assert f"v{versions['GATEWAY_API_VERSION']}" == ingress_controller.GATEWAY_API_VERSION
