"""AppGatewayRoute: HTTP(S) routing from the cluster edge to the app's Service through Gateway API.

Gateway API (Gateway, GatewayClass, HTTPRoute: GA since v1.0) is SIG Network's successor to
Ingress. The route attaches either to a Gateway this component makes (one HTTPS listener
terminating TLS with the route's certificate, one HTTP listener answered by a redirect to HTTPS) or
to a shared Gateway that a platform team runs elsewhere (the route stays in the app's namespace; the
Gateway's listeners admit it through `allowedRoutes`, and TLS is that Gateway's business).

The TLS Secret is not this component's: AppIngress, the app's route whichever API it uses, makes
it (flask_k8s_components/tls.py), so that moving between Ingress and Gateway API keeps the
certificate and the Secret.

Two properties a user relies on:
- `pulumi up` returns only once the Gateway is Programmed and the route Accepted with resolved
  references, and fails quoting the controller's conditions when not (route_status.py).
- A change of what the route attaches to never detaches the route that serves now: the Gateway
  and the HTTPRoutes are named by Pulumi (a random suffix) and replaced create-before-delete when
  their parent changes, so a new parent that never accepts them fails the update while the old
  objects keep serving (the old ones go only when an update succeeds).

The article's request-body limit (ingress-nginx's proxy-body-size) has no Gateway API filter;
with Traefik (the controller the program installs) it is a Traefik Middleware referenced by an
ExtensionRef filter. Another Gateway implementation has its own policy for it (README).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX
from flask_k8s_components.route import Backend, GatewaySpec, RouteSpec
from flask_k8s_components.route_status import ClusterAccess, ObjectRef, RouteWait, route_serving

API_VERSION = "gateway.networking.k8s.io/v1"
HTTP_LISTENER, HTTPS_LISTENER = "http", "https"


@dataclass(frozen=True)
class AppGatewayRouteArgs:
    """Inputs of AppGatewayRoute."""

    name: str
    """Prefix of the objects' names (the app's name)."""
    namespace: pulumi.Input[str]
    """Namespace of the route (that of the Service)."""
    route: RouteSpec
    """Host, TLS and, in `gateway`, the Gateway to make or the shared one to attach to. The TLS is
    that of the Gateway this component makes (its listener names the mode's Secret); it must be none
    with a shared Gateway (its own TLS)."""
    backend: Backend
    """The Service the route sends to."""
    timeout_seconds: int = 300
    """How long `pulumi up` waits for the route to serve."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for every object."""

    def __post_init__(self) -> None:
        if self.route.gateway is None:
            raise ValueError("AppGatewayRoute needs route.gateway (the Gateway API settings)")
        if self.route.gateway.shared is not None and self.route.tls.enabled:
            raise ValueError("a route on a shared Gateway takes that Gateway's TLS: tls mode must be none")

    @property
    def gateway(self) -> GatewaySpec:
        """route.gateway, which __post_init__ requires."""
        assert self.route.gateway is not None
        return self.route.gateway


class AppGatewayRoute(pulumi.ComponentResource):
    """An HTTPRoute for one host to the app's Service, on a Gateway made here or a shared one."""

    gateway: k8s.apiextensions.CustomResource | None
    """The Gateway this component made, if any."""
    route: k8s.apiextensions.CustomResource
    """The HTTPRoute to the app."""
    redirect: k8s.apiextensions.CustomResource | None
    """The HTTPRoute redirecting plain HTTP to HTTPS (a Gateway made here, with TLS)."""
    body_limit: k8s.apiextensions.CustomResource | None
    """The Traefik Middleware holding the body limit, if any."""
    url: pulumi.Output[str]
    """Where the app answers."""
    serving: pulumi.Output[str]
    """"serving" once the Gateway and routes are accepted (an update fails otherwise); "not
    checked" in a preview or without cluster access."""

    def __init__(
        self,
        name: str,
        args: AppGatewayRouteArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        route_after: Sequence[pulumi.Resource] = (),
        cluster: ClusterAccess | None = None,
    ) -> None:
        """`route_after`: what the Gateway and routes wait for (the TLS Secret, the Deployment whose
        await proves the pods Ready, the controller). `cluster`: where to read the objects' status,
        so that `pulumi up` waits until the route serves (none: no wait)."""
        super().__init__(f"{TYPE_PREFIX}:AppGatewayRoute", name, None, opts)
        tls = args.route.tls
        after = list(route_after)

        shared = args.gateway.shared
        self.gateway = None if shared is not None else self._gateway(name, args, after)
        if self.gateway is not None:
            parent_ns: pulumi.Input[str] = args.namespace
            parent_name: pulumi.Input[str] = name_of(self.gateway)
            section: str | None = HTTPS_LISTENER if tls.enabled else HTTP_LISTENER
        else:
            assert shared is not None
            parent_ns, parent_name, section = shared.namespace, shared.name, shared.section_name
        route_opts = pulumi.ResourceOptions(
            parent=self,
            depends_on=[*after, *([self.gateway] if self.gateway else [])],
            # A new parent makes new routes first: until they are accepted the old ones keep serving.
            replace_on_changes=["spec.parentRefs"],
            delete_before_replace=False,
        )
        self.body_limit = self._body_limit(name, args) if args.gateway.max_body_bytes else None
        filters: list[dict[str, Any]] = []
        if self.body_limit is not None:
            filters.append(
                {
                    "type": "ExtensionRef",
                    "extensionRef": {"group": "traefik.io", "kind": "Middleware", "name": name_of(self.body_limit)},
                }
            )
        # The Middleware's name is an output of it: the route waits for it through its spec.
        rule: dict[str, Any] = {
            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
            **({"filters": filters} if filters else {}),
            "backendRefs": [{"name": args.backend.service_name, "port": args.backend.port}],
        }
        self.route = self._http_route(
            f"{name}-route", args, _parent_ref(parent_name, parent_ns, section), rule, route_opts
        )
        self.redirect = None
        if self.gateway is not None and tls.enabled:
            redirect = {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
            self.redirect = self._http_route(
                f"{name}-redirect",
                args,
                _parent_ref(parent_name, parent_ns, HTTP_LISTENER),
                {"filters": [redirect]},
                route_opts,
            )
        self.url = pulumi.Output.from_input(f"{'https' if tls.enabled or shared else 'http'}://{args.route.host}/")
        routes = [self.route, *([self.redirect] if self.redirect else [])]
        self.serving = route_serving(cluster, self._wait(args, parent_ns, parent_name, routes))
        self.register_outputs(
            {
                "gateway": self.gateway,
                "route": self.route,
                "redirect": self.redirect,
                "body_limit": self.body_limit,
                "url": self.url,
                "serving": self.serving,
            }
        )

    def _gateway(
        self, name: str, args: AppGatewayRouteArgs, after: Sequence[pulumi.Resource]
    ) -> k8s.apiextensions.CustomResource:
        tls = args.route.tls
        same_namespace = {"namespaces": {"from": "Same"}}
        listeners: list[dict[str, Any]] = [
            {
                "name": HTTP_LISTENER,
                "protocol": "HTTP",
                "port": 80,
                "hostname": args.route.host,
                "allowedRoutes": same_namespace,
            }
        ]
        if tls.enabled:
            listeners.append(
                {
                    "name": HTTPS_LISTENER,
                    "protocol": "HTTPS",
                    "port": 443,
                    "hostname": args.route.host,
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": tls.secret_name}]},
                    "allowedRoutes": same_namespace,
                }
            )
        annotations = {"cert-manager.io/cluster-issuer": tls.cluster_issuer} if tls.mode == "cert-manager" else None
        return k8s.apiextensions.CustomResource(
            # The object this component exists for takes the component's name (its role said once);
            # until 3.0.0 it was "<name>-gateway" (flask-app-ingress-gateway-gateway), and the alias
            # keeps that live object and its generated name.
            name,
            api_version=API_VERSION,
            kind="Gateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(namespace=args.namespace, labels=args.labels, annotations=annotations),
            spec={"gatewayClassName": args.gateway.class_name, "listeners": listeners},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(after),
                # Another class means another controller: the new Gateway must be programmed before
                # the old one goes.
                replace_on_changes=["spec.gatewayClassName"],
                delete_before_replace=False,
                aliases=[pulumi.Alias(name=f"{name}-gateway")],
            ),
        )

    @staticmethod
    def _http_route(
        name: str,
        args: AppGatewayRouteArgs,
        parent: dict[str, Any],
        rule: dict[str, Any],
        opts: pulumi.ResourceOptions,
    ) -> k8s.apiextensions.CustomResource:
        """An HTTPRoute for the app's host with one rule, attached to `parent`."""
        return k8s.apiextensions.CustomResource(
            name,
            api_version=API_VERSION,
            kind="HTTPRoute",
            metadata=k8s.meta.v1.ObjectMetaArgs(namespace=args.namespace, labels=args.labels),
            spec={"parentRefs": [parent], "hostnames": [args.route.host], "rules": [rule]},
            opts=opts,
        )

    def _body_limit(self, name: str, args: AppGatewayRouteArgs) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            f"{name}-body-limit",
            api_version="traefik.io/v1alpha1",
            kind="Middleware",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{args.name}-body-limit", namespace=args.namespace, labels=args.labels
            ),
            # Traefik answers 413 to a larger body, as ingress-nginx does above proxy-body-size.
            spec={"buffering": {"maxRequestBodyBytes": args.gateway.max_body_bytes}},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _wait(
        self,
        args: AppGatewayRouteArgs,
        parent_ns: pulumi.Input[str],
        parent_name: pulumi.Input[str],
        routes: list[k8s.apiextensions.CustomResource],
    ) -> pulumi.Output[RouteWait]:
        made = self.gateway is not None

        def build(values: list[Any]) -> RouteWait:
            namespace, parent_namespace, parent, *names = (str(v) for v in values)
            return RouteWait(
                gateway=ObjectRef(parent_namespace, parent) if made else None,
                parent=ObjectRef(parent_namespace, parent),
                routes=[ObjectRef(namespace, n) for n in names],
                timeout_seconds=float(args.timeout_seconds),
            )

        return pulumi.Output.all(
            pulumi.Output.from_input(args.namespace),
            pulumi.Output.from_input(parent_ns),
            pulumi.Output.from_input(parent_name),
            *[name_of(r) for r in routes],
        ).apply(build)


def _parent_ref(name: pulumi.Input[str], namespace: pulumi.Input[str], section: str | None) -> dict[str, Any]:
    ref: dict[str, Any] = {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": name,
        "namespace": namespace,
    }
    if section is not None:
        ref["sectionName"] = section
    return ref


def name_of(resource: k8s.apiextensions.CustomResource) -> pulumi.Output[str]:
    """A custom resource's name, as the API server has it (Pulumi names these objects)."""
    # The SDK sets each returned property as an attribute; CustomResource declares none of them.
    metadata: pulumi.Output[Any] = getattr(resource, "metadata")  # noqa: B009
    return metadata.apply(lambda m: str(m["name"] if isinstance(m, dict) else m.name))
