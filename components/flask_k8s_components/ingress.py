"""AppIngress: the app's route from the cluster edge to its Service, through an Ingress or Gateway API.

TLS is one typed choice (flask_k8s_components/tls.py: RouteTls), owned here whichever API routes:
this component creates what the mode needs (a self-signed certificate for its host and the TLS
Secret, or cert-manager's issuer annotation), so moving a stack between the Ingress and Gateway API
keeps its certificate. With `gateway` unset it makes the Ingress (the article's; which controller
serves it is the IngressClass's business: the program installs Traefik for `nginx`,
flask_k8s_components/ingress_controller.py); with `gateway` set, an AppGatewayRoute child instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX
from flask_k8s_components.gateway import AppGatewayRoute, AppGatewayRouteArgs
from flask_k8s_components.route import Backend, RouteSpec
from flask_k8s_components.route_status import ClusterAccess
from flask_k8s_components.status import published_address
from flask_k8s_components.tls import route_certificate


@dataclass(frozen=True)
class AppIngressArgs:
    """Inputs of AppIngress."""

    name: str
    """Prefix of the objects' names (the Ingress's name)."""
    namespace: pulumi.Input[str]
    """Namespace of the route (that of the Service)."""
    route: RouteSpec
    """Host, TLS, and which API routes."""
    backend: Backend
    """The Service the route sends to."""
    timeout_seconds: int = 300
    """With Gateway API: how long `pulumi up` waits for the route to serve."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for every object."""


class AppIngress(pulumi.ComponentResource):
    """The app's route for one host, routing / to its Service, with TLS: an Ingress or Gateway API."""

    ingress_name: pulumi.Output[str] | None
    """The Ingress's name (None with Gateway API)."""
    address: pulumi.Output[str | None]
    """IP or host name the ingress controller published on the Ingress, if any (None with Gateway API)."""
    ingress: k8s.networking.v1.Ingress | None
    """The Ingress object (None with Gateway API)."""
    gateway_route: AppGatewayRoute | None
    """The Gateway API route, with `gateway` set."""
    url: pulumi.Output[str]
    """Where the app answers."""
    tls_secret: k8s.core.v1.Secret | None
    """The TLS Secret this component created (self-signed mode), if any."""
    ca_certificate: pulumi.Output[str] | None
    """The self-signed CA's certificate (public), if any: what `curl --cacert` needs."""

    def __init__(
        self,
        name: str,
        args: AppIngressArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        route_after: Sequence[pulumi.Resource] = (),
        certificate_aliases: Sequence[pulumi.Input[str | pulumi.Alias]] = (),
        cluster: ClusterAccess | None = None,
    ) -> None:
        """`route_after`: what the Ingress or Gateway objects (not the TLS Secret) wait for before
        they route, e.g. the Deployment whose await proves the pods Ready. `certificate_aliases`:
        where a program made the self-signed certificate before (tls.route_certificate). `cluster`:
        with Gateway API, how `pulumi up` reads the route's status to wait until it serves."""
        super().__init__(f"{TYPE_PREFIX}:AppIngress", name, None, opts)
        route = args.route
        tls = route.tls
        made = route_certificate(self, name, tls, route.host, args.namespace, args.labels, certificate_aliases)
        self.tls_secret, self.ca_certificate = made.secret, made.ca_certificate
        depends_on: list[pulumi.Resource] = list(route_after)
        if self.tls_secret is not None:
            # Without its Secret the controller would serve its default certificate meanwhile.
            depends_on.append(self.tls_secret)
        https = tls.enabled or (route.gateway is not None and route.gateway.shared is not None)
        self.url = pulumi.Output.from_input(f"{'https' if https else 'http'}://{route.host}/")
        self.ingress, self.ingress_name, self.gateway_route = None, None, None
        self.address = pulumi.Output.from_input(None)
        if route.gateway is not None:
            self.gateway_route = self._gateway_route(name, args, depends_on, cluster)
        else:
            self.ingress = self._ingress(name, args, depends_on)
            self.ingress_name = self.ingress.metadata.name
            self.address = self.ingress.status.apply(published_address)
        self.register_outputs(
            {
                "ingress_name": self.ingress_name,
                "address": self.address,
                "ingress": self.ingress,
                "gateway_route": self.gateway_route,
                "url": self.url,
                "tls_secret": self.tls_secret,
                "ca_certificate": self.ca_certificate,
            }
        )

    def _gateway_route(
        self,
        name: str,
        args: AppIngressArgs,
        depends_on: Sequence[pulumi.Resource],
        cluster: ClusterAccess | None,
    ) -> AppGatewayRoute:
        return AppGatewayRoute(
            f"{name}-gateway",
            AppGatewayRouteArgs(
                name=args.name,
                namespace=args.namespace,
                route=args.route,
                backend=args.backend,
                timeout_seconds=args.timeout_seconds,
                labels=args.labels,
            ),
            pulumi.ResourceOptions(parent=self),
            route_after=depends_on,
            cluster=cluster,
        )

    def _ingress(
        self, name: str, args: AppIngressArgs, depends_on: Sequence[pulumi.Resource]
    ) -> k8s.networking.v1.Ingress:
        route = args.route
        tls = route.tls
        annotations = dict(route.ingress.annotations)
        if tls.mode == "cert-manager":
            annotations["cert-manager.io/cluster-issuer"] = tls.cluster_issuer
        return k8s.networking.v1.Ingress(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name, namespace=args.namespace, labels=args.labels, annotations=annotations or None
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=route.ingress.class_name,
                tls=[k8s.networking.v1.IngressTLSArgs(hosts=[route.host], secret_name=tls.secret_name)]
                if tls.enabled
                else None,
                rules=[
                    k8s.networking.v1.IngressRuleArgs(
                        host=route.host,
                        http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                            paths=[
                                k8s.networking.v1.HTTPIngressPathArgs(
                                    path="/",
                                    path_type="Prefix",
                                    backend=k8s.networking.v1.IngressBackendArgs(
                                        service=k8s.networking.v1.IngressServiceBackendArgs(
                                            name=args.backend.service_name,
                                            port=k8s.networking.v1.ServiceBackendPortArgs(number=args.backend.port),
                                        )
                                    ),
                                )
                            ]
                        ),
                    )
                ],
            ),
            # The object this component exists for takes the component's name; until 4a17c1c it was
            # "<name>-ingress" (flask-app-ingress-ingress), and the alias keeps that live object.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=list(depends_on), aliases=[pulumi.Alias(name=f"{name}-ingress")]
            ),
        )
