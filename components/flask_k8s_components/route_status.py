"""Waiting for a Gateway API route to serve, and failing with the controller's own words when not.

pulumi-kubernetes has no built-in await for Gateway API kinds, and its `pulumi.com/waitFor`
annotation only knows success: a route that can never be accepted (a Gateway that does not exist,
a GatewayClass no controller serves, a backend it cannot resolve) would wait out its timeout and
then say "timed out waiting for the condition". So `pulumi up` waits here instead, reading the
objects' status with the Kubernetes client through the same kubeconfig and context as the provider:
done once the Gateway (if the program made it) is Accepted and Programmed and each route is Accepted
with ResolvedRefs by its parent; otherwise the error quotes the conditions that are not True, with
their reasons and messages, or says that no controller reported at all.

It runs only during an update (never in a preview: a pull request's preview must not depend on
a cluster's answers, nor under Pulumi's unit-test mocks, where no cluster exists) and only where a
ClusterAccess is given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor

GROUP, VERSION = "gateway.networking.k8s.io", "v1"
# A condition that says False for this long (with the object's current generation observed) is a
# verdict, not a controller catching up: fail then rather than at the timeout.
FALSE_FOR_SECONDS = 20.0
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class ClusterAccess:
    """How the program reaches the cluster besides the provider: the provider's own kubeconfig and context."""

    kubeconfig: pulumi.Input[str] | None = None
    """Kubeconfig contents (secret); None reads the local kubeconfig ($KUBECONFIG or ~/.kube/config)."""
    context: str | None = None
    """Context to use; None: the kubeconfig's current context."""


@dataclass(frozen=True)
class ObjectRef:
    """A namespaced object."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class RouteWait:
    """What must be true before the route counts as serving."""

    gateway: ObjectRef | None
    """The Gateway the program made (Accepted and Programmed), or None for a shared one."""
    parent: ObjectRef
    """The Gateway the routes attach to."""
    routes: list[ObjectRef] = field(default_factory=list)
    """HTTPRoutes that must be Accepted with ResolvedRefs by `parent`."""
    timeout_seconds: float = 300.0
    """How long to wait at most."""


# Reads one object's status: (kind plural, namespace, name) -> the object, or None if absent.
Reader = Callable[[str, str, str], Mapping[str, Any] | None]


def problems(wait: RouteWait, read: Reader) -> tuple[list[str], bool]:
    """What is not yet true, one line each, and whether a controller has said False to any of it
    (for the objects' current generation): a verdict, unless it changes its mind soon."""
    lines: list[str] = []
    verdicts: list[bool] = []
    if wait.gateway is not None:
        gateway = read("gateways", wait.gateway.namespace, wait.gateway.name)
        if gateway is None:
            lines.append(f"Gateway {wait.gateway}: not found")
            verdicts.append(False)
        else:
            for line, verdict in _unmet(
                f"Gateway {wait.gateway}", gateway, gateway.get("status") or {}, ("Accepted", "Programmed")
            ):
                lines.append(line)
                verdicts.append(verdict)
    for ref in wait.routes:
        route = read("httproutes", ref.namespace, ref.name)
        if route is None:
            lines.append(f"HTTPRoute {ref}: not found")
            verdicts.append(False)
            continue
        parents = [
            p
            for p in (route.get("status") or {}).get("parents") or []
            if (p.get("parentRef") or {}).get("name") == wait.parent.name
            and (p.get("parentRef") or {}).get("namespace", ref.namespace) == wait.parent.namespace
        ]
        if not parents:
            lines.append(
                f"HTTPRoute {ref}: no controller has reported on it for Gateway {wait.parent} (does that Gateway "
                "exist, does its class have a controller, and do its listeners allow routes from this namespace?)"
            )
            verdicts.append(False)
            continue
        for parent in parents:
            for line, verdict in _unmet(
                f"HTTPRoute {ref} on Gateway {wait.parent}", route, parent, ("Accepted", "ResolvedRefs")
            ):
                lines.append(line)
                verdicts.append(verdict)
    return lines, any(verdicts)


def _unmet(
    what: str, obj: Mapping[str, Any], status: Mapping[str, Any], wanted: Sequence[str]
) -> list[tuple[str, bool]]:
    """Each wanted condition that is not True: a line naming it, and whether it is a verdict
    (False, for the object's current generation)."""
    generation = (obj.get("metadata") or {}).get("generation")
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    out: list[tuple[str, bool]] = []
    for kind in wanted:
        condition = conditions.get(kind)
        if condition is None:
            out.append((f"{what}: no {kind} condition yet", False))
            continue
        current = generation is None or condition.get("observedGeneration") in (None, generation)
        if condition.get("status") == "True" and current:
            continue
        stale = "" if current else " (for an older generation)"
        line = (
            f"{what}: {kind}={condition.get('status')} ({condition.get('reason')}){stale}: {condition.get('message')}"
        )
        out.append((line, condition.get("status") == "False" and current))
    return out


def wait_until_serving(wait: RouteWait, read: Reader, clock: Callable[[], float] = time.monotonic) -> None:
    """Polls until nothing is unmet; raises RouteNotServing with what is unmet at the timeout, or
    once a controller has said False for FALSE_FOR_SECONDS on end."""
    started = clock()
    false_since: float | None = None
    while True:
        lines, verdict = problems(wait, read)
        if not lines:
            return
        now = clock()
        if not verdict:
            false_since = None
        elif false_since is None:
            false_since = now
        if now - started >= wait.timeout_seconds or (
            false_since is not None and now - false_since >= FALSE_FOR_SECONDS
        ):
            raise RouteNotServing(lines, now - started)
        time.sleep(POLL_SECONDS)


class RouteNotServing(pulumi.RunError):
    """The route did not start serving: printed by the engine as a plain message."""

    def __init__(self, lines: Sequence[str], waited: float) -> None:
        self.lines = list(lines)
        body = "\n".join(f"  - {line}" for line in self.lines)
        super().__init__(f"the route is not serving after {waited:.0f} s:\n{body}")


def _under_mocks() -> bool:
    """Whether the program runs under pulumi.runtime.set_mocks (a unit test), not the engine."""
    return isinstance(pulumi.runtime.settings.get_monitor(), MockMonitor)


def kubernetes_reader(kubeconfig: str | None, context: str | None) -> Reader:
    """A Reader through the Kubernetes client, configured like the provider."""
    from kubernetes import client, config  # only an update that waits for a route needs the client

    if kubeconfig:
        api = config.new_client_from_config_dict(yaml.safe_load(kubeconfig), context=context)
    else:
        api = config.new_client_from_config(context=context)
    custom = client.CustomObjectsApi(api)

    def read(plural: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        try:
            found = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
        except client.ApiException as error:
            if error.status == 404:
                return None
            raise
        return cast(Mapping[str, Any], found)

    return read


def route_serving(access: ClusterAccess | None, wait: pulumi.Output[RouteWait]) -> pulumi.Output[str]:
    """An output that resolves once the route serves ("serving"), fails the update when it does not,
    and is "not checked" in a preview or without cluster access. `wait` is made from the applied
    objects' outputs, so the wait starts once they exist."""
    if access is None:
        return pulumi.Output.from_input("not checked")

    async def check(values: list[Any]) -> str:
        kubeconfig, wanted = values[0], values[1]
        if pulumi.runtime.is_dry_run() or _under_mocks():
            return "not checked"
        read = kubernetes_reader(kubeconfig, access.context)
        await asyncio.to_thread(wait_until_serving, wanted, read)
        return "serving"

    return pulumi.Output.all(access.kubeconfig, wait).apply(check)
