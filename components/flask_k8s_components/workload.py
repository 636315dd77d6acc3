"""Workload: the app's Deployment and what runs it safely.

The Deployment carries the article's production settings (a zero-downtime rolling update, startup/
liveness/readiness probes, requests and limits, the ConfigMap and Secret as environment plus the
config file mounted read-only) and more that production expects: a restricted security context
that passes Pod Security Admission's `restricted` level, its own ServiceAccount without an API
token, soft topology spread, a PodDisruptionBudget and, optionally, a HorizontalPodAutoscaler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX, resource_quantities

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
    ephemeral_storage_request: str | None = None
    """Node disk the scheduler reserves per pod (its logs and writable layers); None: the LimitRange's."""
    ephemeral_storage_limit: str | None = None
    """Node disk a pod is evicted at, so its logs cannot fill the node; None: the LimitRange's."""


@dataclass(frozen=True)
class SecuritySpec:
    """The pod's security context (defaults pass Pod Security Admission `restricted`)."""

    run_as_user: int = 10001
    """Numeric UID (and GID) the container runs as; runAsNonRoot can only verify a numeric one."""
    read_only_root_filesystem: bool = True
    """Mount the image read-only; /tmp is an in-memory emptyDir."""


@dataclass(frozen=True)
class TerminationSpec:
    """How a pod stops without dropping requests (rollouts, drains, scale-in)."""

    pre_stop_sleep_seconds: int = 5
    """Keep serving this long after the pod is marked terminating, before gunicorn gets SIGTERM, so
    the endpoints, kube-proxy and the ingress controller stop sending it new requests first."""
    grace_period_seconds: int = 30
    """terminationGracePeriodSeconds: must exceed the pause plus the app's own graceful stop (gunicorn's
    graceful_timeout, app/gunicorn.conf.py), or the kubelet kills requests still in flight."""


@dataclass(frozen=True)
class RolloutSpec:
    """How a rolling update proceeds, and how long it may take before it counts as failed (a bad
    release must fail, not hang)."""

    max_surge: int = 1
    """Pods above the desired count during a rollout."""
    max_unavailable: int = 0
    """Pods below the desired count during a rollout (0: a new pod is Ready before an old one goes)."""

    progress_deadline_seconds: int = 300
    """spec.progressDeadlineSeconds: without progress for this long the Deployment reports
    ProgressDeadlineExceeded (naming the stuck ReplicaSet)."""
    timeout_seconds: int = 360
    """Pulumi's customTimeouts for creating and updating the Deployment: when `up` gives up. The
    provider's await (pulumi-kubernetes 4.25) does not stop at ProgressDeadlineExceeded; it reports
    that reason when this timeout ends the wait, so it must come well after the deadline."""


@dataclass(frozen=True)
class AutoscalingSpec:
    """A HorizontalPodAutoscaler on CPU."""

    min_replicas: int
    """Lower bound of pods."""
    max_replicas: int
    """Upper bound of pods."""
    cpu_utilization: int
    """Target average CPU, in percent of the request."""


@dataclass(frozen=True)
class ScaleSpec:
    """Who owns the pod count: the stack's fixed count, or an HPA between its bounds. Decided once, by
    whoever builds the spec (settings/: autoscaling.enabled), and read everywhere from here."""

    replicas: int = 1
    """The fixed count; not used while `autoscaling` is set."""
    autoscaling: AutoscalingSpec | None = None
    """When set, an HPA owns the count: the Deployment starts at its minimum."""

    @property
    def initial(self) -> int:
        """How many pods the Deployment is created (and, without an HPA, kept) at."""
        return self.autoscaling.min_replicas if self.autoscaling else self.replicas

    @property
    def most(self) -> int:
        """The most pods there are outside a rollout."""
        return self.autoscaling.max_replicas if self.autoscaling else self.replicas


@dataclass(frozen=True)
class WorkloadSpec:
    """What runs: the config group `app` (its env and config file aside) and who owns the count."""

    image: str
    """Container image reference."""
    version: str
    """App version, as a label on the pods."""
    port: int
    """Port the app listens on inside the container (named "http")."""
    resources: ResourcesSpec
    """Requests and limits."""
    scale: ScaleSpec = field(default_factory=ScaleSpec)
    """The pod count, fixed or autoscaled."""
    image_pull_policy: str = "IfNotPresent"
    """Always for a mutable tag pulled from a registry; IfNotPresent for a digest or a side-loaded image."""
    security: SecuritySpec = field(default_factory=SecuritySpec)
    """Security context of the pod and container."""
    termination: TerminationSpec = field(default_factory=TerminationSpec)
    """Graceful stop: a preStop pause, then SIGTERM, within the grace period."""
    rollout: RolloutSpec = field(default_factory=RolloutSpec)
    """Rolling update pace, and when a rollout that does not finish counts as failed."""
    disruption_budget: bool = True
    """Create a PodDisruptionBudget."""
    spread_zones: bool = False
    """Also spread pods across zones (topology.kubernetes.io/zone), softly."""


