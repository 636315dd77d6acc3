"""The program: read the stack's settings once, pick the cluster, compose the app.

Where things are decided:
- Pulumi.yaml declares every config key (type, default, meaning); Pulumi.<stack>.yaml holds a
  stack's choices (dev: a Kind cluster on this machine; prod: an existing managed cluster).
- settings.py validates all of it before any resource is registered.
- components/ holds the building blocks; this file only wires them together.
"""

from __future__ import annotations

from dataclasses import replace

import pulumi
import pulumi_kubernetes as k8s

from components.flask_app import FlaskApp
from components.ingress import TlsCertificate
from components.ingress_nginx import IngressNginx, IngressNginxArgs
from components.kind_cluster import KindCluster, KindClusterArgs
from components.kind_image import KindImage, KindImageArgs
from components.tls import CertManager, CertManagerArgs, SelfSignedCertificate, SelfSignedCertificateArgs
from settings import load_settings

settings = load_settings()
cluster = settings.cluster
app_args = settings.app

# --- The cluster and the one provider every Kubernetes object goes through -------------------------
kubeconfig = cluster.kubeconfig
kind: KindCluster | None = None
if cluster.kind is not None:
    kind = KindCluster(
        "kind",
        KindClusterArgs(
            cluster_name=cluster.kind.cluster_name,
            workers=cluster.kind.workers,
            create=cluster.kind.create,
            node_image=cluster.kind.node_image,
        ),
    )
    kubeconfig = kind.kubeconfig

# Explicit, never the ambient current context: that is how deployments land on the wrong cluster.
provider = k8s.Provider("k8s", kubeconfig=kubeconfig, context=cluster.context)
on_cluster = pulumi.ResourceOptions(provider=provider)

# --- What the cluster needs besides the app ----------------------------------------------------------
pod_annotations: dict[str, pulumi.Input[str]] = {}
if kind is not None and cluster.kind is not None and cluster.kind.load_image:
    image = KindImage(
        "app-image",
        KindImageArgs(
            image=app_args.image,
            source_dir=cluster.kind.app_source_dir,
            cluster_name=kind.cluster_name,
            cluster_revision=kind.revision,
        ),
        # The image can only be loaded once the cluster exists. An ordering, not a value derived from
        # the (secret) kubeconfig: that would put a secret into the command's triggers.
        pulumi.ResourceOptions(depends_on=[kind]),
    )
    pod_annotations["flask-k8s/image-source-hash"] = image.source_hash

ingress_dependencies: list[pulumi.Resource] = []
if cluster.install_ingress_nginx:
    ingress_dependencies.append(
        IngressNginx("ingress-nginx", IngressNginxArgs(version=cluster.ingress_nginx_version), on_cluster)
    )

tls_certificate: TlsCertificate | None = None
ca_certificate: pulumi.Output[str] | None = None
if settings.tls.mode == "self-signed":
    certificate = SelfSignedCertificate("tls", SelfSignedCertificateArgs(host=settings.tls.host))
    tls_certificate = TlsCertificate(certificate=certificate.certificate, private_key=certificate.private_key)
    ca_certificate = certificate.ca_certificate
elif settings.tls.mode == "cert-manager" and settings.tls.install_cert_manager:
    ingress_dependencies.append(
        CertManager(
            "cert-manager",
            CertManagerArgs(
                version=settings.tls.cert_manager_version,
                issuer_name=settings.tls.cluster_issuer,
                acme_email=settings.tls.acme_email,
                ingress_class_name=app_args.ingress.class_name if app_args.ingress else "nginx",
            ),
            on_cluster,
        )
    )

if app_args.ingress is not None:
    app_args = replace(
        app_args,
        ingress=replace(app_args.ingress, tls_certificate=tls_certificate, depends_on=ingress_dependencies),
    )
app_args = replace(app_args, pod_annotations={**app_args.pod_annotations, **pod_annotations})

# --- The app ---------------------------------------------------------------------------------------------
app = FlaskApp(app_args.name, app_args, on_cluster)

pulumi.export("url", app.url)
pulumi.export("namespace", app.namespace_name)
pulumi.export("deploymentName", app.deployment_name)
pulumi.export("serviceName", app.service_name)
pulumi.export("ingressAddress", app.ingress_address)
if app_args.service_type == "LoadBalancer":
    pulumi.export("loadBalancerAddress", app.service.address)
if kubeconfig is not None:
    pulumi.export("kubeconfig", pulumi.Output.secret(kubeconfig))
if ca_certificate is not None:
    pulumi.export("caCertificate", ca_certificate)
