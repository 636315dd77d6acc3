"""Reading what a controller published in an object's status."""

from __future__ import annotations

from typing import Any


def published_address(status: Any) -> str | None:
    """The first IP or host name in `status.loadBalancer.ingress` (Service or Ingress), if any.

    Both status types have the same shape, so this takes either; None until a controller (a cloud
    load balancer, an ingress controller) has published an address.
    """
    load_balancer = getattr(status, "load_balancer", None) if status is not None else None
    for entry in getattr(load_balancer, "ingress", None) or []:
        if entry.ip or entry.hostname:
            return entry.ip or entry.hostname
    return None
