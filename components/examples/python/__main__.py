"""Two apps from the same component in one stack, with nothing but the library installed.

`web` is the Flask app behind an Ingress; `worker` runs the same image as a background worker
(ROLE=worker): no Service, no Ingress, and its NetworkPolicy admits no caller. Each gets its own
namespace, quota, LimitRange, config, generated secrets and Deployment.
"""

import dataclasses

import pulumi
from flask_k8s_components.app_config import ConfigSpec
from flask_k8s_components.flask_app import FlaskApp, FlaskAppArgs
from flask_k8s_components.namespace import LimitRangeSpec, NamespaceSpec, QuotaSpec
from flask_k8s_components.network_policy import NetworkPolicySpec
from flask_k8s_components.route import RouteSpec
from flask_k8s_components.workload import ResourcesSpec, RolloutSpec, ScaleSpec, WorkloadSpec

config = pulumi.Config()
IMAGE = config.get("image") or "flask-app:1.0"
HOST = config.get("host") or "flask.example.com"

# Per container, in millicores and MiB.
CPU_REQUEST, MEMORY_REQUEST, CPU_LIMIT, MEMORY_LIMIT = 100, 128, 500, 256
ROLLOUT = RolloutSpec(max_surge=1, max_unavailable=0)


def app_args(name: str, replicas: int) -> FlaskAppArgs:
    """One app's Args; its quota holds the most pods a rolling update runs at once."""
    # The running pods, the surge pod, and a stopping pod that still counts until it is gone.
    peak = replicas + ROLLOUT.max_surge + ROLLOUT.max_surge + ROLLOUT.max_unavailable
    return FlaskAppArgs(
        name=name,
        namespace=NamespaceSpec(
            name=name,
            quota=QuotaSpec(
                requests_cpu=f"{CPU_REQUEST * peak}m",
                requests_memory=f"{MEMORY_REQUEST * peak}Mi",
                limits_cpu=f"{CPU_LIMIT * peak}m",
                limits_memory=f"{MEMORY_LIMIT * peak}Mi",
                pods=peak,
                services=1,
                persistent_volume_claims=0,
            ),
            limit_range=LimitRangeSpec(
                default_cpu=f"{CPU_LIMIT}m",
                default_memory=f"{MEMORY_LIMIT}Mi",
                default_request_cpu=f"{CPU_REQUEST}m",
                default_request_memory=f"{MEMORY_REQUEST}Mi",
            ),
        ),
        workload=WorkloadSpec(
            image=IMAGE,
            version="1.0",
            port=5000,
            resources=ResourcesSpec(
                cpu_request=f"{CPU_REQUEST}m",
                memory_request=f"{MEMORY_REQUEST}Mi",
                cpu_limit=f"{CPU_LIMIT}m",
                memory_limit=f"{MEMORY_LIMIT}Mi",
            ),
            scale=ScaleSpec(replicas=replicas),
            rollout=ROLLOUT,
        ),
        config=ConfigSpec(env={"FLASK_ENV": "production", "LOG_LEVEL": "info"}, config_file=f"[app]\nname = {name}\n"),
    )


web = FlaskApp("web", dataclasses.replace(app_args("flask-web", 3), route=RouteSpec(host=HOST)))

worker_args = app_args("flask-worker", 1)
worker = FlaskApp(
    "worker",
    dataclasses.replace(
        worker_args,
        config=dataclasses.replace(worker_args.config, env={**worker_args.config.env, "ROLE": "worker"}),
        service=None,
        network_policy=NetworkPolicySpec(ingress_namespaces=[]),
    ),
)

pulumi.export("url", web.url)
pulumi.export("webNamespace", web.namespace_name)
pulumi.export("workerNamespace", worker.namespace_name)
pulumi.export("workerDeployment", worker.deployment_name)
