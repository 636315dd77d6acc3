"""FlaskApp: everything one Flask app needs on a cluster, composed from the other components.

Namespace (quota, limits) -> ConfigMap and Secret -> Deployment -> Service -> a route: an Ingress
or a Gateway API HTTPRoute, with the TLS its mode needs (flask_k8s_components/tls.py). Kubernetes
objects get their names from the app's name (`flask-app`, `flask-app-service`, ...) and the Pulumi
children get theirs from this component's name, so two FlaskApps with different names and
namespaces coexist in one stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from flask_k8s_components import TYPE_PREFIX
from flask_k8s_components.app_config import AppConfig, AppConfigArgs
from flask_k8s_components.gateway import AppGatewayRoute, SharedGateway
from flask_k8s_components.ingress import AppIngress, AppIngressArgs, GatewayRoute
from flask_k8s_components.namespace import AppNamespace, AppNamespaceArgs, LimitRangeSpec, QuotaSpec
from flask_k8s_components.network_policy import AppNetworkPolicy, AppNetworkPolicyArgs, EgressRule
from flask_k8s_components.route_status import ClusterAccess
from flask_k8s_components.secrets import AppSecrets, AppSecretsArgs, DatabaseArgs
from flask_k8s_components.service import AppService, AppServiceArgs
from flask_k8s_components.tls import RouteTls
from flask_k8s_components.workload import (
    AutoscalingSpec,
    ResourcesSpec,
    RolloutSpec,
    SecuritySpec,
    TerminationSpec,
    Workload,
    WorkloadArgs,
)


@dataclass(frozen=True)
class IngressSpec:
    """How the app is exposed through an Ingress."""

    host: str
    """Host name the Ingress answers for."""
    ingress_class_name: str = "nginx"
    """IngressClass name."""
    tls: RouteTls = field(default_factory=RouteTls)
    """TLS for the host (none serves plain HTTP)."""
    annotations: dict[str, str] = field(default_factory=dict)
    """Ingress annotations."""


@dataclass(frozen=True)
class GatewaySpec:
    """How the app is exposed through Gateway API (an HTTPRoute, on a Gateway made here or a shared one)."""

    host: str
    """Host name the route answers for."""
    tls: RouteTls = field(default_factory=RouteTls)
    """TLS of the Gateway made here (none with a shared Gateway: it has its own)."""
    gateway_class_name: str = "traefik"
    """GatewayClass of the Gateway made here."""
    shared_gateway: SharedGateway | None = None
    """Attach to this Gateway instead of making one."""
    max_body_bytes: int | None = None
    """Largest request body (a Traefik Middleware: only where Traefik serves the route)."""


@dataclass(frozen=True)
class ServiceSpec:
    """The Service in front of the pods."""

    type: str = "ClusterIP"
    """ClusterIP, NodePort or LoadBalancer."""
    annotations: dict[str, str] = field(default_factory=dict)
    """Service annotations (cloud load balancer settings)."""


@dataclass(frozen=True)
class NetworkPolicySpec:
    """Which traffic the namespace admits (see flask_k8s_components/network_policy.py)."""

    ingress_namespaces: list[str] = field(default_factory=lambda: ["traefik"])
    """Namespaces allowed to reach the app's port (the ingress controller's)."""
    egress: list[EgressRule] = field(default_factory=list)
    """Allowed egress destinations besides DNS."""


@dataclass(frozen=True)
class FlaskAppArgs:
    """Inputs of FlaskApp: one app, validated and built by settings/."""

    name: str
    """App name: Deployment name, `app` label, prefix of the Service and Ingress names."""
    namespace: str
    """Namespace created for the app."""
    image: str
    """Container image reference."""
    version: str
    """App version, as a label on the pods."""
    replicas: int
    """Desired number of pods."""
    container_port: int
    """Port the app listens on."""
    resources: ResourcesSpec
    """Container requests and limits."""
    quota: QuotaSpec
    """The namespace's ResourceQuota."""
    limit_range: LimitRangeSpec
    """The namespace's LimitRange."""
    env: dict[str, str]
    """Non-secret environment (the ConfigMap)."""
    config_file: str
    """The app's config file, mounted read-only."""
    database: DatabaseArgs | None = None
    """PostgreSQL coordinates for DATABASE_URL; None: an SQLite file in the pod's /tmp."""
    secret_key: pulumi.Output[str] | None = None
    """SECRET_KEY from encrypted config; None generates one."""
    jwt_secret_key: pulumi.Output[str] | None = None
    """JWT key from encrypted config; None generates one."""
    database_password: pulumi.Output[str] | None = None
    """Database password from encrypted config; None generates one."""
    service: ServiceSpec | None = field(default_factory=ServiceSpec)
    """The Service; None creates none, and then no Ingress either (a worker nothing calls)."""
    ingress: IngressSpec | None = None
    """The Ingress; None creates none (e.g. when a LoadBalancer Service is the entry point)."""
    gateway: GatewaySpec | None = None
    """A Gateway API route instead of the Ingress; None creates none."""
    namespace_labels: dict[str, str] = field(default_factory=dict)
    """Extra labels for the Namespace object."""
    image_pull_policy: str = "IfNotPresent"
    """Always for a mutable tag from a registry; IfNotPresent for a digest or a side-loaded image."""
    security: SecuritySpec = field(default_factory=SecuritySpec)
    """Pod security context."""
    termination: TerminationSpec = field(default_factory=TerminationSpec)
    """How pods stop without dropping requests."""
    rollout: RolloutSpec = field(default_factory=RolloutSpec)
    """Rolling update pace, and when a rollout that does not finish counts as failed."""
    autoscaling: AutoscalingSpec | None = None
    """HorizontalPodAutoscaler; None keeps `replicas` fixed."""
    disruption_budget: bool = True
    """Create a PodDisruptionBudget."""
    spread_zones: bool = False
    """Spread pods across zones as well as nodes."""
    network_policy: NetworkPolicySpec | None = field(default_factory=NetworkPolicySpec)
    """NetworkPolicies for the namespace; None creates none."""


