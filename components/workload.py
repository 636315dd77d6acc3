"""Workload: the app's Deployment.

It carries the article's production settings: a zero-downtime rolling update, startup/liveness/
readiness probes, requests and limits, and the app's ConfigMap and Secret as environment (plus the
config file mounted read-only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components import TYPE_PREFIX

CONTAINER_NAME = "flask"
PORT_NAME = "http"
CONFIG_MOUNT_PATH = "/etc/app/config"
CONFIG_FILE_NAME = "app.ini"


@dataclass(frozen=True)
class ResourcesSpec:
    """Requests and limits of the app container."""

    cpu_request: str
    """CPU the scheduler reserves per pod."""
    memory_request: str
    """Memory the scheduler reserves per pod."""
    cpu_limit: str
    """CPU a pod is throttled at."""
    memory_limit: str
    """Memory a pod is killed at."""


@dataclass(frozen=True)
class WorkloadArgs:
    """Inputs of Workload."""

    name: str
    """Deployment name (and the container's app name in logs)."""
    namespace: pulumi.Input[str]
    """Namespace of the Deployment."""
    image: str
    """Container image reference."""
    replicas: int
    """Desired number of pods."""
    container_port: int
    """Port the app listens on inside the container (named "http")."""
    resources: ResourcesSpec
    """Requests and limits."""
    selector_labels: dict[str, str]
    """Labels that select the pods. Immutable on a Deployment, so never derived from versions."""
    config_map_name: pulumi.Input[str]
    """ConfigMap exposed as environment variables (envFrom)."""
    secret_name: pulumi.Input[str]
    """Secret exposed as environment variables (envFrom)."""
    config_file_key: str
    """ConfigMap key mounted as CONFIG_MOUNT_PATH/CONFIG_FILE_NAME."""
    max_surge: int = 1
    """Pods above `replicas` during a rollout."""
    max_unavailable: int = 0
    """Pods below `replicas` during a rollout."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the Deployment (and, with the selector labels, its pods)."""
    pod_labels: dict[str, str] = field(default_factory=dict)
    """Extra labels for the pods only (e.g. the version)."""
    pod_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations on the pod template; changing one rolls the pods."""
    health_path: str = "/health"
    """Liveness and startup probe path."""
    ready_path: str = "/ready"
    """Readiness probe path."""


class Workload(pulumi.ComponentResource):
    """The Deployment that runs the app."""

    deployment_name: pulumi.Output[str]
    """The Deployment's name."""
    deployment: k8s.apps.v1.Deployment
    """The Deployment object."""

    def __init__(self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Workload", name, None, opts)
        res = args.resources

        def http_probe(path: str, initial_delay: int, period: int, failures: int) -> k8s.core.v1.ProbeArgs:
            return k8s.core.v1.ProbeArgs(
                http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=PORT_NAME),
                initial_delay_seconds=initial_delay,
                period_seconds=period,
                failure_threshold=failures,
            )

        container = k8s.core.v1.ContainerArgs(
            name=CONTAINER_NAME,
            image=args.image,
            ports=[k8s.core.v1.ContainerPortArgs(name=PORT_NAME, container_port=args.container_port)],
            env_from=[
                k8s.core.v1.EnvFromSourceArgs(
                    config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=args.config_map_name)
                ),
                k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=args.secret_name)),
            ],
            resources=k8s.core.v1.ResourceRequirementsArgs(
                requests={"cpu": res.cpu_request, "memory": res.memory_request},
                limits={"cpu": res.cpu_limit, "memory": res.memory_limit},
            ),
            # The startup probe gives a slow start up to 5 + 12 x 5 s before liveness may kill the pod;
            # readiness keeps a pod out of the Service until /ready answers.
            startup_probe=http_probe(args.health_path, 5, 5, 12),
            liveness_probe=http_probe(args.health_path, 15, 30, 3),
            readiness_probe=http_probe(args.ready_path, 5, 10, 3),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="config", mount_path=CONFIG_MOUNT_PATH, read_only=True)],
        )
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name, namespace=args.namespace, labels={**args.labels, **args.selector_labels}
            ),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=args.selector_labels),
                # maxUnavailable 0: a new pod must be Ready before an old one goes, so capacity never
                # drops during a rollout (the quota is checked to hold the surge pod).
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_surge=args.max_surge, max_unavailable=args.max_unavailable
                    ),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels={**args.labels, **args.pod_labels, **args.selector_labels},
                        annotations=dict(args.pod_annotations) or None,
                    ),
                    spec=k8s.core.v1.PodSpecArgs(
                        containers=[container],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="config",
                                config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                                    name=args.config_map_name,
                                    items=[k8s.core.v1.KeyToPathArgs(key=args.config_file_key, path=CONFIG_FILE_NAME)],
                                ),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.deployment_name = self.deployment.metadata.name
        self.register_outputs({"deployment_name": self.deployment_name, "deployment": self.deployment})
