"""IngressController: Traefik, the cluster's front door, serving both Ingress and Gateway API.

ingress-nginx, the article's controller, was retired by Kubernetes SIG Network (announced
2025-11-11; no releases or security fixes after March 2026). Traefik replaces it without touching
the app's Ingress: its `kubernetesIngressNGINX` provider claims IngressClass `nginx` (controller
`k8s.io/ingress-nginx`) and reads most of the `nginx.ingress.kubernetes.io/*` annotations the
program sets. Its `kubernetesGateway` provider serves a GatewayClass for the Gateway API route, and
its `kubernetesCRD` provider serves the Middleware that carries the Gateway route's body limit
(Traefik's own way: Gateway API has no standard filter for it).

Request bodies: Traefik 3.6's ingress-nginx provider ignores `proxy-body-size` (3.7 reads it, but
cannot be built from the module proxy: scripts/versions.env), so the controller itself caps every
request body on its entry points (`max_body_bytes`, the article's 5m by default) with a buffering
middleware from a file of its own; a Gateway route may set a lower limit of its own.

What this component owns: the CRDs (Gateway API's standard channel and Traefik's), the
controller's namespace, ServiceAccount and cluster RBAC, the IngressClass and the GatewayClass,
the Deployment, and either host ports on the `ingress-ready=true` node (Kind: the node's ports
80/443 are the host's) or a LoadBalancer Service (a cloud).

Terminating pods: Traefik's Gateway provider keeps only `ready` endpoints, and the app's preStop
pause covers the second or two until it has reloaded. Its ingress-nginx provider (3.6) keeps a
terminating pod as a target until the pod's container exits; the program's Ingress therefore routes
to the Service's ClusterIP (`service-upstream`, a default of settings/, read by ingress-nginx as
well), where kube-proxy leaves terminating pods out (tests/kind measures the rollouts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX, resource_quantities
from flask_k8s_components.workload import ResourcesSpec

# The container listens on the ports clients use (a Gateway's listener ports must equal Traefik's
# entryPoint ports), as a non-root user: the pod's sysctl lets it bind ports below 1024.
HTTP_PORT, HTTPS_PORT, PING_PORT = 80, 443, 9000
GATEWAY_CONTROLLER = "traefik.io/gateway-controller"
# The official image of the pinned release (TRAEFIK_VERSION in scripts/versions.env; a unit test
# keeps the two equal). A tag, not a digest: the official image is multi-architecture.
TRAEFIK_VERSION = "v3.6.12"
TRAEFIK_IMAGE = f"traefik:{TRAEFIK_VERSION}"
# Gateway API's standard channel at the release that Traefik is built against (its go.mod).
GATEWAY_API_VERSION = "v1.4.0"
GATEWAY_API_CRDS_URL = (
    f"https://github.com/kubernetes-sigs/gateway-api/releases/download/{GATEWAY_API_VERSION}/standard-install.yaml"
)
TRAEFIK_CRDS_URL = (
    f"https://raw.githubusercontent.com/traefik/traefik/{TRAEFIK_VERSION}/docs/content/reference/"
    "dynamic-configuration/kubernetes-crd-definition-v1.yml"
)
NGINX_CONTROLLER = "k8s.io/ingress-nginx"
RUN_AS = 65532
# The file-provider middleware every entry point applies, and the file it is in.
BODY_LIMIT = "body-limit"
DYNAMIC_FILE = "dynamic.yaml"  # JSON, which is YAML: Traefik reads .yaml and .toml files
# The program's ingress-nginx up to release a95f4cf, which a stack moving over has in its state:
# __main__.py's IngressNginx("ingress-nginx"), whose ConfigFile `ingress-nginx-manifest` named each
# object of the manifest `<ConfigFile>:<object>`.
INGRESS_NGINX = "ingress-nginx"


@dataclass(frozen=True)
class CrdSources:
    """Where the CRDs are read from: release URLs, or files (the same objects) on this machine."""

    gateway_api: str
    """Gateway API standard channel: standard-install.yaml of the release (URL or path)."""
    traefik: str
    """Traefik's CRDs (kubernetes-crd-definition-v1.yml of the release; URL or path)."""

    @staticmethod
    def releases() -> CrdSources:
        """The releases' own files (Gateway API's pinned standard channel, the pinned Traefik's)."""
        return CrdSources(gateway_api=GATEWAY_API_CRDS_URL, traefik=TRAEFIK_CRDS_URL)

    @staticmethod
    def folder(path: str) -> CrdSources:
        """The same files, as scripts/toolchain/crds.sh writes them into `path` (no GitHub at hand)."""
        return CrdSources(
            gateway_api=f"{path}/gateway-api-{GATEWAY_API_VERSION}-standard-install.yaml",
            traefik=f"{path}/traefik-{TRAEFIK_VERSION}-crds.yaml",
        )


