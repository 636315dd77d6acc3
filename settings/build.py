"""Each component's Args, built once from the validated config groups, with what can be derived.

Derived, unless the stack sets them: the namespace's ResourceQuota (the peak pod count of a rollout
times the app's own requests and limits), the LimitRange's container defaults (the app's requests
and limits), the image pull policy, the app's environment (the article's values under app.env) and
the route (an Ingress or a Gateway API route, with its TLS mode from the tls group), and the ingress
controller's CRD sources.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import pulumi
from flask_k8s_components.flask_app import FlaskAppArgs, GatewaySpec, IngressSpec, NetworkPolicySpec, ServiceSpec
from flask_k8s_components.gateway import SharedGateway
from flask_k8s_components.ingress_controller import CrdSources, IngressControllerArgs
from flask_k8s_components.kind_cluster import KindClusterArgs
from flask_k8s_components.namespace import LimitRangeSpec, QuotaSpec
from flask_k8s_components.network_policy import EgressRule
from flask_k8s_components.secrets import DatabaseArgs
from flask_k8s_components.tls import CertManagerArgs, RouteTls
from flask_k8s_components.workload import AutoscalingSpec, ResourcesSpec, RolloutSpec, SecuritySpec, TerminationSpec

from settings.checks import peak_pods
from settings.schema import (
    DEFAULT_ENV,
    DEFAULT_INGRESS_ANNOTATIONS,
    AppGroup,
    AutoscalingGroup,
    ClusterGroup,
    DatabaseGroup,
    IngressGroup,
    NamespaceGroup,
    ServiceGroup,
    TlsGroup,
    body_size_bytes,
    parse_quantity,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Secrets:
    """Values from encrypted stack config; None: generated (or, for kubeconfig, not given)."""

    kubeconfig: pulumi.Output[str] | None = None
    secret_key: pulumi.Output[str] | None = None
    jwt_secret_key: pulumi.Output[str] | None = None
    database_password: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class KindImageSource:
    """The app image the stack builds and loads into Kind."""

    image: str
    """Image reference it is tagged as."""
    source_dir: str
    """Folder of its Dockerfile."""


@dataclass(frozen=True)
class ClusterSettings:
    """Which cluster the app goes to, and what the stack installs there besides the app."""

    kind: KindClusterArgs | None
    """The Kind cluster (target kind), else None."""
    kind_image: KindImageSource | None
    """The image built and loaded into Kind, if the stack does that."""
    kubeconfig: pulumi.Output[str] | None
    """existing target: kubeconfig contents (secret)."""
    context: str | None
    """existing target: context of the local kubeconfig."""
    ingress_controller: IngressControllerArgs | None
    """The ingress controller (Traefik), if the stack installs it."""


@dataclass(frozen=True)
class TlsSettings:
    """What the stack installs for TLS besides the route's own certificate (RouteTls)."""

    mode: str
    """self-signed, cert-manager, secret or none."""
    cert_manager: CertManagerArgs | None
    """cert-manager and its ClusterIssuer, if the stack installs them."""


@dataclass(frozen=True)
class StackSettings:
    """The validated configuration of one stack, as the components' Args."""

    app: FlaskAppArgs
    """The app."""
    cluster: ClusterSettings
    """The target cluster and its add-ons."""
    tls: TlsSettings
    """TLS for the Ingress."""


def build(groups: Mapping[str, object], secrets: Secrets) -> StackSettings:
    cluster, app = _as(groups["cluster"], ClusterGroup), _as(groups["app"], AppGroup)
    ingress, tls = _as(groups["ingress"], IngressGroup), _as(groups["tls"], TlsGroup)
    app_args = flask_app_args(
        app,
        _as(groups["autoscaling"], AutoscalingGroup),
        _as(groups["namespace"], NamespaceGroup),
        _as(groups["service"], ServiceGroup),
        _as(groups["database"], DatabaseGroup),
        secrets,
        side_loaded=cluster.target == "kind" and cluster.kind.load_image,
    )
    app_args = dataclasses.replace(app_args, **route_specs(ingress, tls, cluster))
    return StackSettings(app=app_args, cluster=cluster_settings(cluster, app, secrets), tls=tls_settings(tls, ingress))


def _as(value: object, kind: type[T]) -> T:
    assert isinstance(value, kind), (value, kind)
    return value


