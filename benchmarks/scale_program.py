"""Benchmark program, not the product: N copies of the app, each in its own namespace, in one stack.

benchmarks/scale.py runs it as the `__main__.py` of a copy of the project, to see how `pulumi up`
and a no-op preview grow with the number of apps. Each copy is the stack's own app (its config read
and validated by settings/, composed by components/ unchanged) with its own namespace, host and
self-signed certificate: what N `local` stacks of the product would hold, in one program.
The number of apps is the config key `flask-bench:apps`.
"""

from __future__ import annotations

from dataclasses import replace

import pulumi
import pulumi_kubernetes as k8s
from flask_k8s_components.flask_app import FlaskApp

from settings import load_settings

settings = load_settings()
apps = pulumi.Config("flask-bench").require_int("apps")
base = settings.app
if base.route is None or base.route.gateway is not None or settings.tls.mode != "self-signed":
    raise ValueError("the scale benchmark needs a stack with an Ingress and tls.mode self-signed (the local stack)")

provider = k8s.Provider("k8s", kubeconfig=settings.cluster.kubeconfig, context=settings.cluster.context)
on_cluster = pulumi.ResourceOptions(provider=provider)

for index in range(apps):
    suffix = f"{index:02d}"
    host = f"app-{suffix}.{base.route.host}"
    # Each app's route makes its own self-signed certificate for its host (tls.RouteTls).
    FlaskApp(
        f"{base.name}-{suffix}",
        replace(
            base,
            namespace=replace(base.namespace, name=f"{base.namespace.name}-{suffix}"),
            route=replace(base.route, host=host),
        ),
        on_cluster,
    )

pulumi.export("apps", apps)
