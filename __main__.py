"""The program: cluster -> provider -> add-ons -> app -> exports.

Where things are decided:
- settings/schema.py declares every config value (type, default, meaning); Pulumi.<stack>.yaml holds
  a stack's choices (dev: the article on a Kind cluster; prod: what production changes).
- settings/ validates all of it and builds each component's Args before any resource is registered.
- components/ holds the building blocks; this file only wires them together.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from flask_k8s_components.flask_app import FlaskApp
from flask_k8s_components.ingress_controller import IngressController
from flask_k8s_components.kind_cluster import KindCluster
from flask_k8s_components.kind_image import KindImage, KindImageArgs
from flask_k8s_components.route_status import ClusterAccess
from flask_k8s_components.tls import CertManager

from settings import load_settings

settings = load_settings()
cluster = settings.cluster

# --- The cluster, and the one provider every Kubernetes object goes through -----------------------
kubeconfig = cluster.kubeconfig
kind = KindCluster("kind", cluster.kind) if cluster.kind is not None else None
if kind is not None:
    kubeconfig = kind.kubeconfig
# Explicit, never the ambient current context: that is how deployments land on the wrong cluster.
provider = k8s.Provider("k8s", kubeconfig=kubeconfig, context=cluster.context)
on_cluster = pulumi.ResourceOptions(provider=provider)

# --- What the cluster needs besides the app -----------------------------------------------------------
pod_annotations: dict[str, pulumi.Input[str]] = {}
if kind is not None and cluster.kind_image is not None:
    image = KindImage(
        "app-image",
        KindImageArgs(
            source=cluster.kind_image,
            cluster_name=kind.cluster_name,
            cluster_revision=kind.revision,
        ),
        # The image can only be loaded once the cluster exists. An ordering, not a value derived from
        # the (secret) kubeconfig: that would put a secret into the command's triggers.
        pulumi.ResourceOptions(depends_on=[kind]),
    )
    # A rebuilt image under the same tag rolls the pods.
    pod_annotations["flask-k8s/image-source-hash"] = image.source_hash

# The front door: Traefik serving the Ingress (IngressClass nginx) and Gateway API routes. The route
# waits for it, and for the issuer of its certificate.
route_after: list[pulumi.Resource] = []
if cluster.ingress_controller is not None:
    route_after.append(IngressController("ingress-controller", cluster.ingress_controller, on_cluster))
if settings.tls.cert_manager is not None:
    route_after.append(CertManager("cert-manager", settings.tls.cert_manager, on_cluster))

# --- The app ---------------------------------------------------------------------------------------------
app = FlaskApp(
    settings.app.name,
    settings.app,
    on_cluster,
    ingress_depends_on=route_after,
    pod_annotations=pod_annotations,
    # `pulumi up` reads the Gateway API route's status through the provider's own credentials.
    cluster=ClusterAccess(kubeconfig=kubeconfig, context=cluster.context),
    # Until release 2.0.0 of the components this program made the self-signed certificate itself,
    # as `tls` at the root of the stack: the route's certificate keeps its keys (and so the CA).
    certificate_aliases=[pulumi.Alias(name="tls", parent=pulumi.ROOT_STACK_RESOURCE)],
)

# --- Exports ---------------------------------------------------------------------------------------------
pulumi.export("url", app.url)
pulumi.export("namespace", app.namespace_name)
pulumi.export("deploymentName", app.deployment_name)
pulumi.export("serviceName", app.service_name)
pulumi.export("ingressAddress", app.ingress_address)
if app.service is not None and settings.app.service is not None and settings.app.service.type == "LoadBalancer":
    pulumi.export("loadBalancerAddress", app.service.address)
if kubeconfig is not None:
    pulumi.export("kubeconfig", pulumi.Output.secret(kubeconfig))
if app.ca_certificate is not None:
    pulumi.export("caCertificate", app.ca_certificate)
