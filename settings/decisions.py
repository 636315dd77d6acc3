"""Decisions made once, where their inputs meet, and passed on as values: the checks (checks.py)
and the builders (build.py) read them instead of deciding again.

- Who owns the pod count (the stack's `app.replicas`, or an HPA between `autoscaling`'s bounds) and
  the most pods a rollout can hold at once: the quota is checked against that peak and derived from it.
- Whether the Gateway API route is served by the Traefik this stack installs: only then can the
  route's body limit be a Traefik Middleware.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_k8s_components.workload import AutoscalingSpec, ScaleSpec

from settings.schema import AppGroup, AutoscalingGroup, ClusterGroup, IngressGroup


@dataclass(frozen=True)
class Pods:
    """The pod count and the peak of a rollout."""

    scale: ScaleSpec
    """Who owns the count: app.replicas, or the HPA."""
    count_path: str
    """The config path the most pods outside a rollout come from."""
    peak: int
    """The most pods a rollout can hold at once."""
    peak_rule: str
    """How `peak` is made up, for the problem lines that quote it."""


@dataclass(frozen=True)
class Decisions:
    """What was decided; None where a group it needs is not an object at all (already reported)."""

    pods: Pods | None
    gateway_by_traefik: bool | None


def decide(groups: Mapping[str, object]) -> Decisions:
    app, autoscaling = groups.get("app"), groups.get("autoscaling")
    ingress, cluster = groups.get("ingress"), groups.get("cluster")
    return Decisions(
        pods=pods(app, autoscaling)
        if isinstance(app, AppGroup) and isinstance(autoscaling, AutoscalingGroup)
        else None,
        gateway_by_traefik=gateway_by_traefik(ingress, cluster)
        if isinstance(ingress, IngressGroup) and isinstance(cluster, ClusterGroup)
        else None,
    )


def pods(app: AppGroup, autoscaling: AutoscalingGroup) -> Pods:
    """The count's owner, and the most pods a rollout can hold at once.

    During a rolling update the old pods keep running while maxSurge new ones start. A pod that is
    stopping still counts against the quota until it is gone (its preStop pause and graceful stop),
    while the rollout already starts the next surge pod: up to maxSurge + maxUnavailable of them.
    With an HPA, the most pods there can be is its maximum.
    """
    hpa = (
        AutoscalingSpec(autoscaling.min_replicas, autoscaling.max_replicas, autoscaling.cpu_utilization)
        if autoscaling.enabled
        else None
    )
    scale = ScaleSpec(replicas=app.replicas, autoscaling=hpa)
    count_path = "autoscaling.maxReplicas" if hpa else "app.replicas"
    surge, stopping = app.rollout.max_surge, app.rollout.max_surge + app.rollout.max_unavailable
    rule = f"{count_path} + maxSurge + stopping (maxSurge + maxUnavailable) = {scale.most} + {surge} + {stopping}"
    return Pods(scale=scale, count_path=count_path, peak=scale.most + surge + stopping, peak_rule=rule)


def gateway_by_traefik(ingress: IngressGroup, cluster: ClusterGroup) -> bool:
    """Whether the Gateway route's class is the one of the Traefik this stack installs."""
    controller = cluster.ingress_controller
    return (
        controller.install
        and not ingress.gateway.shared.name
        and ingress.gateway.class_name == controller.gateway_class_name
    )
