"""AppService: the stable address in front of the app's pods.

Port 80 forwards to the container's named port, so changing the container port never changes how
clients or the Ingress reach the app. The type (ClusterIP behind an Ingress, LoadBalancer on a cloud)
and annotations (e.g. the cloud load balancer's kind) come from the stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX
from flask_k8s_components.status import published_address

SERVICE_PORT = 80


@dataclass(frozen=True)
class ServiceSpec:
    """The Service in front of the pods (the config group `service`)."""

    type: str = "ClusterIP"
    """ClusterIP, NodePort or LoadBalancer."""
    annotations: dict[str, str] = field(default_factory=dict)
    """Service annotations (cloud load balancer settings)."""


@dataclass(frozen=True)
class AppServiceArgs:
    """Inputs of AppService."""

    name: str
    """Service name (an RFC 1035 label)."""
    namespace: pulumi.Input[str]
    """Namespace of the Service."""
    selector_labels: dict[str, str]
    """Labels of the pods it routes to."""
    port: int
    """The app's port, where the Service sends the traffic (its targetPort)."""
    spec: ServiceSpec = field(default_factory=ServiceSpec)
    """Its type and annotations."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the Service."""


class AppService(pulumi.ComponentResource):
    """A Service that routes port 80 to the app's pods."""

    service_name: pulumi.Output[str]
    """The Service's name."""
    port: int
    """The Service port (80)."""
    address: pulumi.Output[str | None]
    """Address a cloud load balancer published (type LoadBalancer), if any."""
    service: k8s.core.v1.Service
    """The Service object."""

    def __init__(self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:AppService", name, None, opts)
        self.port = SERVICE_PORT
        annotations = dict(args.spec.annotations)
        if args.spec.type != "LoadBalancer":
            # pulumi-kubernetes' Service await (pkg/await/service.go) adds ~10 s to every create: it
            # waits that long after the first Endpoints event and still never requires a ready
            # endpoint. Readiness is proven where it is real, by the Deployment's await on its pods,
            # and FlaskApp makes the Ingress wait for that. A LoadBalancer keeps the await: that is
            # where `up` waits for the cloud to publish the address.
            annotations["pulumi.com/skipAwait"] = "true"
        self.service = k8s.core.v1.Service(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name, namespace=args.namespace, labels=args.labels, annotations=annotations or None
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type=args.spec.type,
                selector=args.selector_labels,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="http", protocol="TCP", port=SERVICE_PORT, target_port=args.port)
                ],
            ),
            # The object this component exists for takes the component's name; until 4a17c1c it was
            # "<name>-service" (flask-app-service-service), and the alias keeps that live object.
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{name}-service")]),
        )
        self.service_name = self.service.metadata.name
        self.address = self.service.status.apply(published_address)
        self.register_outputs(
            {"service_name": self.service_name, "port": self.port, "address": self.address, "service": self.service}
        )