def cluster_settings(cluster: ClusterGroup, app: AppGroup, secrets: Secrets) -> ClusterSettings:
    kind, kind_image = None, None
    if cluster.target == "kind":
        k = cluster.kind
        kind = KindClusterArgs(cluster_name=k.name, workers=k.workers, create=k.create, node_image=k.node_image or None)
        if k.load_image:
            kind_image = KindImageSource(image=app.image, source_dir=k.app_source_dir)
    return ClusterSettings(
        kind=kind,
        kind_image=kind_image,
        kubeconfig=secrets.kubeconfig,
        context=cluster.context or None,
        ingress_controller=ingress_controller_args(cluster),
    )


def ingress_controller_args(cluster: ClusterGroup) -> IngressControllerArgs | None:
    controller = cluster.ingress_controller
    if not controller.install:
        return None
    crds = controller.crds
    return IngressControllerArgs(
        image=controller.image,
        crds=(CrdSources.folder(crds.dir.rstrip("/")) if crds.dir else CrdSources.releases()) if crds.install else None,
        namespace=controller.namespace,
        replicas=controller.replicas,
        exposure=controller.exposure,
        service_annotations=dict(controller.service_annotations),
        gateway_class_name=controller.gateway_class_name,
        max_body_bytes=body_size_bytes(controller.max_body_size) or None,
    )


def tls_settings(tls: TlsGroup, ingress: IngressGroup) -> TlsSettings:
    manager = tls.cert_manager
    return TlsSettings(
        mode=tls.mode,
        cert_manager=CertManagerArgs(
            version=manager.version,
            issuer_name=manager.cluster_issuer,
            acme_email=manager.acme_email,
            ingress_class_name=ingress.class_name,
        )
        if tls.mode == "cert-manager" and manager.install
        else None,
    )


def route_tls(tls: TlsGroup) -> RouteTls:
    """The tls group as the route's one typed choice."""
    if tls.mode == "none":
        return RouteTls()
    issuer = tls.cert_manager.cluster_issuer if tls.mode == "cert-manager" else ""
    return RouteTls(mode=tls.mode, secret_name=tls.secret_name, cluster_issuer=issuer)


def route_specs(ingress: IngressGroup, tls: TlsGroup, cluster: ClusterGroup) -> dict[str, object]:
    """FlaskAppArgs' `ingress` and `gateway`: the one route the stack chose (or none)."""
    if not ingress.enabled:
        return {"ingress": None, "gateway": None}
    if ingress.api == "ingress":
        spec = IngressSpec(
            host=ingress.host,
            ingress_class_name=ingress.class_name,
            tls=route_tls(tls),
            annotations={**DEFAULT_INGRESS_ANNOTATIONS, **ingress.annotations},
        )
        return {"ingress": spec, "gateway": None}
    gateway, shared = ingress.gateway, ingress.gateway.shared
    return {
        "ingress": None,
        "gateway": GatewaySpec(
            host=ingress.host,
            tls=route_tls(tls),
            gateway_class_name=gateway.class_name,
            shared_gateway=SharedGateway(shared.name, shared.namespace, shared.section_name or None)
            if shared.name
            else None,
            max_body_bytes=body_size_bytes(gateway.max_body_size) if served_by_traefik(ingress, cluster) else None,
        ),
    }


def served_by_traefik(ingress: IngressGroup, cluster: ClusterGroup) -> bool:
    """Whether the Gateway route's class is the one of the Traefik this stack installs."""
    controller = cluster.ingress_controller
    return (
        controller.install
        and not ingress.gateway.shared.name
        and (ingress.gateway.class_name == controller.gateway_class_name)
    )


