"""AppNetworkPolicy: the namespace denies all inbound traffic except what reaches the app's port.

Two policies: a default-deny for ingress to every pod in the namespace (so anything added later is
closed until someone opens it), and one for the app's pods that admits the ingress controller's
namespace (and, when the app is its own entry point behind a cloud load balancer, any source) on
the app port, and limits their egress to DNS and the destinations the stack lists. Policies are
enforced by the cluster's network plugin; without one (plain Kind, kwok) they are stored but inert.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX


@dataclass(frozen=True)
class EgressRule:
    """One allowed egress destination."""

    cidr: str
    """Destination network, e.g. 10.0.12.0/24."""
    port: int | None = None
    """TCP port; None allows every port."""


@dataclass(frozen=True)
class NetworkPolicySpec:
    """Which traffic the namespace admits (the config group `namespace.networkPolicy`)."""

    ingress_namespaces: list[str] = field(default_factory=lambda: ["traefik"])
    """Namespaces allowed to reach the app's port (the ingress controller's)."""
    egress: list[EgressRule] = field(default_factory=list)
    """Allowed egress destinations besides DNS."""


@dataclass(frozen=True)
class AppNetworkPolicyArgs:
    """Inputs of AppNetworkPolicy."""

    name: str
    """Prefix of the policies' names."""
    namespace: pulumi.Input[str]
    """Namespace the policies apply to."""
    selector_labels: dict[str, str]
    """Labels selecting the app's pods."""
    port: int
    """The app's port, the one that may be reached."""
    spec: NetworkPolicySpec = field(default_factory=NetworkPolicySpec)
    """Who may reach the port, and where the pods may connect."""
    allow_from_anywhere: bool = False
    """Allow any source to the port (a LoadBalancer/NodePort Service is the entry point)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the policies."""


class AppNetworkPolicy(pulumi.ComponentResource):
    """Default-deny ingress for the namespace, and the app's allowed ingress and egress."""

    default_deny: k8s.networking.v1.NetworkPolicy
    """Denies ingress to every pod in the namespace."""
    app_policy: k8s.networking.v1.NetworkPolicy
    """What the app's pods may receive and send."""

    def __init__(self, name: str, args: AppNetworkPolicyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:AppNetworkPolicy", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.default_deny = k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{args.name}-default-deny-ingress", namespace=args.namespace, labels=args.labels
            ),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress"]
            ),
            opts=child,
        )
        port = [k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=args.port)]
        if args.allow_from_anywhere:
            ingress = [k8s.networking.v1.NetworkPolicyIngressRuleArgs(ports=port)]
        elif not args.spec.ingress_namespaces:
            # An empty `from` would mean "from anywhere": with no namespace listed, admit nothing.
            ingress = []
        else:
            ingress = [
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    ports=port,
                    from_=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                match_labels={"kubernetes.io/metadata.name": namespace}
                            )
                        )
                        for namespace in args.spec.ingress_namespaces
                    ],
                )
            ]
        dns = k8s.networking.v1.NetworkPolicyEgressRuleArgs(
            ports=[
                k8s.networking.v1.NetworkPolicyPortArgs(protocol="UDP", port=53),
                k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=53),
            ]
        )
        egress = [dns] + [
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=rule.cidr))],
                ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=rule.port)] if rule.port else None,
            )
            for rule in args.spec.egress
        ]
        self.app_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-app",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{args.name}-app", namespace=args.namespace, labels=args.labels),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=args.selector_labels),
                policy_types=["Ingress", "Egress"],
                ingress=ingress,
                egress=egress,
            ),
            opts=child,
        )
        self.register_outputs({"default_deny": self.default_deny, "app_policy": self.app_policy})
