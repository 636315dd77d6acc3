"""The route's specs: how the app is reached from the cluster edge (the config groups `ingress` and
`tls`), shared by AppIngress (the route, whichever API it uses) and AppGatewayRoute (its Gateway API
objects). Plain data: the components live in ingress.py and gateway.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from flask_k8s_components.tls import RouteTls


@dataclass(frozen=True)
class SharedGateway:
    """A Gateway run by someone else that the route attaches to."""

    name: str
    """The Gateway's name."""
    namespace: str
    """Its namespace."""
    section_name: str | None = None
    """The listener to attach to; None: every listener that admits the route."""


@dataclass(frozen=True)
class GatewaySpec:
    """Route through Gateway API (the config group `ingress.gateway`)."""

    class_name: str = "traefik"
    """GatewayClass of the Gateway made for the app."""
    shared: SharedGateway | None = None
    """Attach to this Gateway instead of making one."""
    max_body_bytes: int | None = None
    """Largest request body, through a Traefik Middleware (only where Traefik serves the route)."""


@dataclass(frozen=True)
class IngressSpec:
    """Route through an Ingress (the article's)."""

    class_name: str = "nginx"
    """IngressClass that implements the Ingress."""
    annotations: dict[str, str] = field(default_factory=dict)
    """Controller annotations (body size, rate limits, ...)."""


@dataclass(frozen=True)
class RouteSpec:
    """The app's route for one host: through an Ingress, or through Gateway API when `gateway` is set."""

    host: str
    """Host name the route answers for."""
    tls: RouteTls = field(default_factory=RouteTls)
    """TLS for the host (none serves plain HTTP)."""
    ingress: IngressSpec = field(default_factory=IngressSpec)
    """The Ingress's class and annotations (unused with `gateway`)."""
    gateway: GatewaySpec | None = None
    """Gateway API instead of the Ingress; None routes through the Ingress."""


@dataclass(frozen=True)
class Backend:
    """Where a route sends the traffic: the app's Service."""

    service_name: pulumi.Input[str]
    """The Service's name."""
    port: int
    """The Service's port."""
