"""AppIngress: HTTP(S) routing from the cluster edge to the app's Service, with TLS.

TLS is modelled as Kubernetes does, a list of {hosts, secretName}. Who fills the TLS Secret is the
stack's choice (a self-signed certificate on Kind, cert-manager in production): this component
only takes its name and any annotations (e.g. `cert-manager.io/cluster-issuer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX
from flask_k8s_components.status import published_address


@dataclass(frozen=True)
class TlsSpec:
    """One TLS entry of the Ingress."""

    hosts: list[str]
    """Host names the certificate covers."""
    secret_name: str
    """Secret (type kubernetes.io/tls) holding the certificate and key."""


@dataclass(frozen=True)
class TlsCertificate:
    """A certificate and key to store as the TLS Secret (when nothing else, e.g. cert-manager, does)."""

    certificate: pulumi.Input[str]
    """PEM certificate chain."""
    private_key: pulumi.Input[str]
    """PEM private key (secret)."""


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
    tls: list[TlsSpec] = field(default_factory=list)
    """TLS entries; empty serves plain HTTP."""
    tls_certificate: TlsCertificate | None = None
    """If given, stored as the (single) TLS entry's Secret; otherwise that Secret is someone else's."""
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
    """The TLS Secret this component created, if any."""

    def __init__(
        self,
        name: str,
        args: AppIngressArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        route_after: Sequence[pulumi.Resource] = (),
    ) -> None:
        """`route_after`: what the Ingress object (not its TLS Secret) waits for before it routes, e.g.
        the Deployment whose await proves the pods Ready."""
        super().__init__(f"{TYPE_PREFIX}:AppIngress", name, None, opts)
        if args.tls_certificate is not None and len(args.tls) != 1:
            raise ValueError("tls_certificate needs exactly one TLS entry to name its Secret")
        self.tls_secret = None
        depends_on: list[pulumi.Resource] = list(route_after)
        if args.tls_certificate is not None:
            self.tls_secret = k8s.core.v1.Secret(
                f"{name}-tls",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=args.tls[0].secret_name, namespace=args.namespace, labels=args.labels
                ),
                type="kubernetes.io/tls",
                string_data={
                    "tls.crt": args.tls_certificate.certificate,
                    "tls.key": pulumi.Output.secret(args.tls_certificate.private_key),
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            # Without its Secret the controller would serve its default certificate meanwhile.
            depends_on.append(self.tls_secret)
        self.ingress = k8s.networking.v1.Ingress(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name, namespace=args.namespace, labels=args.labels, annotations=args.annotations or None
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=args.ingress_class_name,
                tls=[k8s.networking.v1.IngressTLSArgs(hosts=t.hosts, secret_name=t.secret_name) for t in args.tls]
                or None,
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
            }
        )