@dataclass(frozen=True)
class IngressControllerArgs:
    """Inputs of IngressController."""

    crds: CrdSources | None
    """CRDs to install; None when the cluster has them already (installed by its owner)."""
    image: str = TRAEFIK_IMAGE
    """Traefik's image: the official traefik:v<version>, or one built and loaded locally."""
    namespace: str = "traefik"
    """Namespace created for the controller."""
    replicas: int = 1
    """Controller pods (host ports allow one per node)."""
    exposure: Literal["hostPorts", "LoadBalancer"] = "hostPorts"
    """hostPorts: ports 80/443 of the `ingress-ready=true` node (Kind maps them to the host's);
    LoadBalancer: a Service of that type in front of the pods (a cloud's load balancer)."""
    service_annotations: dict[str, str] = field(default_factory=dict)
    """Annotations of the LoadBalancer Service (cloud load balancer settings)."""
    ingress_class_name: str = "nginx"
    """IngressClass it serves (the article's Ingress names `nginx`)."""
    gateway_class_name: str = "traefik"
    """GatewayClass it serves."""
    status_address: str = "localhost"
    """hostPorts: the address published in Ingress and Gateway status (Kind: localhost)."""
    max_body_bytes: int | None = 5 * 2**20
    """Largest request body on any route (413 above); None: no cap (Traefik's default)."""
    image_pull_policy: str = "IfNotPresent"
    """A pinned version tag, or an image loaded into the nodes."""
    resources: ResourcesSpec = field(
        default_factory=lambda: ResourcesSpec(
            cpu_request="100m",
            memory_request="64Mi",
            cpu_limit="1",
            memory_limit="256Mi",
            ephemeral_storage_request="64Mi",
            ephemeral_storage_limit="512Mi",
        )
    )
    """Requests and limits of the controller's container."""


