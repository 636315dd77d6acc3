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
from flask_k8s_components.app_config import AppConfig, AppConfigArgs, ConfigSpec
from flask_k8s_components.gateway import AppGatewayRoute
from flask_k8s_components.ingress import AppIngress, AppIngressArgs
from flask_k8s_components.namespace import AppNamespace, AppNamespaceArgs, NamespaceSpec
from flask_k8s_components.network_policy import AppNetworkPolicy, AppNetworkPolicyArgs, NetworkPolicySpec
from flask_k8s_components.route import Backend, RouteSpec
from flask_k8s_components.route_status import ClusterAccess
from flask_k8s_components.secrets import AppSecrets, AppSecretsArgs, SecretsSpec
from flask_k8s_components.service import AppService, AppServiceArgs, ServiceSpec
from flask_k8s_components.workload import Workload, WorkloadArgs, WorkloadSpec


@dataclass(frozen=True)
class FlaskAppArgs:
    """Inputs of FlaskApp: one app, grouped as the stack config is (settings/ builds one spec per
    config group); FlaskApp hands each spec to the child that uses it."""

    name: str
    """App name: Deployment name, `app` label, prefix of the Service and route names."""
    namespace: NamespaceSpec
    """The namespace created for the app, its quota and LimitRange."""
    workload: WorkloadSpec
    """What runs: image, port, resources, pod count, rollout and stop."""
    config: ConfigSpec
    """Non-secret environment and the config file (the ConfigMap)."""
    secrets: SecretsSpec = field(default_factory=SecretsSpec)
    """Secret values, given or generated (the Secret)."""
    service: ServiceSpec | None = field(default_factory=ServiceSpec)
    """The Service; None creates none, and then no route either (a worker nothing calls)."""
    route: RouteSpec | None = None
    """The route (Ingress or Gateway API) with its TLS; None creates none (e.g. when a LoadBalancer
    Service is the entry point)."""
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
        if args.route is not None and args.service is None:
            # Before anything is registered: a route goes to the Service and has none to route to.
            raise ValueError(f"FlaskApp {name}: a route needs a service (args.service is None)")
        super().__init__(f"{TYPE_PREFIX}:FlaskApp", name, None, opts)
        selector, labels = app_labels(args.name, args.workload.version)

        self.namespace, self.config, self.secrets = self._namespace_config_secrets(name, args, labels)
        ns = self.namespace.namespace_name
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
        if args.route is not None and self.service is not None:
            # One route component whichever API it uses: its TLS Secret and certificate stay when a
            # stack moves between the Ingress and Gateway API.
            route = self._route(
                f"{name}-ingress", args, self.service, labels, ingress_depends_on, cluster, certificate_aliases
            )
            self.ingress = route
            self.gateway_route = route.gateway_route
            self.url = route.url
            self.ingress_address = route.address if args.route.gateway is None else None
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
        namespace = AppNamespace(f"{name}-ns", AppNamespaceArgs(spec=args.namespace, labels=labels), child)
        ns = namespace.namespace_name
        config = AppConfig(f"{name}-config", AppConfigArgs(namespace=ns, spec=args.config, labels=labels), child)
        secrets = AppSecrets(f"{name}-secrets", AppSecretsArgs(namespace=ns, spec=args.secrets, labels=labels), child)
        return namespace, config, secrets

    def _service(
        self, name: str, spec: ServiceSpec, args: FlaskAppArgs, selector: dict[str, str], labels: dict[str, str]
    ) -> AppService:
        return AppService(
            name,
            AppServiceArgs(
                name=f"{args.name}-service",
                namespace=self.namespace.namespace_name,
                selector_labels=selector,
                port=args.workload.port,
                spec=spec,
                labels=labels,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _network_policy(
        self, name: str, args: FlaskAppArgs, selector: dict[str, str], labels: dict[str, str]
    ) -> AppNetworkPolicy | None:
        if args.network_policy is None:
            return None
        return AppNetworkPolicy(
            name,
            AppNetworkPolicyArgs(
                name=args.name,
                namespace=self.namespace.namespace_name,
                selector_labels=selector,
                port=args.workload.port,
                spec=args.network_policy,
                # Behind a cloud load balancer or node port, traffic arrives from outside the cluster.
                allow_from_anywhere=args.service is not None and args.service.type in ("LoadBalancer", "NodePort"),
                labels=labels,
            ),
            pulumi.ResourceOptions(parent=self),
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
            spec=args.workload,
            selector_labels=selector,
            config_map_name=self.config.config_map_name,
            secret_name=self.secrets.secret_name,
            config_file_key=self.config.config_file_key,
            labels={**labels, "app.kubernetes.io/component": "web"},
            pod_annotations=pod_annotations,
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
        assert args.route is not None
        return AppIngress(
            name,
            AppIngressArgs(
                name=f"{args.name}-ingress",
                namespace=self.namespace.namespace_name,
                route=args.route,
                backend=Backend(service_name=service.service_name, port=service.port),
                # As long as a rollout may take: the route is the last thing an update waits for.
                timeout_seconds=args.workload.rollout.timeout_seconds,
                labels=labels,
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
