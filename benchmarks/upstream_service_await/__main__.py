"""A Deployment of one pod and a ClusterIP Service in front of it: nothing else.

`pulumi up` of this program takes about 10 s longer than the pod takes to become Ready, because
pulumi-kubernetes' Service await (pkg/await/service.go) waits 10 s after the first Endpoints event
before it calls the Service ready. With `pulumi config set skipServiceAwait true` the Service gets
`pulumi.com/skipAwait: "true"` and `up` ends once the Deployment is Available.
"""

import pulumi
import pulumi_kubernetes as k8s

skip = pulumi.Config().get_bool("skipServiceAwait") or False
labels = {"app": "repro"}
namespace = k8s.core.v1.Namespace("repro", metadata=k8s.meta.v1.ObjectMetaArgs(name="repro"))
k8s.apps.v1.Deployment(
    "web",
    metadata=k8s.meta.v1.ObjectMetaArgs(name="web", namespace=namespace.metadata.name),
    spec=k8s.apps.v1.DeploymentSpecArgs(
        replicas=1,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
        template=k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
            spec=k8s.core.v1.PodSpecArgs(containers=[k8s.core.v1.ContainerArgs(name="web", image="nginx:1.27")]),
        ),
    ),
)
k8s.core.v1.Service(
    "web",
    metadata=k8s.meta.v1.ObjectMetaArgs(
        name="web",
        namespace=namespace.metadata.name,
        annotations={"pulumi.com/skipAwait": "true"} if skip else None,
    ),
    spec=k8s.core.v1.ServiceSpecArgs(selector=labels, ports=[k8s.core.v1.ServicePortArgs(port=80, target_port=80)]),
)
