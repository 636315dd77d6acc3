"""Each component's Args, built once from the validated config groups, with what can be derived.

Derived, unless the stack sets them: the namespace's ResourceQuota (the peak pod count of a rollout
times the app's own requests and limits), the LimitRange's container defaults (the app's requests
and limits), the image pull policy, the app's environment (the article's values under app.env) and
the route (an Ingress or a Gateway API route, with its TLS mode from the tls group), and the ingress
controller's CRD sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import pulumi
from flask_k8s_components.app_config import ConfigSpec
from flask_k8s_components.flask_app import FlaskAppArgs
from flask_k8s_components.ingress_controller import CrdSources, IngressControllerArgs
from flask_k8s_components.kind_cluster import KindClusterArgs
from flask_k8s_components.kind_image import ImageSource
from flask_k8s_components.namespace import LimitRangeSpec, NamespaceSpec, QuotaSpec
from flask_k8s_components.network_policy import EgressRule, NetworkPolicySpec
from flask_k8s_components.route import GatewaySpec, IngressSpec, RouteSpec, SharedGateway
from flask_k8s_components.secrets import DatabaseSpec, SecretsSpec
from flask_k8s_components.service import ServiceSpec
from flask_k8s_components.tls import CertManagerArgs, RouteTls
from flask_k8s_components.workload import ResourcesSpec, RolloutSpec, SecuritySpec, TerminationSpec, WorkloadSpec

from settings.decisions import Decisions, Pods
from settings.schema import (
    DEFAULT_ENV,
    DEFAULT_INGRESS_ANNOTATIONS,
    AppGroup,
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
class ClusterSettings:
    """Which cluster the app goes to, and what the stack installs there besides the app."""

    kind: KindClusterArgs | None
    """The Kind cluster (target kind), else None."""
    kind_image: ImageSource | None
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


def build(groups: Mapping[str, object], secrets: Secrets, decided: Decisions) -> StackSettings:
    """Every component's Args from the validated groups, one spec per group, with what was decided."""
    cluster, app = _as(groups["cluster"], ClusterGroup), _as(groups["app"], AppGroup)
    ingress, tls = _as(groups["ingress"], IngressGroup), _as(groups["tls"], TlsGroup)
    namespace = _as(groups["namespace"], NamespaceGroup)
    pods, by_traefik = decided.pods, decided.gateway_by_traefik
    assert pods is not None and by_traefik is not None, "decided from valid groups"
    app_args = FlaskAppArgs(
        name=app.name,
        namespace=namespace_spec(namespace, app, pods),
        workload=workload_spec(app, pods, side_loaded=cluster.target == "kind" and cluster.kind.load_image),
        config=config_spec(app),
        secrets=secrets_spec(_as(groups["database"], DatabaseGroup), secrets),
        service=service_spec(_as(groups["service"], ServiceGroup)),
        route=route_spec(ingress, tls, by_traefik),
        network_policy=network_policy_spec(namespace),
    )
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
            kind_image = ImageSource(image=app.image, source_dir=k.app_source_dir)
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
            cluster_issuer=manager.cluster_issuer,
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


def route_spec(ingress: IngressGroup, tls: TlsGroup, by_traefik: bool) -> RouteSpec | None:
    """The ingress and tls groups as the route: through an Ingress or Gateway API (or none)."""
    if not ingress.enabled:
        return None
    gateway, shared = ingress.gateway, ingress.gateway.shared
    return RouteSpec(
        host=ingress.host,
        tls=route_tls(tls),
        ingress=IngressSpec(
            class_name=ingress.class_name, annotations={**DEFAULT_INGRESS_ANNOTATIONS, **ingress.annotations}
        ),
        gateway=GatewaySpec(
            class_name=gateway.class_name,
            shared=SharedGateway(shared.name, shared.namespace, shared.section_name or None) if shared.name else None,
            max_body_bytes=body_size_bytes(gateway.max_body_size) if by_traefik else None,
        )
        if ingress.api == "gateway"
        else None,
    )


def namespace_spec(namespace: NamespaceGroup, app: AppGroup, pods: Pods) -> NamespaceSpec:
    return NamespaceSpec(
        name=namespace.name,
        quota=quota(app, pods, namespace),
        limit_range=limit_range(app, namespace),
        labels=pod_security_labels(namespace),
    )


def workload_spec(app: AppGroup, pods: Pods, *, side_loaded: bool) -> WorkloadSpec:
    req, lim = app.resources.requests, app.resources.limits
    rollout, term = app.rollout, app.termination
    return WorkloadSpec(
        image=app.image,
        version=app.version,
        port=app.port,
        resources=ResourcesSpec(req.cpu, req.memory, lim.cpu, lim.memory, req.ephemeral_storage, lim.ephemeral_storage),
        scale=pods.scale,
        image_pull_policy=pull_policy(app, side_loaded),
        security=SecuritySpec(app.security.run_as_user, app.security.read_only_root_filesystem),
        termination=TerminationSpec(term.pre_stop_sleep_seconds, term.grace_period_seconds),
        rollout=RolloutSpec(
            rollout.max_surge, rollout.max_unavailable, rollout.progress_deadline_seconds, rollout.timeout_seconds
        ),
        disruption_budget=app.disruption_budget,
        spread_zones=app.spread_zones,
    )


def config_spec(app: AppGroup) -> ConfigSpec:
    # GRACEFUL_TIMEOUT is read by app/gunicorn.conf.py: how long workers finish in-flight requests
    # after SIGTERM.
    graceful = str(app.termination.graceful_timeout_seconds)
    return ConfigSpec(env={**DEFAULT_ENV, **app.env, "GRACEFUL_TIMEOUT": graceful}, config_file=app.config_file)


def secrets_spec(database: DatabaseGroup, secrets: Secrets) -> SecretsSpec:
    return SecretsSpec(
        database=DatabaseSpec(user=database.user, host=database.host, port=database.port, name=database.name)
        if database.host
        else None,
        secret_key=secrets.secret_key,
        jwt_secret_key=secrets.jwt_secret_key,
        database_password=secrets.database_password,
    )


def service_spec(service: ServiceGroup) -> ServiceSpec:
    return ServiceSpec(type=service.type, annotations=dict(service.annotations))


def network_policy_spec(namespace: NamespaceGroup) -> NetworkPolicySpec | None:
    network = namespace.network_policy
    if not network.enabled:
        return None
    return NetworkPolicySpec(
        ingress_namespaces=[network.ingress_controller_namespace],
        egress=[EgressRule(cidr=r.cidr, port=r.port) for r in network.egress],
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


def quota(app: AppGroup, pods: Pods, namespace: NamespaceGroup) -> QuotaSpec:
    """The ResourceQuota: what the stack sets, else exactly what the peak of a rollout needs."""
    peak = pods.peak
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
