"""AppIngress: HTTP(S) routing from the cluster edge to the app's Service through an Ingress.

TLS is one typed choice (flask_k8s_components/tls.py: RouteTls): the Ingress lists its host under
the mode's Secret, and the component creates what the mode needs (a self-signed certificate and
its Secret, or cert-manager's issuer annotation). Which controller serves it is the IngressClass's
business (the program installs Traefik for `nginx`: flask_k8s_components/ingress_controller.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX
from flask_k8s_components.status import published_address
from flask_k8s_components.tls import RouteTls, route_certificate


@dataclass(frozen=True)
class AppIngressArgs:
    """Inputs of AppIngress."""

    name: str
    """Ingress name."""
    namespace: pulumi.Input[str]
    """Namespace of the Ingress (that of the Service)."""
    host: str
    """Host the rule matches."""
    service_name: pulumi.Input[str]
    """Backend Service."""
    service_port: int
    """Backend Service port."""
    tls: RouteTls = field(default_factory=RouteTls)
    """TLS for the host; mode none serves plain HTTP."""
    ingress_class_name: str = "nginx"
    """IngressClass that implements this Ingress."""
    annotations: dict[str, str] = field(default_factory=dict)
    """Controller annotations (body size, rate limits, cert-manager issuer, ...)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the Ingress."""


class AppIngress(pulumi.ComponentResource):
    """An Ingress for one host, routing / to the app's Service, with TLS."""

    ingress_name: pulumi.Output[str]
    """The Ingress's name."""
    address: pulumi.Output[str | None]
    """IP or host name the ingress controller published, if any."""
    ingress: k8s.networking.v1.Ingress
    """The Ingress object."""
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
    ) -> None:
        """`route_after`: what the Ingress object (not its TLS Secret) waits for before it routes, e.g.
        the Deployment whose await proves the pods Ready. `certificate_aliases`: where a program
        made the self-signed certificate before (tls.route_certificate)."""
        super().__init__(f"{TYPE_PREFIX}:AppIngress", name, None, opts)
        tls = args.tls
        made = route_certificate(self, name, tls, args.host, args.namespace, args.labels, certificate_aliases)
        self.tls_secret, self.ca_certificate = made.secret, made.ca_certificate
        depends_on: list[pulumi.Resource] = list(route_after)
        if self.tls_secret is not None:
            # Without its Secret the controller would serve its default certificate meanwhile.
            depends_on.append(self.tls_secret)
        annotations = dict(args.annotations)
        if tls.mode == "cert-manager":
            annotations["cert-manager.io/cluster-issuer"] = tls.cluster_issuer
        self.ingress = k8s.networking.v1.Ingress(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name, namespace=args.namespace, labels=args.labels, annotations=annotations or None
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=args.ingress_class_name,
                tls=[k8s.networking.v1.IngressTLSArgs(hosts=[args.host], secret_name=tls.secret_name)]
                if tls.enabled
                else None,
                rules=[
                    k8s.networking.v1.IngressRuleArgs(
                        host=args.host,
                        http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                            paths=[
                                k8s.networking.v1.HTTPIngressPathArgs(
                                    path="/",
                                    path_type="Prefix",
                                    backend=k8s.networking.v1.IngressBackendArgs(
                                        service=k8s.networking.v1.IngressServiceBackendArgs(
                                            name=args.service_name,
                                            port=k8s.networking.v1.ServiceBackendPortArgs(number=args.service_port),
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
                parent=self, depends_on=depends_on, aliases=[pulumi.Alias(name=f"{name}-ingress")]
            ),
        )
        self.ingress_name = self.ingress.metadata.name
        self.address = self.ingress.status.apply(published_address)
        self.register_outputs(
            {
                "ingress_name": self.ingress_name,
                "address": self.address,
                "ingress": self.ingress,
                "tls_secret": self.tls_secret,
                "ca_certificate": self.ca_certificate,
            }
        )
