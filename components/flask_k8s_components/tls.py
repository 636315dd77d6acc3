"""TLS for the app's route (Ingress or Gateway): one typed choice, and what each choice needs.

RouteTls is the choice a route takes: none (plain HTTP), an existing Secret someone else fills, a
self-signed chain for local use, or cert-manager. The route creates what its mode needs as its own
children (route_certificate): SelfSignedCertificate makes a local CA and a leaf certificate for the
route's host with pulumi-tls (the keys live only in the encrypted stack state and in the TLS
Secret; the CA certificate is public and is what `curl --cacert` needs); with cert-manager the
route names the ClusterIssuer in an annotation and cert-manager fills the Secret. CertManager
optionally installs cert-manager from a pinned release and an ACME ClusterIssuer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from flask_k8s_components import TYPE_PREFIX

CERT_MANAGER_URL = "https://github.com/cert-manager/cert-manager/releases/download/{version}/cert-manager.yaml"
LETSENCRYPT_PROD = "https://acme-v02.api.letsencrypt.org/directory"


@dataclass(frozen=True)
class SelfSignedCertificateArgs:
    """Inputs of SelfSignedCertificate."""

    host: str
    """DNS name the leaf certificate is for."""
    organization: str = "flask-k8s local CA"
    """Subject organization of both certificates."""
    validity_hours: int = 24 * 365
    """Lifetime of both certificates."""


class SelfSignedCertificate(pulumi.ComponentResource):
    """A local CA and a server certificate for one host."""

    ca_certificate: pulumi.Output[str]
    """The CA's certificate (PEM, public): trust it with `curl --cacert`."""
    certificate: pulumi.Output[str]
    """The host's certificate (PEM, public)."""
    private_key: pulumi.Output[str]
    """The host certificate's private key (PEM, secret)."""

    def __init__(self, name: str, args: SelfSignedCertificateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:SelfSignedCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ca_key = tls.PrivateKey(f"{name}-ca-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        ca_cert = tls.SelfSignedCert(
            f"{name}-ca-cert",
            private_key_pem=ca_key.private_key_pem,
            is_ca_certificate=True,
            subject=tls.SelfSignedCertSubjectArgs(common_name=f"{args.organization}", organization=args.organization),
            validity_period_hours=args.validity_hours,
            allowed_uses=["cert_signing", "crl_signing"],
            opts=child,
        )
        leaf_key = tls.PrivateKey(f"{name}-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        request = tls.CertRequest(
            f"{name}-csr",
            private_key_pem=leaf_key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=args.host, organization=args.organization),
            dns_names=[args.host],
            opts=child,
        )
        leaf = tls.LocallySignedCert(
            f"{name}-cert",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca_cert.cert_pem,
            validity_period_hours=args.validity_hours,
            allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
            opts=child,
        )
        self.ca_certificate = ca_cert.cert_pem
        self.certificate = leaf.cert_pem
        self.private_key = pulumi.Output.secret(leaf_key.private_key_pem)
        self.register_outputs(
            {"ca_certificate": self.ca_certificate, "certificate": self.certificate, "private_key": self.private_key}
        )


@dataclass(frozen=True)
class CertManagerArgs:
    """Inputs of CertManager."""

    version: str
    """cert-manager release, e.g. v1.18.2."""
    cluster_issuer: str
    """Name of the ClusterIssuer to create."""
    acme_email: str
    """ACME account e-mail."""
    ingress_class_name: str = "nginx"
    """IngressClass that serves the HTTP-01 challenges."""
    acme_server: str = LETSENCRYPT_PROD
    """ACME directory URL."""


class CertManager(pulumi.ComponentResource):
    """cert-manager from its release manifest, and an ACME ClusterIssuer using HTTP-01."""

    cluster_issuer: str
    """The ClusterIssuer's name."""
    manifest: k8s.yaml.v2.ConfigFile
    """cert-manager's objects (CRDs, controllers, webhook)."""
    issuer: k8s.apiextensions.CustomResource
    """The ClusterIssuer."""

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:CertManager", name, None, opts)
        self.manifest = k8s.yaml.v2.ConfigFile(
            f"{name}-manifest",
            file=CERT_MANAGER_URL.format(version=args.version),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cluster_issuer = args.cluster_issuer
        self.issuer = k8s.apiextensions.CustomResource(
            f"{name}-issuer",
            api_version="cert-manager.io/v1",
            kind="ClusterIssuer",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.cluster_issuer),
            spec={
                "acme": {
                    "server": args.acme_server,
                    "email": args.acme_email,
                    # The ACME account key cert-manager generates; it never leaves the cluster.
                    "privateKeySecretRef": {"name": f"{args.cluster_issuer}-account-key"},
                    "solvers": [{"http01": {"ingress": {"ingressClassName": args.ingress_class_name}}}],
                }
            },
            # The CRD and the webhook that validates issuers must be up first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.manifest]),
        )
        self.register_outputs({"cluster_issuer": self.cluster_issuer, "manifest": self.manifest, "issuer": self.issuer})


@dataclass(frozen=True)
class RouteTls:
    """How a route serves TLS for its host."""

    mode: Literal["none", "secret", "self-signed", "cert-manager"] = "none"
    """none: plain HTTP; secret: an existing TLS Secret; self-signed: a local CA and certificate made
    here; cert-manager: cert-manager issues the certificate into the Secret."""
    secret_name: str = ""
    """The TLS Secret (every mode but none): read, written (self-signed) or filled by cert-manager."""
    cluster_issuer: str = ""
    """cert-manager mode: the ClusterIssuer named in the route's annotation."""

    def __post_init__(self) -> None:
        # Before anything is registered: a mode without what it needs would fail on the cluster.
        if self.mode != "none" and not self.secret_name:
            raise ValueError(f"RouteTls mode {self.mode!r} needs a secret_name")
        if self.mode == "cert-manager" and not self.cluster_issuer:
            raise ValueError("RouteTls mode 'cert-manager' needs a cluster_issuer")

    @property
    def enabled(self) -> bool:
        """Whether the route serves HTTPS."""
        return self.mode != "none"


@dataclass
class RouteCertificate:
    """What route_certificate made for a route."""

    secret: k8s.core.v1.Secret | None
    """The TLS Secret written from a self-signed certificate, if any."""
    ca_certificate: pulumi.Output[str] | None
    """The self-signed chain's CA certificate (public), if any."""


def route_certificate(
    route: pulumi.ComponentResource,
    name: str,
    tls: RouteTls,
    host: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    certificate_aliases: Sequence[pulumi.Input[str | pulumi.Alias]] = (),
) -> RouteCertificate:
    """The children a route needs for its TLS mode: with self-signed, a certificate for `host` and
    the TLS Secret holding it (`<name>-cert`, `<name>-tls`); nothing for the other modes.
    `certificate_aliases`: where a program made that certificate before (its keys are kept)."""
    if tls.mode != "self-signed":
        return RouteCertificate(secret=None, ca_certificate=None)
    certificate = SelfSignedCertificate(
        f"{name}-cert",
        SelfSignedCertificateArgs(host=host),
        pulumi.ResourceOptions(parent=route, aliases=list(certificate_aliases)),
    )
    secret = k8s.core.v1.Secret(
        f"{name}-tls",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=tls.secret_name, namespace=namespace, labels=labels),
        type="kubernetes.io/tls",
        string_data={
            "tls.crt": certificate.certificate,
            "tls.key": pulumi.Output.secret(certificate.private_key),
        },
        opts=pulumi.ResourceOptions(parent=route),
    )
    return RouteCertificate(secret=secret, ca_certificate=certificate.ca_certificate)