@dataclass(frozen=True)
class WorkloadArgs:
    """Inputs of Workload."""

    name: str
    """Deployment name (and the container's app name in logs)."""
    namespace: pulumi.Input[str]
    """Namespace of the Deployment."""
    spec: WorkloadSpec
    """What runs, and how it scales, rolls and stops."""
    selector_labels: dict[str, str]
    """Labels that select the pods. Immutable on a Deployment, so never derived from versions."""
    config_map_name: pulumi.Input[str]
    """ConfigMap exposed as environment variables (envFrom)."""
    secret_name: pulumi.Input[str]
    """Secret exposed as environment variables (envFrom)."""
    config_file_key: str
    """ConfigMap key mounted as CONFIG_MOUNT_PATH/CONFIG_FILE_NAME."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the Deployment (and, with the selector labels and the version, its pods)."""
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
    service_account: k8s.core.v1.ServiceAccount
    """The pods' ServiceAccount."""
    disruption_budget: k8s.policy.v1.PodDisruptionBudget | None
    """The PodDisruptionBudget, if enabled."""
    autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler | None
    """The HorizontalPodAutoscaler, if enabled."""

    def __init__(self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:Workload", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # The app never calls the Kubernetes API: no token in the pod means none to steal.
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, namespace=args.namespace, labels=args.labels),
            automount_service_account_token=False,
            opts=child,
        )
        self.deployment = _deployment(f"{name}-deployment", args, self.service_account, self)
        self.deployment_name = self.deployment.metadata.name

        self.disruption_budget = None
        if args.spec.disruption_budget:
            # maxUnavailable 1 (not minAvailable): a drain may always evict one pod, so a
            # single-replica stack never blocks it, while larger ones keep the rest serving.
            # AlwaysAllow: a pod that is not ready anyway must not hold up a node drain.
            self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, namespace=args.namespace, labels=args.labels),
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    max_unavailable=1,
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels=args.selector_labels),
                    unhealthy_pod_eviction_policy="AlwaysAllow",
                ),
                opts=child,
            )

        self.autoscaler = None
        if args.spec.scale.autoscaling is not None:
            self.autoscaler = _autoscaler(f"{name}-hpa", args, args.spec.scale.autoscaling, self.deployment_name, child)
        self.register_outputs(
            {
                "deployment_name": self.deployment_name,
                "deployment": self.deployment,
                "service_account": self.service_account,
                "disruption_budget": self.disruption_budget,
                "autoscaler": self.autoscaler,
            }
        )


def _http_probe(path: str, initial_delay: int, period: int, failures: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=PORT_NAME),
        initial_delay_seconds=initial_delay,
        period_seconds=period,
        failure_threshold=failures,
    )


def _container(args: WorkloadArgs) -> k8s.core.v1.ContainerArgs:
    spec = args.spec
    res, sec = spec.resources, spec.security
    return k8s.core.v1.ContainerArgs(
        name=CONTAINER_NAME,
        image=spec.image,
        ports=[k8s.core.v1.ContainerPortArgs(name=PORT_NAME, container_port=spec.port)],
        env_from=[
            k8s.core.v1.EnvFromSourceArgs(config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=args.config_map_name)),
            k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=args.secret_name)),
        ],
        image_pull_policy=spec.image_pull_policy,
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests=resource_quantities(res.cpu_request, res.memory_request, res.ephemeral_storage_request),
            limits=resource_quantities(res.cpu_limit, res.memory_limit, res.ephemeral_storage_limit),
        ),
        # The startup probe gives a slow start up to 5 + 12 x 5 s before liveness may kill the pod;
        # readiness keeps a pod out of the Service until /ready answers.
        startup_probe=_http_probe(args.health_path, 5, 5, 12),
        liveness_probe=_http_probe(args.health_path, 15, 30, 3),
        readiness_probe=_http_probe(args.ready_path, 5, 10, 3),
        # The native sleep action (Kubernetes >= 1.30) needs no shell in the image.
        lifecycle=k8s.core.v1.LifecycleArgs(
            pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                sleep=k8s.core.v1.SleepActionArgs(seconds=spec.termination.pre_stop_sleep_seconds)
            )
        )
        if spec.termination.pre_stop_sleep_seconds > 0
        else None,
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="config", mount_path=CONFIG_MOUNT_PATH, read_only=True),
            k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
        ],
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            read_only_root_filesystem=sec.read_only_root_filesystem,
            run_as_non_root=True,
            run_as_user=sec.run_as_user,
            run_as_group=sec.run_as_user,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
    )