class IngressController(pulumi.ComponentResource):
    """Traefik serving IngressClass `nginx` and a GatewayClass, ready before anything routes through it."""

    namespace_name: pulumi.Output[str]
    """The controller's namespace (the app's NetworkPolicy admits it)."""
    ingress_class_name: str
    """The IngressClass it serves."""
    gateway_class_name: str
    """The GatewayClass it serves."""
    crds: list[k8s.yaml.v2.ConfigFile]
    """The CRDs installed (none when the cluster has them)."""
    deployment: k8s.apps.v1.Deployment
    """Traefik's Deployment."""
    service: k8s.core.v1.Service | None
    """The LoadBalancer Service, with exposure LoadBalancer."""
    ingress_class: k8s.networking.v1.IngressClass
    """The IngressClass."""
    gateway_class: k8s.apiextensions.CustomResource
    """The GatewayClass."""
    dynamic_config: k8s.core.v1.ConfigMap | None
    """Traefik's file-provider configuration (the body limit's middleware), if any."""

    def __init__(self, name: str, args: IngressControllerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:IngressController", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {
            "app.kubernetes.io/name": "traefik",
            "app.kubernetes.io/instance": name,
            "app.kubernetes.io/component": "ingress-controller",
            "app.kubernetes.io/managed-by": "pulumi",
        }
        selector = {k: labels[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}
        self.crds = []
        if args.crds is not None:
            self.crds = [
                k8s.yaml.v2.ConfigFile(f"{name}-gateway-api-crds", file=args.crds.gateway_api, opts=child),
                k8s.yaml.v2.ConfigFile(f"{name}-traefik-crds", file=args.crds.traefik, opts=child),
            ]
        host_ports = args.exposure == "hostPorts"
        # Host ports are the one thing Pod Security's baseline refuses; the container itself stays
        # within `restricted`, which audit and warn keep reporting against.
        level = "privileged" if host_ports else "restricted"
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.namespace,
                labels={
                    **labels,
                    "pod-security.kubernetes.io/enforce": level,
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            ),
            opts=child,
        )
        self.namespace_name = namespace.metadata.name
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="traefik", namespace=self.namespace_name, labels=labels),
            opts=child,
        )
        rbac = self._rbac(name, args.namespace, labels, account)
        self.service = self._service(name, args, labels, selector) if not host_ports else None
        publish = self._status_flags(args, name)
        self.ingress_class = k8s.networking.v1.IngressClass(
            f"{name}-ingress-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.ingress_class_name, labels=labels),
            spec=k8s.networking.v1.IngressClassSpecArgs(controller=NGINX_CONTROLLER),
            # A stack that ran ingress-nginx has this very object (same name, cluster-scoped) in its
            # state, as the manifest's. Without the alias `up` creates it anew, and the API server
            # refuses: its labels are the other resource's fields (a server-side apply conflict).
            # With it, the two are one resource, updated in place, and not deleted with the rest.
            opts=pulumi.ResourceOptions(
                parent=self,
                aliases=[_ingress_nginx_object(args.ingress_class_name, "networking.k8s.io/v1:IngressClass")],
            ),
        )
        self.dynamic_config = self._dynamic_config(name, args, labels) if args.max_body_bytes else None
        self.deployment = self._deployment(
            name, args, labels, selector, publish, account, [*self.crds, *rbac], self.dynamic_config
        )
        self.gateway_class = k8s.apiextensions.CustomResource(
            f"{name}-gateway-class",
            api_version="gateway.networking.k8s.io/v1",
            kind="GatewayClass",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.gateway_class_name,
                labels=labels,
                # Done when the controller has accepted the class, not when the API server stored it.
                annotations={"pulumi.com/waitFor": "condition=Accepted", "pulumi.com/timeoutSeconds": "180"},
            ),
            spec={"controllerName": GATEWAY_CONTROLLER},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self.crds, self.deployment]),
        )
        if args.replicas > 1:
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="traefik", namespace=self.namespace_name, labels=labels),
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector)
                ),
                opts=child,
            )
        self.ingress_class_name = args.ingress_class_name
        self.gateway_class_name = args.gateway_class_name
        self.register_outputs(
            {
                "namespace_name": self.namespace_name,
                "ingress_class_name": self.ingress_class_name,
                "gateway_class_name": self.gateway_class_name,
                "crds": self.crds,
                "deployment": self.deployment,
                "service": self.service,
                "ingress_class": self.ingress_class,
                "gateway_class": self.gateway_class,
                "dynamic_config": self.dynamic_config,
            }
        )

    def _dynamic_config(self, name: str, args: IngressControllerArgs, labels: dict[str, str]) -> k8s.core.v1.ConfigMap:
        """A file for Traefik's file provider: the body limit every entry point applies."""
        config = {"http": {"middlewares": {BODY_LIMIT: {"buffering": {"maxRequestBodyBytes": args.max_body_bytes}}}}}
        return k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(namespace=self.namespace_name, labels=labels),
            data={DYNAMIC_FILE: json.dumps(config, indent=2)},
            # A new limit is a new ConfigMap, and so a new pod: Traefik reads the file it started with.
            immutable=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _rbac(
        self, name: str, namespace: str, labels: dict[str, str], account: k8s.core.v1.ServiceAccount
    ) -> list[pulumi.Resource]:
        """What Traefik's three providers read and the statuses they write (Traefik's own RBAC files)."""
        read = ["get", "list", "watch"]
        gateway_kinds = [
            "gatewayclasses",
            "gateways",
            "httproutes",
            "grpcroutes",
            "referencegrants",
            "backendtlspolicies",
        ]
        rules = [
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=[""], resources=["services", "secrets", "configmaps", "namespaces", "nodes"], verbs=read
            ),
            k8s.rbac.v1.PolicyRuleArgs(api_groups=["discovery.k8s.io"], resources=["endpointslices"], verbs=read),
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=["networking.k8s.io"], resources=["ingresses", "ingressclasses"], verbs=read
            ),
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=["networking.k8s.io"], resources=["ingresses/status"], verbs=["update", "patch"]
            ),
            k8s.rbac.v1.PolicyRuleArgs(api_groups=["gateway.networking.k8s.io"], resources=gateway_kinds, verbs=read),
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=["gateway.networking.k8s.io"],
                resources=[f"{kind}/status" for kind in gateway_kinds],
                verbs=["update"],
            ),
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=["traefik.io"],
                resources=[
                    "middlewares",
                    "middlewaretcps",
                    "ingressroutes",
                    "traefikservices",
                    "ingressroutetcps",
                    "ingressrouteudps",
                    "tlsoptions",
                    "tlsstores",
                    "serverstransports",
                    "serverstransporttcps",
                ],
                verbs=read,
            ),
        ]
        # Cluster-scoped names: the namespace keeps two controllers of one cluster apart.
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{namespace}-traefik", labels=labels),
            rules=rules,
            opts=pulumi.ResourceOptions(parent=self),
        )
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-role-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{namespace}-traefik", labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role.metadata.name
            ),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=account.metadata.name, namespace=namespace)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return [role, binding]

    def _service(
        self, name: str, args: IngressControllerArgs, labels: dict[str, str], selector: dict[str, str]
    ) -> k8s.core.v1.Service:
        return k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="traefik",
                namespace=self.namespace_name,
                labels=labels,
                annotations=args.service_annotations or None,
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="LoadBalancer",
                selector=selector,
                # Clients' addresses reach Traefik (and its logs) unchanged.
                external_traffic_policy="Local",
                ports=[
                    k8s.core.v1.ServicePortArgs(name="web", port=HTTP_PORT, target_port="web"),
                    k8s.core.v1.ServicePortArgs(name="websecure", port=HTTPS_PORT, target_port="websecure"),
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    @staticmethod
    def _status_flags(args: IngressControllerArgs, name: str) -> list[str]:
        """What Traefik publishes as the address of Ingresses and Gateways: the node's (Kind:
        localhost, where the host's ports lead) or the load balancer's, from its Service."""
        if args.exposure == "hostPorts":
            return [
                f"--providers.kubernetesIngressNGINX.publishStatusAddress={args.status_address}",
                f"--providers.kubernetesGateway.statusAddress.hostname={args.status_address}",
            ]
        return [
            f"--providers.kubernetesIngressNGINX.publishService={args.namespace}/traefik",
            "--providers.kubernetesGateway.statusAddress.service.name=traefik",
            f"--providers.kubernetesGateway.statusAddress.service.namespace={args.namespace}",
        ]

    def _deployment(
        self,
        name: str,
        args: IngressControllerArgs,
        labels: dict[str, str],
        selector: dict[str, str],
        publish: list[str],
        account: k8s.core.v1.ServiceAccount,
        after: list[pulumi.Resource],
        dynamic_config: k8s.core.v1.ConfigMap | None,
    ) -> k8s.apps.v1.Deployment:
        host_ports = args.exposure == "hostPorts"
        limit = (
            [
                f"--providers.file.filename=/etc/traefik/dynamic/{DYNAMIC_FILE}",
                f"--entryPoints.web.http.middlewares={BODY_LIMIT}@file",
                f"--entryPoints.websecure.http.middlewares={BODY_LIMIT}@file",
            ]
            if dynamic_config is not None
            else []
        )
        flags = [
            f"--entryPoints.web.address=:{HTTP_PORT}",
            f"--entryPoints.websecure.address=:{HTTPS_PORT}",
            "--entryPoints.websecure.http.tls=true",
            f"--entryPoints.traefik.address=:{PING_PORT}",
            "--ping=true",
            "--providers.kubernetesIngressNGINX=true",
            f"--providers.kubernetesIngressNGINX.ingressClass={args.ingress_class_name}",
            "--providers.kubernetesGateway=true",
            "--providers.kubernetesCRD=true",
            *publish,
            *limit,
            "--log.level=INFO",
            # No calls home: the controller talks to the API server and to the app, nothing else.
            "--global.checkNewVersion=false",
            "--global.sendAnonymousUsage=false",
        ]
        ping = k8s.core.v1.HTTPGetActionArgs(path="/ping", port=PING_PORT)
        container = k8s.core.v1.ContainerArgs(
            name="traefik",
            image=args.image,
            image_pull_policy=args.image_pull_policy,
            args=flags,
            ports=[
                k8s.core.v1.ContainerPortArgs(
                    name="web", container_port=HTTP_PORT, host_port=HTTP_PORT if host_ports else None
                ),
                k8s.core.v1.ContainerPortArgs(
                    name="websecure", container_port=HTTPS_PORT, host_port=HTTPS_PORT if host_ports else None
                ),
                k8s.core.v1.ContainerPortArgs(name="ping", container_port=PING_PORT),
            ],
            # Ready when it answers /ping; alive while its port accepts connections (a liveness check as
            # strict as readiness would restart a controller that is only busy).
            readiness_probe=k8s.core.v1.ProbeArgs(http_get=ping, period_seconds=2, failure_threshold=2),
            liveness_probe=k8s.core.v1.ProbeArgs(
                tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=PING_PORT), period_seconds=10, failure_threshold=3
            ),
            resources=k8s.core.v1.ResourceRequirementsArgs(
                requests=resource_quantities(
                    args.resources.cpu_request, args.resources.memory_request, args.resources.ephemeral_storage_request
                ),
                # Bodies above 1 MiB are buffered in /tmp (the body cap's middleware): disk, not memory.
                limits=resource_quantities(
                    args.resources.cpu_limit, args.resources.memory_limit, args.resources.ephemeral_storage_limit
                ),
            ),
            security_context=k8s.core.v1.SecurityContextArgs(
                allow_privilege_escalation=False,
                read_only_root_filesystem=True,
                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            ),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                *(
                    [k8s.core.v1.VolumeMountArgs(name="dynamic", mount_path="/etc/traefik/dynamic", read_only=True)]
                    if dynamic_config is not None
                    else []
                ),
            ],
        )
        pod = k8s.core.v1.PodSpecArgs(
            service_account_name=account.metadata.name,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True,
                run_as_user=RUN_AS,
                run_as_group=RUN_AS,
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                # A safe sysctl (allowed by every Pod Security level): ports 80/443 without root or
                # capabilities, in the pod's own network namespace only.
                sysctls=[k8s.core.v1.SysctlArgs(name="net.ipv4.ip_unprivileged_port_start", value="0")],
            ),
            containers=[container],
            volumes=[
                # Traefik buffers request bodies above 1 MiB to disk (the body limit's middleware).
                k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()),
                *(
                    [
                        k8s.core.v1.VolumeArgs(
                            name="dynamic",
                            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=dynamic_config.metadata.name),
                        )
                    ]
                    if dynamic_config is not None
                    else []
                ),
            ],
            node_selector={"ingress-ready": "true"} if host_ports else None,
            # Replicas on different nodes where there are enough (soft: a smaller cluster still runs them).
            affinity=k8s.core.v1.AffinityArgs(
                pod_anti_affinity=k8s.core.v1.PodAntiAffinityArgs(
                    preferred_during_scheduling_ignored_during_execution=[
                        k8s.core.v1.WeightedPodAffinityTermArgs(
                            weight=100,
                            pod_affinity_term=k8s.core.v1.PodAffinityTermArgs(
                                topology_key="kubernetes.io/hostname",
                                label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                            ),
                        )
                    ]
                )
            )
            if args.replicas > 1
            else None,
            tolerations=[
                k8s.core.v1.TolerationArgs(
                    key="node-role.kubernetes.io/control-plane", operator="Exists", effect="NoSchedule"
                )
            ]
            if host_ports
            else None,
        )
        return k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="traefik", namespace=self.namespace_name, labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                # Host ports leave no room for a second pod on the node during an update.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate")
                if host_ports
                else k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_surge=1, max_unavailable=0),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels), spec=pod),
            ),
            # Its providers watch the CRDs' kinds and need their RBAC from the start. Ready within
            # seconds when it can run at all: a pod that cannot be scheduled fails `up` in minutes.
            # ingress-nginx's controller (the manifest's, in a stack that ran it) holds the node's
            # ports 80/443, and Pulumi deletes what a program no longer declares only at the end of
            # `up`: this pod could not be scheduled until then, and `up` would fail first. As its
            # replacement, deleted before this is created, the old one is gone in time; and with host
            # ports any replacement of this Deployment must go the same way.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*after, account],
                aliases=[_ingress_nginx_object("ingress-nginx/ingress-nginx-controller", "apps/v1:Deployment")],
                delete_before_replace=host_ports,
                custom_timeouts=pulumi.CustomTimeouts(create="5m", update="5m"),
            ),
        )


def _ingress_nginx_object(object_name: str, kind: str) -> pulumi.Output[str]:
    """The URN of an object of ingress-nginx's manifest (`namespace/name`, or `name` when cluster
    scoped; `kind` as `<group/version>:<Kind>`) in a stack of the program up to release a95f4cf:
    a child of the manifest's ConfigFile, itself a child of the IngressNginx component."""
    component = pulumi.create_urn(INGRESS_NGINX, f"{TYPE_PREFIX}:IngressNginx")
    manifest = pulumi.create_urn(f"{INGRESS_NGINX}-manifest", "kubernetes:yaml/v2:ConfigFile", parent=component)
    return pulumi.create_urn(f"{INGRESS_NGINX}-manifest:{object_name}", f"kubernetes:{kind}", parent=manifest)