class FlaskApp(pulumi.ComponentResource):
    """One Flask app: namespace, config, secrets, Deployment, Service and Ingress."""

    namespace_name: pulumi.Output[str]
    """The app's namespace."""
    deployment_name: pulumi.Output[str]
    """The Deployment's name."""
    service_name: pulumi.Output[str] | None
    """The Service's name, or None without a Service."""
    url: pulumi.Output[str] | None
    """Where the app answers (from the route's host), or None without a route."""
    ingress_address: pulumi.Output[str | None] | None
    """Address the ingress controller published on the Ingress, or None without an Ingress."""
    ca_certificate: pulumi.Output[str] | None
    """The route's self-signed CA certificate (public), or None in other TLS modes."""
    database_url: pulumi.Output[str]
    """DATABASE_URL (secret)."""
    namespace: AppNamespace
    """Namespace, quota and LimitRange."""
    config: AppConfig
    """The ConfigMap."""
    secrets: AppSecrets
    """Secrets and their Secret."""
    workload: Workload
    """The Deployment."""
    service: AppService | None
    """The Service, if any."""
    ingress: AppIngress | None
    """The route (an Ingress, or Gateway API objects), if any."""
    gateway_route: AppGatewayRoute | None
    """The Gateway API route, if the route uses Gateway API."""
    network_policy: AppNetworkPolicy | None
    """The NetworkPolicies, if any."""

    def __init__(
        self,
        name: str,
        args: FlaskAppArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        ingress_depends_on: Sequence[pulumi.Resource] = (),
        pod_annotations: Mapping[str, pulumi.Input[str]] | None = None,
        cluster: ClusterAccess | None = None,
        certificate_aliases: Sequence[pulumi.Input[str | pulumi.Alias]] = (),
    ) -> None:
        """Keyword arguments, for what other resources produce:
        - `ingress_depends_on`: what the route waits for besides the app's pods (the ingress
          controller, the issuer of its certificate);
        - `pod_annotations`: on the pod template, where a change rolls the pods (the hash of a
          rebuilt image);
        - `cluster`: how to read the cluster, so that `pulumi up` waits until a Gateway API route
          serves (flask_k8s_components/route_status.py); None does not wait;
        - `certificate_aliases`: where the program made the route's self-signed certificate before."""
        if (args.ingress is not None or args.gateway is not None) and args.service is None:
            # Before anything is registered: a route goes to the Service and has none to route to.
            raise ValueError(f"FlaskApp {name}: a route (ingress or gateway) needs a service (args.service is None)")
        if args.ingress is not None and args.gateway is not None:
            raise ValueError(f"FlaskApp {name}: choose one route, ingress or gateway, not both")
        super().__init__(f"{TYPE_PREFIX}:FlaskApp", name, None, opts)
        selector, labels = app_labels(args.name, args.version)

        self.namespace, self.config, self.secrets = self._namespace_config_secrets(name, args, labels)
        ns = self.namespace.name
        self.workload = Workload(
            f"{name}-workload",
            self._workload_args(args, ns, selector, labels, pod_annotations or {}),
            # Pods created before the quota and LimitRange exist would escape both.
            pulumi.ResourceOptions(parent=self, depends_on=[self.namespace.quota, self.namespace.limit_range]),
        )
        self.service = (
            None if args.service is None else self._service(f"{name}-service", args.service, args, selector, labels)
        )
        self.network_policy = self._network_policy(f"{name}-netpol", args, selector, labels)
        self.ingress = None
        self.gateway_route = None
        self.url = None
        self.ingress_address = None
        self.ca_certificate = None
        if (args.ingress is not None or args.gateway is not None) and self.service is not None:
            # One route component whichever API it uses: its TLS Secret and certificate stay when a
            # stack moves between the Ingress and Gateway API.
            route = self._route(
                f"{name}-ingress", args, self.service, labels, ingress_depends_on, cluster, certificate_aliases
            )
            self.ingress = route
            self.gateway_route = route.gateway_route
            self.url = route.url
            self.ingress_address = route.address if args.ingress is not None else None
            self.ca_certificate = route.ca_certificate

        self.namespace_name = ns
        self.deployment_name = self.workload.deployment_name
        self.service_name = None if self.service is None else self.service.service_name
        self.database_url = self.secrets.database_url
        self.register_outputs(
            {
                "namespace_name": self.namespace_name,
                "deployment_name": self.deployment_name,
                "service_name": self.service_name,
                "url": self.url,
                "ingress_address": self.ingress_address,
                "ca_certificate": self.ca_certificate,
                "database_url": self.database_url,
                "namespace": self.namespace,
                "config": self.config,
                "secrets": self.secrets,
                "workload": self.workload,
                "service": self.service,
                "ingress": self.ingress,
                "gateway_route": self.gateway_route,
                "network_policy": self.network_policy,
            }
        )

    def _namespace_config_secrets(
        self, name: str, args: FlaskAppArgs, labels: dict[str, str]
    ) -> tuple[AppNamespace, AppConfig, AppSecrets]:
        child = pulumi.ResourceOptions(parent=self)
        namespace = AppNamespace(
            f"{name}-ns",
            AppNamespaceArgs(
                name=args.namespace,
                quota=args.quota,
                limit_range=args.limit_range,
                labels=labels,
                namespace_labels=args.namespace_labels,
            ),
            child,
        )
        ns = namespace.name
        config = AppConfig(
            f"{name}-config",
            AppConfigArgs(namespace=ns, env=args.env, config_file=args.config_file, labels=labels),
            child,
        )
        secrets = AppSecrets(
            f"{name}-secrets",
            AppSecretsArgs(
                namespace=ns,
                database=args.database,
                secret_key=args.secret_key,
                jwt_secret_key=args.jwt_secret_key,
                database_password=args.database_password,
                labels=labels,
            ),
            child,
        )
        return namespace, config, secrets

    def _service(
        self, name: str, spec: ServiceSpec, args: FlaskAppArgs, selector: dict[str, str], labels: dict[str, str]
    ) -> AppService:
        child = pulumi.ResourceOptions(parent=self)
        ns = self.namespace.name
        return AppService(
            name,
            AppServiceArgs(
                name=f"{args.name}-service",
                namespace=ns,
                selector_labels=selector,
                target_port=args.container_port,
                type=spec.type,
                annotations=spec.annotations,
                labels=labels,
            ),
            child,
        )

    def _network_policy(
        self, name: str, args: FlaskAppArgs, selector: dict[str, str], labels: dict[str, str]
    ) -> AppNetworkPolicy | None:
        child = pulumi.ResourceOptions(parent=self)
        ns = self.namespace.name
        if args.network_policy is None:
            return None
        return AppNetworkPolicy(
            name,
            AppNetworkPolicyArgs(
                name=args.name,
                namespace=ns,
                selector_labels=selector,
                port=args.container_port,
                ingress_namespaces=args.network_policy.ingress_namespaces,
                # Behind a cloud load balancer or node port, traffic arrives from outside the cluster.
                allow_from_anywhere=args.service is not None and args.service.type in ("LoadBalancer", "NodePort"),
                egress=args.network_policy.egress,
                labels=labels,
            ),
            child,
        )

    def _workload_args(
        self,
        args: FlaskAppArgs,
        ns: pulumi.Input[str],
        selector: dict[str, str],
        labels: dict[str, str],
        pod_annotations: Mapping[str, pulumi.Input[str]],
    ) -> WorkloadArgs:
        return WorkloadArgs(
            name=args.name,
            namespace=ns,
            image=args.image,
            replicas=args.replicas,
            container_port=args.container_port,
            resources=args.resources,
            selector_labels=selector,
            config_map_name=self.config.config_map_name,
            secret_name=self.secrets.secret_name,
            config_file_key=self.config.config_file_key,
            labels={**labels, "app.kubernetes.io/component": "web"},
            pod_labels={"version": args.version, "app.kubernetes.io/version": args.version},
            pod_annotations=pod_annotations,
            image_pull_policy=args.image_pull_policy,
            security=args.security,
            termination=args.termination,
            rollout=args.rollout,
            autoscaling=args.autoscaling,
            disruption_budget=args.disruption_budget,
            spread_zones=args.spread_zones,
        )

    def _route(
        self,
        name: str,
        args: FlaskAppArgs,
        service: AppService,
        labels: dict[str, str],
        depends_on: Sequence[pulumi.Resource],
        cluster: ClusterAccess | None,
        certificate_aliases: Sequence[pulumi.Input[str | pulumi.Alias]],
    ) -> AppIngress:
        if args.ingress is not None:
            host, tls = args.ingress.host, args.ingress.tls
            class_name, annotations, gateway = args.ingress.ingress_class_name, args.ingress.annotations, None
        else:
            spec = args.gateway
            assert spec is not None
            host, tls, class_name, annotations = spec.host, spec.tls, "nginx", {}
            gateway = GatewayRoute(
                gateway_class_name=spec.gateway_class_name,
                shared_gateway=spec.shared_gateway,
                max_body_bytes=spec.max_body_bytes,
                # As long as a rollout may take: the route is the last thing an update waits for.
                timeout_seconds=args.rollout.timeout_seconds,
            )
        return AppIngress(
            name,
            AppIngressArgs(
                name=f"{args.name}-ingress",
                namespace=self.namespace.name,
                host=host,
                service_name=service.service_name,
                service_port=service.port,
                tls=tls,
                ingress_class_name=class_name,
                annotations=annotations,
                labels=labels,
                gateway=gateway,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
            # Routed only once the Deployment's await has seen its pods Ready: the Service does not
            # wait for endpoints (flask_k8s_components/service.py), and a route to no Ready pod serves 503s.
            # The Deployment, not the whole Workload (its HPA and PDB prove nothing about the pods),
            # and the route's objects alone: its TLS Secret can be written meanwhile.
            route_after=[self.workload.deployment],
            certificate_aliases=certificate_aliases,
            cluster=cluster,
        )


def app_labels(name: str, version: str) -> tuple[dict[str, str], dict[str, str]]:
    """The pods' selector labels, and the labels of every object of the app.

    Selector labels never include a version: a Deployment's selector is immutable. The recommended
    app.kubernetes.io labels go on every object; `app` keeps the article's commands
    (kubectl logs -l app=flask-app) working.
    """
    selector = {"app": name, "app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}
    labels = {
        **selector,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/part-of": name,
        "app.kubernetes.io/managed-by": "pulumi",
    }
    return selector, labels