def _pod_spec(args: WorkloadArgs, service_account_name: pulumi.Input[str]) -> k8s.core.v1.PodSpecArgs:
    sec = args.spec.security
    # Soft spreading (ScheduleAnyway): losing one node or zone loses few pods, yet a one-node
    # cluster still schedules them all.
    spread_keys = ["kubernetes.io/hostname"] + (["topology.kubernetes.io/zone"] if args.spec.spread_zones else [])
    return k8s.core.v1.PodSpecArgs(
        service_account_name=service_account_name,
        automount_service_account_token=False,
        security_context=k8s.core.v1.PodSecurityContextArgs(
            run_as_non_root=True,
            run_as_user=sec.run_as_user,
            run_as_group=sec.run_as_user,
            fs_group=sec.run_as_user,
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        topology_spread_constraints=[
            k8s.core.v1.TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key=key,
                when_unsatisfiable="ScheduleAnyway",
                label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=args.selector_labels),
            )
            for key in spread_keys
        ],
        termination_grace_period_seconds=args.spec.termination.grace_period_seconds,
        containers=[_container(args)],
        volumes=[
            k8s.core.v1.VolumeArgs(
                name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(medium="Memory", size_limit="64Mi")
            ),
            k8s.core.v1.VolumeArgs(
                name="config",
                config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                    name=args.config_map_name,
                    items=[k8s.core.v1.KeyToPathArgs(key=args.config_file_key, path=CONFIG_FILE_NAME)],
                ),
            ),
        ],
    )


def _deployment(
    name: str, args: WorkloadArgs, service_account: k8s.core.v1.ServiceAccount, parent: pulumi.Resource
) -> k8s.apps.v1.Deployment:
    # With an HPA, the Deployment is created at the HPA's minimum, so `pulumi up` returns with that
    # many pods Ready (created without a count it would start with 1 and the HPA would only raise it
    # later). From then on the count is the HPA's: ignoreChanges makes the provider apply the live
    # value while Pulumi still co-owns the field (turning the HPA on for a running Deployment keeps
    # its pods) and leave the field out once the HPA has taken it over by scaling, so neither undoes
    # the other. Without an HPA the stack's count is applied again on every `up`.
    scale, rollout, version = args.spec.scale, args.spec.rollout, args.spec.version
    return k8s.apps.v1.Deployment(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=args.name,
            namespace=args.namespace,
            labels={**args.labels, **args.selector_labels},
            # The program is the source of truth for every field it declares: a hand edit (kubectl
            # scale, set env, edit) is drift that the next `pulumi up` puts back, instead of failing
            # with a server-side apply conflict against the editor's field manager. Fields the
            # program does not declare (the HPA's replica count) are never touched.
            annotations={"pulumi.com/patchForce": "true"},
        ),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=scale.initial,
            progress_deadline_seconds=rollout.progress_deadline_seconds,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=args.selector_labels),
            # maxUnavailable 0: a new pod must be Ready before an old one goes, so capacity never
            # drops during a rollout (the quota is checked to hold the surge pod).
            strategy=k8s.apps.v1.DeploymentStrategyArgs(
                type="RollingUpdate",
                rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                    max_surge=rollout.max_surge, max_unavailable=rollout.max_unavailable
                ),
            ),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels={
                        **args.labels,
                        "version": version,
                        "app.kubernetes.io/version": version,
                        **args.selector_labels,
                    },
                    annotations=dict(args.pod_annotations) or None,
                ),
                spec=_pod_spec(args, service_account.metadata.name),
            ),
        ),
        opts=pulumi.ResourceOptions(
            parent=parent,
            ignore_changes=["spec.replicas"] if scale.autoscaling else None,
            # A release that never becomes Ready fails `up` when this ends, with the reason
            # the Deployment gave at its progress deadline (which passed before).
            custom_timeouts=pulumi.CustomTimeouts(
                create=f"{rollout.timeout_seconds}s", update=f"{rollout.timeout_seconds}s"
            ),
        ),
    )


def _autoscaler(
    name: str,
    args: WorkloadArgs,
    scaling: AutoscalingSpec,
    deployment_name: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> k8s.autoscaling.v2.HorizontalPodAutoscaler:
    return k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, namespace=args.namespace, labels=args.labels),
        spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                api_version="apps/v1", kind="Deployment", name=deployment_name
            ),
            min_replicas=scaling.min_replicas,
            max_replicas=scaling.max_replicas,
            metrics=[
                k8s.autoscaling.v2.MetricSpecArgs(
                    type="Resource",
                    resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                        name="cpu",
                        target=k8s.autoscaling.v2.MetricTargetArgs(
                            type="Utilization", average_utilization=scaling.cpu_utilization
                        ),
                    ),
                )
            ],
        ),
        opts=opts,
    )