def flask_app_args(
    app: AppGroup,
    autoscaling: AutoscalingGroup,
    namespace: NamespaceGroup,
    service: ServiceGroup,
    database: DatabaseGroup,
    secrets: Secrets,
    *,
    side_loaded: bool,
) -> FlaskAppArgs:
    req, lim = app.resources.requests, app.resources.limits
    rollout, term = app.rollout, app.termination
    network = namespace.network_policy
    return FlaskAppArgs(
        name=app.name,
        namespace=namespace.name,
        image=app.image,
        image_pull_policy=pull_policy(app, side_loaded),
        version=app.version,
        replicas=app.replicas,
        container_port=app.port,
        resources=ResourcesSpec(req.cpu, req.memory, lim.cpu, lim.memory, req.ephemeral_storage, lim.ephemeral_storage),
        quota=quota(app, autoscaling, namespace),
        limit_range=limit_range(app, namespace),
        namespace_labels=pod_security_labels(namespace),
        # GRACEFUL_TIMEOUT is read by app/gunicorn.conf.py: how long workers finish in-flight
        # requests after SIGTERM.
        env={**DEFAULT_ENV, **app.env, "GRACEFUL_TIMEOUT": str(term.graceful_timeout_seconds)},
        config_file=app.config_file,
        database=DatabaseArgs(user=database.user, host=database.host, port=database.port, name=database.name)
        if database.host
        else None,
        secret_key=secrets.secret_key,
        jwt_secret_key=secrets.jwt_secret_key,
        database_password=secrets.database_password,
        service=ServiceSpec(type=service.type, annotations=dict(service.annotations)),
        security=SecuritySpec(app.security.run_as_user, app.security.read_only_root_filesystem),
        termination=TerminationSpec(term.pre_stop_sleep_seconds, term.grace_period_seconds),
        rollout=RolloutSpec(
            rollout.max_surge, rollout.max_unavailable, rollout.progress_deadline_seconds, rollout.timeout_seconds
        ),
        autoscaling=AutoscalingSpec(autoscaling.min_replicas, autoscaling.max_replicas, autoscaling.cpu_utilization)
        if autoscaling.enabled
        else None,
        disruption_budget=app.disruption_budget,
        spread_zones=app.spread_zones,
        network_policy=NetworkPolicySpec(
            ingress_namespaces=[network.ingress_controller_namespace],
            egress=[EgressRule(cidr=r.cidr, port=r.port) for r in network.egress],
        )
        if network.enabled
        else None,
    )


def pull_policy(app: AppGroup, side_loaded: bool) -> str:
    """The stack's imagePullPolicy, or derived: a digest names one image forever and a side-loaded
    image (kind load) is in no registry, so both are IfNotPresent; a tag can be pushed again, so a
    node that has an older image under that tag must pull (Always)."""
    if app.image_pull_policy:
        return app.image_pull_policy
    return "IfNotPresent" if side_loaded or "@" in app.image else "Always"


def _cpu_times(count: int, quantity: str) -> str:
    """count x a CPU quantity: whole cores when whole, else millicores."""
    total = count * parse_quantity(quantity)
    return str(int(total)) if total == total.to_integral_value() else f"{int(total * 1000)}m"


def _bytes_times(count: int, quantity: str) -> str:
    """count x a memory quantity, in the largest binary unit that keeps it exact."""
    total = int(count * parse_quantity(quantity))
    for suffix, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if total % size == 0:
            return f"{total // size}{suffix}"
    return str(total)


def quota(app: AppGroup, autoscaling: AutoscalingGroup, namespace: NamespaceGroup) -> QuotaSpec:
    """The ResourceQuota: what the stack sets, else exactly what the peak of a rollout needs."""
    peak, _ = peak_pods(app, autoscaling)
    q, req, lim = namespace.quota, app.resources.requests, app.resources.limits
    return QuotaSpec(
        requests_cpu=q.requests.cpu or _cpu_times(peak, req.cpu),
        requests_memory=q.requests.memory or _bytes_times(peak, req.memory),
        limits_cpu=q.limits.cpu or _cpu_times(peak, lim.cpu),
        limits_memory=q.limits.memory or _bytes_times(peak, lim.memory),
        pods=q.pods or peak,
        services=q.services,
        persistent_volume_claims=q.persistent_volume_claims,
    )


def limit_range(app: AppGroup, namespace: NamespaceGroup) -> LimitRangeSpec:
    """Container defaults: what the stack sets, else the app's own requests and limits."""
    default, request = namespace.limits.default, namespace.limits.default_request
    req, lim = app.resources.requests, app.resources.limits
    return LimitRangeSpec(
        default_cpu=default.cpu or lim.cpu,
        default_memory=default.memory or lim.memory,
        default_request_cpu=request.cpu or req.cpu,
        default_request_memory=request.memory or req.memory,
        default_ephemeral_storage=default.ephemeral_storage or lim.ephemeral_storage,
        default_request_ephemeral_storage=request.ephemeral_storage or req.ephemeral_storage,
    )


def pod_security_labels(namespace: NamespaceGroup) -> dict[str, str]:
    # audit and warn stay at restricted even where enforcement is relaxed, so violations still show.
    level, version = namespace.pod_security.enforce, namespace.pod_security.version
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": version,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": version,
    }
