"""AppNamespace: the namespace the app lives in, with its ResourceQuota and LimitRange.

The quota caps what the whole namespace may request, so one app cannot starve a shared cluster; the
LimitRange gives containers that declare no resources sane defaults instead of "unbounded".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX, resource_quantities


@dataclass(frozen=True)
class QuotaSpec:
    """`spec.hard` of the ResourceQuota: quantities as Kubernetes writes them."""

    requests_cpu: str
    """Sum of CPU requests of all pods in the namespace."""
    requests_memory: str
    """Sum of memory requests of all pods."""
    limits_cpu: str
    """Sum of CPU limits of all pods."""
    limits_memory: str
    """Sum of memory limits of all pods."""
    pods: int
    """Number of pods (running or pending)."""
    services: int
    """Number of Services."""
    persistent_volume_claims: int
    """Number of PersistentVolumeClaims."""


@dataclass(frozen=True)
class LimitRangeSpec:
    """Defaults for containers that declare no requests or limits."""

    default_cpu: str
    """CPU limit given to a container without one."""
    default_memory: str
    """Memory limit given to a container without one."""
    default_request_cpu: str
    """CPU request given to a container without one."""
    default_request_memory: str
    """Memory request given to a container without one."""
    default_ephemeral_storage: str | None = None
    """Ephemeral-storage limit given to a container without one (its logs count against it)."""
    default_request_ephemeral_storage: str | None = None
    """Ephemeral-storage request given to a container without one."""


@dataclass(frozen=True)
class NamespaceSpec:
    """The app's namespace: the config group `namespace`, with its quota and LimitRange derived by settings/."""

    name: str
    """The namespace's name (an RFC 1123 label, checked by settings/)."""
    quota: QuotaSpec
    """The namespace's ResourceQuota."""
    limit_range: LimitRangeSpec
    """The namespace's LimitRange for containers."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the Namespace object only (e.g. Pod Security Admission)."""


@dataclass(frozen=True)
class AppNamespaceArgs:
    """Inputs of AppNamespace."""

    spec: NamespaceSpec
    """The namespace, its quota and LimitRange."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the namespace and the objects in it."""


class AppNamespace(pulumi.ComponentResource):
    """A Namespace with a ResourceQuota and a LimitRange."""

    namespace_name: pulumi.Output[str]
    """The namespace's name, known once the Namespace exists (so dependents wait for it)."""
    namespace: k8s.core.v1.Namespace
    """The Namespace object."""
    quota: k8s.core.v1.ResourceQuota
    """The namespace's ResourceQuota."""
    limit_range: k8s.core.v1.LimitRange
    """The namespace's LimitRange."""
    default_service_account: k8s.core.v1.ServiceAccountPatch
    """The namespace's `default` ServiceAccount, with its token no longer mounted."""

    def __init__(self, name: str, args: AppNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:AppNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.spec
        self.namespace = k8s.core.v1.Namespace(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=spec.name,
                labels={**args.labels, **spec.labels},
            ),
            # The object this component exists for takes the component's name; until 4a17c1c it was
            # "<name>-namespace", and the alias keeps that live object.
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{name}-namespace")]),
        )
        # Children reference the name through the Namespace's output, so they are created after it
        # and deleted before it.
        self.namespace_name = self.namespace.metadata.name
        q = spec.quota
        self.quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{spec.name}-quota", namespace=self.namespace_name, labels=args.labels
            ),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                hard={
                    "requests.cpu": q.requests_cpu,
                    "requests.memory": q.requests_memory,
                    "limits.cpu": q.limits_cpu,
                    "limits.memory": q.limits_memory,
                    "pods": str(q.pods),
                    "services": str(q.services),
                    "persistentvolumeclaims": str(q.persistent_volume_claims),
                }
            ),
            opts=child,
        )
        lr = spec.limit_range
        self.limit_range = k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{spec.name}-limits", namespace=self.namespace_name, labels=args.labels
            ),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default=resource_quantities(lr.default_cpu, lr.default_memory, lr.default_ephemeral_storage),
                        default_request=resource_quantities(
                            lr.default_request_cpu, lr.default_request_memory, lr.default_request_ephemeral_storage
                        ),
                    )
                ]
            ),
            opts=child,
        )
        # Kubernetes gives every namespace a `default` ServiceAccount whose token is mounted into any
        # pod that names no other account. The app has its own account without a token; this turns the
        # default one's off too, so a pod someone else starts here gets no API credentials either.
        # A patch (server-side apply of just this field), because the namespace controller owns the
        # object: `pulumi destroy` gives the field back instead of deleting the account.
        self.default_service_account = k8s.core.v1.ServiceAccountPatch(
            f"{name}-default-sa",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name="default", namespace=self.namespace_name),
            automount_service_account_token=False,
            opts=child,
        )
        self.register_outputs(
            {
                "namespace_name": self.namespace_name,
                "namespace": self.namespace,
                "quota": self.quota,
                "limit_range": self.limit_range,
                "default_service_account": self.default_service_account,
            }
        )
