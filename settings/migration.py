"""Where keys of older layouts went: each old key a stack still sets is refused with its new path.

Two generations: the flat layout before the config was grouped (RENAMED, up to release 4a17c1c),
and keys moved inside a group since (MOVED), such as ingress-nginx's, which the program no longer
installs.
"""

from __future__ import annotations

from collections.abc import Sequence

from settings.problems import PROJECT, Problems


def check_renamed(p: Problems, keys: Sequence[str]) -> None:
    """Keys of the flat layout before the config was grouped: say where each went."""
    for key in keys:
        new = RENAMED.get(key)
        if new is not None:
            p.note(f"{PROJECT}:{key} was renamed: set `pulumi config set --path {new} ...` instead (README)")
        else:
            p.note(f"{PROJECT}:{key} is not a key of this project (README: Configuration)")


# Where each key of the flat layout (up to release 4a17c1c) went. `namespace` is a group now: its
# old plain value is refused as not an object, with this hint (settings/__init__.py).
RENAMED: dict[str, str] = {
    "namespace": "namespace.name",
    "clusterTarget": "cluster.target",
    "kubeContext": "cluster.context",
    "kindClusterName": "cluster.kind.name",
    "kindWorkers": "cluster.kind.workers",
    "kindCreateCluster": "cluster.kind.create",
    "kindNodeImage": "cluster.kind.nodeImage",
    "kindLoadImage": "cluster.kind.loadImage",
    "appSourceDir": "cluster.kind.appSourceDir",
    "installIngressNginx": "cluster.ingressController.install",
    "ingressNginxVersion": "cluster.ingressController.image",
    "tlsMode": "tls.mode",
    "tlsSecretName": "tls.secretName",
    "certManagerClusterIssuer": "tls.certManager.clusterIssuer",
    "certManagerInstall": "tls.certManager.install",
    "certManagerVersion": "tls.certManager.version",
    "acmeEmail": "tls.certManager.acmeEmail",
    "appName": "app.name",
    "image": "app.image",
    "imagePullPolicy": "app.imagePullPolicy",
    "appVersion": "app.version",
    "replicas": "app.replicas",
    "containerPort": "app.port",
    "cpuRequest": "app.resources.requests.cpu",
    "memoryRequest": "app.resources.requests.memory",
    "ephemeralStorageRequest": "app.resources.requests.ephemeral-storage",
    "cpuLimit": "app.resources.limits.cpu",
    "memoryLimit": "app.resources.limits.memory",
    "ephemeralStorageLimit": "app.resources.limits.ephemeral-storage",
    "maxSurge": "app.rollout.maxSurge",
    "maxUnavailable": "app.rollout.maxUnavailable",
    "progressDeadlineSeconds": "app.rollout.progressDeadlineSeconds",
    "deploymentTimeoutSeconds": "app.rollout.timeoutSeconds",
    "preStopSleepSeconds": "app.termination.preStopSleepSeconds",
    "gracefulTimeoutSeconds": "app.termination.gracefulTimeoutSeconds",
    "terminationGracePeriodSeconds": "app.termination.gracePeriodSeconds",
    "quotaRequestsCpu": "namespace.quota.requests.cpu",
    "quotaRequestsMemory": "namespace.quota.requests.memory",
    "quotaLimitsCpu": "namespace.quota.limits.cpu",
    "quotaLimitsMemory": "namespace.quota.limits.memory",
    "quotaPods": "namespace.quota.pods",
    "quotaServices": "namespace.quota.services",
    "quotaPersistentVolumeClaims": "namespace.quota.persistentVolumeClaims",
    "limitDefaultCpu": "namespace.limits.default.cpu",
    "limitDefaultMemory": "namespace.limits.default.memory",
    "limitDefaultEphemeralStorage": "namespace.limits.default.ephemeral-storage",
    "limitDefaultRequestCpu": "namespace.limits.defaultRequest.cpu",
    "limitDefaultRequestMemory": "namespace.limits.defaultRequest.memory",
    "limitDefaultRequestEphemeralStorage": "namespace.limits.defaultRequest.ephemeral-storage",
    "flaskEnv": "app.env.FLASK_ENV",
    "flaskApp": "app.env.FLASK_APP",
    "logLevel": "app.env.LOG_LEVEL",
    "workers": "app.env.WORKERS",
    "extraConfig": "app.env.<NAME>",
    "appConfigFile": "app.configFile",
    "databaseUser": "database.user",
    "databaseHost": "database.host",
    "databasePort": "database.port",
    "databaseName": "database.name",
    "serviceType": "service.type",
    "serviceAnnotations": "service.annotations.<key>",
    "ingressEnabled": "ingress.enabled",
    "ingressClassName": "ingress.className",
    "host": "ingress.host",
    "ingressAnnotations": "ingress.annotations.<key>",
    "podSecurityEnforce": "namespace.podSecurity.enforce",
    "podSecurityVersion": "namespace.podSecurity.version",
    "runAsUser": "app.security.runAsUser",
    "readOnlyRootFilesystem": "app.security.readOnlyRootFilesystem",
    "podDisruptionBudget": "app.disruptionBudget",
    "autoscalingEnabled": "autoscaling.enabled",
    "autoscalingMinReplicas": "autoscaling.minReplicas",
    "autoscalingMaxReplicas": "autoscaling.maxReplicas",
    "autoscalingCpuUtilization": "autoscaling.cpuUtilization",
    "networkPolicyEnabled": "namespace.networkPolicy.enabled",
    "ingressControllerNamespace": "namespace.networkPolicy.ingressControllerNamespace",
    "egressAllowed": "namespace.networkPolicy.egress",
    "topologySpreadZones": "app.spreadZones",
    "rejectLatestTag": "app.rejectLatestTag",
}


# Keys inside a group that moved (the path of the old key or object -> where it went, and why).
# ingress-nginx is retired (SIG Network, announced 2025-11-11; no fixes after March 2026): the
# program installs Traefik, which serves the same IngressClass and annotations (README: Migrating).
MOVED: dict[str, str] = {
    "cluster.ingressNginx": "cluster.ingressController (Traefik; ingress-nginx is retired)",
    "cluster.ingressNginx.install": "cluster.ingressController.install (Traefik; ingress-nginx is retired)",
    "cluster.ingressNginx.version": "cluster.ingressController.image (traefik:v<version>; ingress-nginx is retired)",
}
