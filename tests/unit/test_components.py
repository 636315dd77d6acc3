"""Each component built on its own under mocks: what it registers, how it names and parents it."""

from __future__ import annotations

import json
import runpy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from flask_k8s_components.app_config import APP_CONFIG_KEY, AppConfig, AppConfigArgs, ConfigSpec
from flask_k8s_components.flask_app import FlaskApp, FlaskAppArgs
from flask_k8s_components.gateway import AppGatewayRoute, AppGatewayRouteArgs
from flask_k8s_components.ingress import AppIngress, AppIngressArgs
from flask_k8s_components.ingress_controller import CrdSources, IngressController, IngressControllerArgs
from flask_k8s_components.kind_cluster import KindCluster, KindClusterArgs
from flask_k8s_components.kind_image import ImageSource, KindImage, KindImageArgs, source_hash
from flask_k8s_components.namespace import AppNamespace, AppNamespaceArgs, LimitRangeSpec, NamespaceSpec, QuotaSpec
from flask_k8s_components.network_policy import AppNetworkPolicy, AppNetworkPolicyArgs, EgressRule, NetworkPolicySpec
from flask_k8s_components.route import Backend, GatewaySpec, IngressSpec, RouteSpec, SharedGateway
from flask_k8s_components.secrets import AppSecrets, AppSecretsArgs, DatabaseSpec, SecretsSpec
from flask_k8s_components.service import AppService, AppServiceArgs, ServiceSpec
from flask_k8s_components.tls import (
    CertManager,
    CertManagerArgs,
    RouteTls,
    SelfSignedCertificate,
    SelfSignedCertificateArgs,
)
from flask_k8s_components.workload import (
    AutoscalingSpec,
    ResourcesSpec,
    RolloutSpec,
    ScaleSpec,
    TerminationSpec,
    Workload,
    WorkloadArgs,
    WorkloadSpec,
)

from devtools.harness import ROOT, Deployment, Registered, resolve, run

QUOTA = QuotaSpec("4", "8Gi", "8", "16Gi", 20, 10, 5)
LIMITS = LimitRangeSpec("500m", "256Mi", "100m", "128Mi")
RESOURCES = ResourcesSpec("100m", "128Mi", "500m", "256Mi")
DATABASE = DatabaseSpec(user="flask", host="postgres", port=5432, name="flask")
NAMESPACE = NamespaceSpec(name="flask-app", quota=QUOTA, limit_range=LIMITS)


def build(factory: Any) -> tuple[Deployment, dict[str, Any]]:
    """Runs `factory()` under mocks; returns the registrations and the component(s) it made."""
    made: dict[str, Any] = {}
    deployment = run(lambda: made.update(component=factory()))
    return deployment, made


def assert_children_named_and_parented(deployment: Deployment, component_type: str, name: str) -> None:
    component = deployment.one(component_type, name)
    children = [r for r in deployment.resources if r.parent == component.urn]
    assert children, f"{component.urn} has no children"
    # The object a component exists for takes the component's own name; any other child says its
    # role once, after it.
    for child in children:
        assert child.name == name or child.name.startswith(f"{name}-"), f"{child.urn} is not named {name}[-<role>]"
        role = child.name.removeprefix(f"{name}-")
        assert role == name or role.split("-")[0] != name.split("-")[-1], f"{child.urn} says its role twice"
    own = [c.urn for c in children if c.name == name]
    assert len(own) <= 1, f"{component.urn} has several children named like itself: {own}"


def flask_app_args(**overrides: Any) -> FlaskAppArgs:
    values: dict[str, Any] = {
        "name": "flask-app",
        "namespace": NAMESPACE,
        "workload": WorkloadSpec(
            image="flask-app:1.0", version="1.0", port=5000, resources=RESOURCES, scale=ScaleSpec(replicas=3)
        ),
        "config": ConfigSpec(
            env={"FLASK_ENV": "production", "LOG_LEVEL": "info"}, config_file="[database]\npool_size = 10\n"
        ),
        "secrets": SecretsSpec(database=DATABASE),
        "route": RouteSpec(host="flask-app.local", tls=RouteTls("secret", "flask-app-tls")),
    }
    values.update(overrides)
    return FlaskAppArgs(**values)


# --- AppNamespace -----------------------------------------------------------------------------------------


def test_namespace_quota_and_limit_range_carry_the_articles_values() -> None:
    d, _ = build(lambda: AppNamespace("ns", AppNamespaceArgs(spec=NAMESPACE)))
    assert d.one("kubernetes:core/v1:Namespace").get("metadata.name") == "flask-app"
    quota = d.one("kubernetes:core/v1:ResourceQuota")
    assert quota.get("metadata.namespace") == "flask-app"
    assert quota.get("spec.hard") == {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.cpu": "8",
        "limits.memory": "16Gi",
        "pods": "20",
        "services": "10",
        "persistentvolumeclaims": "5",
    }
    (limit,) = d.one("kubernetes:core/v1:LimitRange").get("spec.limits")
    assert limit == {
        "type": "Container",
        "default": {"cpu": "500m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
    }
    assert_children_named_and_parented(d, "flask-k8s:components:AppNamespace", "ns")


def test_namespace_limit_range_defaults_ephemeral_storage_when_given() -> None:
    limits = LimitRangeSpec("500m", "256Mi", "100m", "128Mi", "256Mi", "64Mi")
    d, _ = build(lambda: AppNamespace("ns", AppNamespaceArgs(spec=replace(NAMESPACE, limit_range=limits))))
    (limit,) = d.one("kubernetes:core/v1:LimitRange").get("spec.limits")
    assert limit["default"] == {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "256Mi"}
    assert limit["defaultRequest"] == {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"}


def test_namespace_default_service_account_mounts_no_token() -> None:
    d, _ = build(lambda: AppNamespace("ns", AppNamespaceArgs(spec=NAMESPACE)))
    patch = d.one("kubernetes:core/v1:ServiceAccountPatch", "ns-default-sa")
    # A patch of the one field: the account itself belongs to Kubernetes' namespace controller.
    assert patch.inputs == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "flask-app"},
        "automountServiceAccountToken": False,
    }
    assert d.one("kubernetes:core/v1:Namespace").urn in patch.dependencies


def test_namespace_children_wait_for_the_namespace() -> None:
    d, _ = build(lambda: AppNamespace("ns", AppNamespaceArgs(spec=NAMESPACE)))
    namespace = d.one("kubernetes:core/v1:Namespace")
    for child in ("kubernetes:core/v1:ResourceQuota", "kubernetes:core/v1:LimitRange"):
        assert namespace.urn in d.one(child).dependencies


def test_namespace_only_labels_go_on_the_namespace() -> None:
    args = AppNamespaceArgs(spec=replace(NAMESPACE, labels={"psa": "x"}), labels={"a": "1"})
    d, made = build(lambda: AppNamespace("ns", args))
    assert d.one("kubernetes:core/v1:Namespace").get("metadata.labels") == {"a": "1", "psa": "x"}
    assert d.one("kubernetes:core/v1:ResourceQuota").get("metadata.labels") == {"a": "1"}
    assert resolve(made["component"].namespace_name) == ("flask-app", False)


# --- AppConfig ----------------------------------------------------------------------------------------------


def test_config_map_is_immutable_and_auto_named() -> None:
    spec = ConfigSpec(env={"FLASK_ENV": "production", "WORKERS": "4"}, config_file="[x]\ny = 1\n")
    args = AppConfigArgs(namespace="ns", spec=spec)
    d, made = build(lambda: AppConfig("cfg", args))
    cm = d.one("kubernetes:core/v1:ConfigMap", "cfg")
    assert cm.get("immutable") is True
    # No fixed name: a change makes a new ConfigMap under a new name, which rolls the Deployment.
    assert "name" not in cm.get("metadata")
    assert cm.get("data") == {"FLASK_ENV": "production", "WORKERS": "4", APP_CONFIG_KEY: "[x]\ny = 1\n"}
    assert resolve(made["component"].config_map_name) == ("cfg-abcd1234", False)
    assert_children_named_and_parented(d, "flask-k8s:components:AppConfig", "cfg")


def test_config_file_key_is_reserved() -> None:
    with pytest.raises(ValueError, match="APP_CONFIG"):
        build(
            lambda: AppConfig(
                "cfg", AppConfigArgs(namespace="ns", spec=ConfigSpec(env={APP_CONFIG_KEY: "x"}, config_file=""))
            )
        )


# --- AppSecrets ----------------------------------------------------------------------------------------------


def test_secrets_are_generated_and_every_value_is_secret() -> None:
    d, made = build(lambda: AppSecrets("sec", AppSecretsArgs(namespace="ns", spec=SecretsSpec(database=DATABASE))))
    passwords = {r.name: r.inputs for r in d.of_type("random:index/randomPassword:RandomPassword")}
    assert set(passwords) == {"sec-secret-key", "sec-jwt-key", "sec-db-password"}
    assert passwords["sec-secret-key"]["length"] == 64
    assert passwords["sec-jwt-key"]["length"] == 64
    assert passwords["sec-db-password"]["special"] is False

    secret = d.one("kubernetes:core/v1:Secret")
    keys = set(secret.get("stringData"))
    assert keys == {"SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_PASSWORD", "DATABASE_URL"}
    for key in keys:
        assert secret.is_secret(f"stringData.{key}"), f"stringData.{key} was sent in plain text"
    assert secret.get("immutable") is True
    assert "name" not in secret.get("metadata")

    component = made["component"]
    for output in ("secret_key", "jwt_secret_key", "database_password", "database_url"):
        assert resolve(getattr(component, output))[1], f"{output} is not secret"
    assert resolve(component.database_url) == ("postgresql://flask:mock-sec-db-password@postgres:5432/flask", True)
    assert_children_named_and_parented(d, "flask-k8s:components:AppSecrets", "sec")


def test_without_a_database_the_url_is_sqlite_and_no_password_exists() -> None:
    # Never a URL to a database host that nothing runs: the article's SQLite file, in the writable /tmp.
    d, made = build(lambda: AppSecrets("sec", AppSecretsArgs(namespace="ns")))
    names = {r.name for r in d.of_type("random:index/randomPassword:RandomPassword")}
    assert names == {"sec-secret-key", "sec-jwt-key"}
    assert set(d.one("kubernetes:core/v1:Secret").get("stringData")) == {"SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL"}
    assert made["component"].database_password is None
    assert resolve(made["component"].database_url) == ("sqlite:////tmp/app.db", True)


def test_configured_secrets_replace_generated_ones_and_are_url_quoted() -> None:
    def make() -> AppSecrets:
        password = pulumi.Output.secret("p@ss/word")
        return AppSecrets(
            "sec", AppSecretsArgs(namespace="ns", spec=SecretsSpec(database=DATABASE, database_password=password))
        )

    d, made = build(make)
    names = {r.name for r in d.of_type("random:index/randomPassword:RandomPassword")}
    assert names == {"sec-secret-key", "sec-jwt-key"}
    assert resolve(made["component"].database_url) == ("postgresql://flask:p%40ss%2Fword@postgres:5432/flask", True)


# --- Workload ------------------------------------------------------------------------------------------------


def workload_args(spec: WorkloadSpec | None = None, **overrides: Any) -> WorkloadArgs:
    values: dict[str, Any] = {
        "name": "flask-app",
        "namespace": "flask-app",
        "spec": spec or workload_spec(),
        "selector_labels": {"app": "flask-app"},
        "config_map_name": "cfg-1",
        "secret_name": "sec-1",
        "config_file_key": APP_CONFIG_KEY,
        "labels": {"team": "platform"},
    }
    values.update(overrides)
    return WorkloadArgs(**values)


def workload_spec(**overrides: Any) -> WorkloadSpec:
    values: dict[str, Any] = {
        "image": "flask-app:1.0",
        "version": "1.0",
        "port": 5000,
        "resources": RESOURCES,
        "scale": ScaleSpec(replicas=3),
    }
    values.update(overrides)
    return WorkloadSpec(**values)


def test_deployment_has_the_articles_rollout_probes_and_resources() -> None:
    d, _ = build(lambda: Workload("web", workload_args()))
    dep = d.one("kubernetes:apps/v1:Deployment", "web-deployment")
    assert dep.get("metadata.name") == "flask-app"
    assert dep.get("metadata.namespace") == "flask-app"
    assert dep.get("spec.replicas") == 3
    assert dep.get("spec.strategy") == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    assert dep.get("spec.selector.matchLabels") == {"app": "flask-app"}
    template_labels = dep.get("spec.template.metadata.labels")
    # The version labels come from the spec's version.
    assert template_labels == {
        "team": "platform",
        "version": "1.0",
        "app.kubernetes.io/version": "1.0",
        "app": "flask-app",
    }

    (container,) = dep.get("spec.template.spec.containers")
    assert container["name"] == "flask"
    assert container["image"] == "flask-app:1.0"
    assert container["ports"] == [{"name": "http", "containerPort": 5000}]
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }

    def probe(path: str, delay: int, period: int, failures: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": "http"},
            "initialDelaySeconds": delay,
            "periodSeconds": period,
            "failureThreshold": failures,
        }

    assert container["livenessProbe"] == probe("/health", 15, 30, 3)
    assert container["readinessProbe"] == probe("/ready", 5, 10, 3)
    assert container["startupProbe"] == probe("/health", 5, 5, 12)
    assert container["envFrom"] == [{"configMapRef": {"name": "cfg-1"}}, {"secretRef": {"name": "sec-1"}}]
    assert container["volumeMounts"] == [
        {"name": "config", "mountPath": "/etc/app/config", "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes = {v["name"]: v for v in dep.get("spec.template.spec.volumes")}
    assert volumes["config"] == {
        "name": "config",
        "configMap": {"name": "cfg-1", "items": [{"key": APP_CONFIG_KEY, "path": "app.ini"}]},
    }
    assert_children_named_and_parented(d, "flask-k8s:components:Workload", "web")


def test_pods_stop_gracefully_within_their_grace_period() -> None:
    """A preStop pause keeps a terminating pod serving until endpoints and the ingress let it go;
    the grace period must cover the pause plus gunicorn's graceful_timeout."""
    d, _ = build(lambda: Workload("web", workload_args()))
    pod = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec")
    (container,) = pod["containers"]
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    graceful_timeout = runpy.run_path(str(ROOT / "app" / "gunicorn.conf.py"))["graceful_timeout"]
    assert pod["terminationGracePeriodSeconds"] == 30 > 5 + graceful_timeout

    d, _ = build(lambda: Workload("web", workload_args(workload_spec(termination=TerminationSpec(0, 25)))))
    pod = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec")
    assert "lifecycle" not in pod["containers"][0]
    assert pod["terminationGracePeriodSeconds"] == 25


def test_container_requests_and_limits_ephemeral_storage_when_given() -> None:
    resources = ResourcesSpec("100m", "128Mi", "500m", "256Mi", "64Mi", "256Mi")
    d, _ = build(lambda: Workload("web", workload_args(workload_spec(resources=resources))))
    (container,) = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec.containers")
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "256Mi"},
    }


@pytest.mark.parametrize("policy", ["Always", "IfNotPresent"])
def test_container_pull_policy_is_the_args(policy: str) -> None:
    d, _ = build(lambda: Workload("web", workload_args(workload_spec(image_pull_policy=policy))))
    (container,) = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec.containers")
    assert container["imagePullPolicy"] == policy


def test_a_stuck_rollout_fails_within_its_deadline_and_timeout() -> None:
    d, _ = build(
        lambda: Workload(
            "web",
            workload_args(workload_spec(rollout=RolloutSpec(progress_deadline_seconds=60, timeout_seconds=180))),
        )
    )
    dep = d.one("kubernetes:apps/v1:Deployment")
    assert dep.get("spec.progressDeadlineSeconds") == 60
    assert dep.custom_timeouts == {"create": "180s", "update": "180s"}


def test_the_program_wins_over_hand_edits_of_the_deployment() -> None:
    # Without force, `pulumi up` after `kubectl scale` or `kubectl set env` fails with a server-side
    # apply conflict instead of restoring the declared value.
    d, _ = build(lambda: Workload("web", workload_args()))
    assert d.one("kubernetes:apps/v1:Deployment").get("metadata.annotations") == {"pulumi.com/patchForce": "true"}


def test_pods_pass_pod_security_restricted() -> None:
    d, _ = build(lambda: Workload("web", workload_args()))
    pod = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec")
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert tmp == {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}


def test_pods_run_under_their_own_service_account_without_a_token() -> None:
    d, _ = build(lambda: Workload("web", workload_args()))
    sa = d.one("kubernetes:core/v1:ServiceAccount", "web-sa")
    assert sa.get("metadata.name") == "flask-app" and sa.get("automountServiceAccountToken") is False
    pod = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec")
    assert pod["serviceAccountName"] == "flask-app" and pod["automountServiceAccountToken"] is False


def test_disruption_budget_never_blocks_a_single_replica() -> None:
    d, _ = build(lambda: Workload("web", workload_args(workload_spec(scale=ScaleSpec(replicas=1)))))
    pdb = d.one("kubernetes:policy/v1:PodDisruptionBudget", "web-pdb")
    assert pdb.get("spec") == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app": "flask-app"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    d, _ = build(lambda: Workload("web", workload_args(workload_spec(disruption_budget=False))))
    assert d.of_type("kubernetes:policy/v1:PodDisruptionBudget") == []


def test_topology_spread_is_soft_across_nodes_and_optionally_zones() -> None:
    d, _ = build(lambda: Workload("web", workload_args()))
    (node,) = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec.topologySpreadConstraints")
    assert node == {
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app": "flask-app"}},
    }
    d, _ = build(lambda: Workload("web", workload_args(workload_spec(spread_zones=True))))
    keys = [
        c["topologyKey"]
        for c in d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec.topologySpreadConstraints")
    ]
    assert keys == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    assert all(
        c["whenUnsatisfiable"] == "ScheduleAnyway"
        for c in d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec.topologySpreadConstraints")
    )


def test_autoscaler_owns_the_replica_count() -> None:
    scaling = AutoscalingSpec(min_replicas=2, max_replicas=6, cpu_utilization=70)
    d, _ = build(
        lambda: Workload("web", workload_args(workload_spec(scale=ScaleSpec(replicas=3, autoscaling=scaling))))
    )
    hpa = d.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "web-hpa")
    assert hpa.get("spec.scaleTargetRef") == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "flask-app"}
    assert (hpa.get("spec.minReplicas"), hpa.get("spec.maxReplicas")) == (2, 6)
    assert hpa.get("spec.metrics") == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    ]
    # Created at the HPA's minimum, so `up` returns with that many pods Ready; afterwards the count is
    # the HPA's: the provider applies the live value, or nothing once the HPA has scaled.
    dep = d.one("kubernetes:apps/v1:Deployment")
    assert dep.get("spec.replicas") == 2
    assert dep.ignore_changes == ["spec.replicas"]


def test_without_autoscaler_replicas_are_fixed() -> None:
    d, _ = build(lambda: Workload("web", workload_args()))
    assert d.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler") == []
    dep = d.one("kubernetes:apps/v1:Deployment")
    assert dep.get("spec.replicas") == 3
    # The stack's count is applied again on every `up` (a hand-scaled Deployment is drift).
    assert dep.ignore_changes == []


# --- AppNetworkPolicy -----------------------------------------------------------------------------------------


NETPOL = NetworkPolicySpec(ingress_namespaces=["ingress-nginx"], egress=[EgressRule(cidr="10.0.12.0/24", port=5432)])


def netpol_args(**overrides: Any) -> AppNetworkPolicyArgs:
    values: dict[str, Any] = {
        "name": "flask-app",
        "namespace": "flask-app",
        "selector_labels": {"app": "flask-app"},
        "port": 5000,
        "spec": NETPOL,
    }
    values.update(overrides)
    return AppNetworkPolicyArgs(**values)


def test_network_policy_denies_by_default_and_admits_the_ingress_controller() -> None:
    d, _ = build(lambda: AppNetworkPolicy("np", netpol_args()))
    deny = d.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-default-deny")
    assert deny.get("spec") == {"podSelector": {}, "policyTypes": ["Ingress"]}
    app = d.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-app")
    assert app.get("spec.podSelector") == {"matchLabels": {"app": "flask-app"}}
    assert app.get("spec.policyTypes") == ["Ingress", "Egress"]
    assert app.get("spec.ingress") == [
        {
            "ports": [{"protocol": "TCP", "port": 5000}],
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
        }
    ]
    assert app.get("spec.egress") == [
        {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
        {"to": [{"ipBlock": {"cidr": "10.0.12.0/24"}}], "ports": [{"protocol": "TCP", "port": 5432}]},
    ]
    assert_children_named_and_parented(d, "flask-k8s:components:AppNetworkPolicy", "np")


def test_network_policy_behind_a_load_balancer_admits_any_source_on_the_port_only() -> None:
    d, _ = build(lambda: AppNetworkPolicy("np", netpol_args(allow_from_anywhere=True)))
    assert d.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-app").get("spec.ingress") == [
        {"ports": [{"protocol": "TCP", "port": 5000}]}
    ]


def test_network_policy_without_namespaces_admits_nothing() -> None:
    # An ingress rule with an empty `from` would admit everyone: there must be no rule at all.
    d, _ = build(lambda: AppNetworkPolicy("np", netpol_args(spec=replace(NETPOL, ingress_namespaces=[]))))
    app = d.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-app")
    assert app.get("spec.ingress") == []
    assert "Ingress" in app.get("spec.policyTypes")


def test_pod_annotations_go_on_the_template_only() -> None:
    d, _ = build(lambda: Workload("web", workload_args(pod_annotations={"hash": "abc"})))
    dep = d.one("kubernetes:apps/v1:Deployment")
    assert dep.get("spec.template.metadata.annotations") == {"hash": "abc"}
    # The Deployment's own annotations only say how Pulumi applies it.
    assert dep.get("metadata.annotations") == {"pulumi.com/patchForce": "true"}


# --- AppService ----------------------------------------------------------------------------------------------


def test_service_maps_port_80_to_the_container_port() -> None:
    args = AppServiceArgs(
        name="flask-app-service", namespace="flask-app", selector_labels={"app": "flask-app"}, port=5000
    )
    d, made = build(lambda: AppService("svc", args))
    svc = d.one("kubernetes:core/v1:Service", "svc")
    assert svc.get("metadata.name") == "flask-app-service"
    assert svc.get("spec.type") == "ClusterIP"
    assert svc.get("spec.selector") == {"app": "flask-app"}
    assert svc.get("spec.ports") == [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 5000}]
    # Not awaited by the provider: the Deployment's await proves the pods Ready (see FlaskApp).
    assert svc.get("metadata.annotations") == {"pulumi.com/skipAwait": "true"}
    assert made["component"].port == 80
    assert_children_named_and_parented(d, "flask-k8s:components:AppService", "svc")


def test_load_balancer_service_carries_its_annotations() -> None:
    nlb = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
    args = AppServiceArgs(
        name="s",
        namespace="n",
        selector_labels={"app": "a"},
        port=5000,
        spec=ServiceSpec(type="LoadBalancer", annotations=nlb),
    )
    d, _ = build(lambda: AppService("svc", args))
    svc = d.one("kubernetes:core/v1:Service")
    assert svc.get("spec.type") == "LoadBalancer"
    # Only the stack's annotations: the provider's await stays on, as it is what waits for the address.
    assert svc.get("metadata.annotations") == nlb


def test_node_port_service_is_not_awaited_either() -> None:
    args = AppServiceArgs(
        name="s", namespace="n", selector_labels={"app": "a"}, port=5000, spec=ServiceSpec(type="NodePort")
    )
    d, _ = build(lambda: AppService("svc", args))
    assert d.one("kubernetes:core/v1:Service").get("metadata.annotations") == {"pulumi.com/skipAwait": "true"}


# --- AppIngress ----------------------------------------------------------------------------------------------


def ingress_args(**route: Any) -> AppIngressArgs:
    """AppIngress's args; `route`: fields of its RouteSpec."""
    values: dict[str, Any] = {
        "host": "flask-app.local",
        "tls": RouteTls("secret", "flask-app-tls"),
        "ingress": IngressSpec(annotations={"nginx.ingress.kubernetes.io/proxy-body-size": "5m"}),
    }
    values.update(route)
    return AppIngressArgs(
        name="flask-app-ingress",
        namespace="flask-app",
        route=RouteSpec(**values),
        backend=Backend(service_name="flask-app-service", port=80),
    )


def test_ingress_routes_the_host_to_the_service_with_tls() -> None:
    d, made = build(lambda: AppIngress("web", ingress_args()))
    ing = d.one("kubernetes:networking.k8s.io/v1:Ingress", "web")
    assert ing.get("metadata.name") == "flask-app-ingress"
    assert ing.get("metadata.annotations") == {"nginx.ingress.kubernetes.io/proxy-body-size": "5m"}
    assert ing.get("spec.ingressClassName") == "nginx"
    assert ing.get("spec.tls") == [{"hosts": ["flask-app.local"], "secretName": "flask-app-tls"}]
    (rule,) = ing.get("spec.rules")
    assert rule["host"] == "flask-app.local"
    assert rule["http"]["paths"] == [
        {
            "path": "/",
            "pathType": "Prefix",
            "backend": {"service": {"name": "flask-app-service", "port": {"number": 80}}},
        }
    ]
    # In secret mode the TLS Secret is someone else's: nothing is made for it.
    assert d.of_type("kubernetes:core/v1:Secret") == []
    assert made["component"].tls_secret is None
    assert made["component"].ca_certificate is None
    assert_children_named_and_parented(d, "flask-k8s:components:AppIngress", "web")


def test_ingress_self_signed_makes_its_certificate_and_secret_for_its_host() -> None:
    d, made = build(lambda: AppIngress("web", ingress_args(tls=RouteTls("self-signed", "flask-app-tls"))))
    secret = d.one("kubernetes:core/v1:Secret", "web-tls")
    assert secret.get("type") == "kubernetes.io/tls"
    assert secret.get("metadata.name") == "flask-app-tls"
    assert secret.is_secret("stringData.tls.key")
    assert secret.urn in d.one("kubernetes:networking.k8s.io/v1:Ingress").dependencies
    # The host is given once: the certificate is for the route's own host.
    assert d.one("tls:index/certRequest:CertRequest").get("dnsNames") == ["flask-app.local"]
    assert d.one("flask-k8s:components:SelfSignedCertificate").name == "web-cert"
    assert resolve(made["component"].ca_certificate)[0].startswith("-----BEGIN CERTIFICATE-----")
    assert_children_named_and_parented(d, "flask-k8s:components:AppIngress", "web")


def test_ingress_cert_manager_names_its_issuer_and_makes_no_secret() -> None:
    tls = RouteTls("cert-manager", "flask-app-tls", cluster_issuer="letsencrypt-prod")
    d, _ = build(lambda: AppIngress("web", ingress_args(tls=tls)))
    ing = d.one("kubernetes:networking.k8s.io/v1:Ingress")
    assert ing.get("metadata.annotations")["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert ing.get("spec.tls") == [{"hosts": ["flask-app.local"], "secretName": "flask-app-tls"}]
    assert d.of_type("kubernetes:core/v1:Secret") == []


def test_ingress_without_tls_has_no_tls_section() -> None:
    d, _ = build(lambda: AppIngress("web", ingress_args(tls=RouteTls())))
    assert "tls" not in d.one("kubernetes:networking.k8s.io/v1:Ingress").get("spec")


def test_route_tls_refuses_a_mode_without_what_it_needs() -> None:
    with pytest.raises(ValueError, match="needs a secret_name"):
        RouteTls("self-signed")
    with pytest.raises(ValueError, match="needs a cluster_issuer"):
        RouteTls("cert-manager", "flask-app-tls")


# --- AppGatewayRoute -----------------------------------------------------------------------------------------


def gateway_args(tls: RouteTls | None = None, **gateway: Any) -> AppGatewayRouteArgs:
    """AppGatewayRoute's args; `gateway`: fields of its GatewaySpec."""
    values: dict[str, Any] = {"max_body_bytes": 5 * 2**20}
    values.update(gateway)
    route = RouteSpec(
        host="flask-app.local",
        tls=RouteTls("self-signed", "flask-app-tls") if tls is None else tls,
        gateway=GatewaySpec(**values),
    )
    return AppGatewayRouteArgs(
        name="flask-app",
        namespace="flask-app",
        route=route,
        backend=Backend(service_name="flask-app-service", port=80),
    )


def test_gateway_route_makes_a_tls_gateway_a_route_and_an_https_redirect() -> None:
    d, made = build(lambda: AppGatewayRoute("web", gateway_args()))
    # The Gateway takes its component's own name (aliased from "web-gateway" before 3.0.0: the upgrade test).
    gateway = d.one("kubernetes:gateway.networking.k8s.io/v1:Gateway", "web")
    assert gateway.get("spec.gatewayClassName") == "traefik"
    listeners = {item["name"]: item for item in gateway.get("spec.listeners")}
    assert listeners["https"]["port"] == 443 and listeners["https"]["protocol"] == "HTTPS"
    assert listeners["https"]["tls"] == {
        "mode": "Terminate",
        "certificateRefs": [{"kind": "Secret", "name": "flask-app-tls"}],
    }
    assert listeners["http"]["port"] == 80 and listeners["http"]["protocol"] == "HTTP"
    assert {item["hostname"] for item in listeners.values()} == {"flask-app.local"}
    assert all(item["allowedRoutes"] == {"namespaces": {"from": "Same"}} for item in listeners.values())
    routes = {r.name: r for r in d.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")}
    route, redirect = routes["web-route"], routes["web-redirect"]
    (parent,) = route.get("spec.parentRefs")
    # The mocks name an object <logical name>-abcd1234, as the provider autonames it.
    assert parent["sectionName"] == "https" and parent["name"] == "web-abcd1234"
    (rule,) = route.get("spec.rules")
    assert rule["backendRefs"] == [{"name": "flask-app-service", "port": 80}]
    assert rule["filters"] == [
        {
            "type": "ExtensionRef",
            "extensionRef": {"group": "traefik.io", "kind": "Middleware", "name": "flask-app-body-limit"},
        }
    ]
    (redirect_parent,) = redirect.get("spec.parentRefs")
    assert redirect_parent["sectionName"] == "http"
    assert redirect.get("spec.rules") == [
        {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
    ]
    middleware = d.one("kubernetes:traefik.io/v1alpha1:Middleware")
    assert middleware.get("spec") == {"buffering": {"maxRequestBodyBytes": 5 * 2**20}}
    # Named by Pulumi, so that a new parent gets new objects and the old ones serve until it accepts them.
    assert "name" not in route.get("metadata") and "name" not in gateway.get("metadata")
    assert gateway.urn in route.dependencies and middleware.urn in route.dependencies
    # The TLS Secret is the route's (AppIngress's), made whichever API routes.
    assert d.of_type("kubernetes:core/v1:Secret") == []
    component = made["component"]
    assert resolve(component.url)[0] == "https://flask-app.local/"
    # No cluster access under mocks: nothing waited for.
    assert resolve(component.serving)[0] == "not checked"
    assert_children_named_and_parented(d, "flask-k8s:components:AppGatewayRoute", "web")


def test_gateway_route_on_a_shared_gateway_makes_only_its_route() -> None:
    shared = SharedGateway("platform", "gateways", "https")
    d, made = build(lambda: AppGatewayRoute("web", gateway_args(tls=RouteTls(), shared=shared, max_body_bytes=None)))
    assert d.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway") == []
    (route,) = d.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
    assert route.get("spec.parentRefs") == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "platform",
            "namespace": "gateways",
            "sectionName": "https",
        }
    ]
    assert "filters" not in route.get("spec.rules")[0]
    assert d.of_type("kubernetes:core/v1:Secret") == []
    assert resolve(made["component"].url)[0] == "https://flask-app.local/"


def test_gateway_route_refuses_its_own_tls_on_a_shared_gateway() -> None:
    with pytest.raises(ValueError, match="shared Gateway takes that Gateway's TLS"):
        gateway_args(shared=SharedGateway("platform", "gateways"))


def test_the_route_keeps_its_certificate_and_secret_whichever_api_routes() -> None:
    """AppIngress owns the TLS of both APIs: moving to Gateway API keeps the Secret and certificate
    (same logical names and parent), and the Gateway waits for that Secret."""
    tls = RouteTls("self-signed", "flask-app-tls")
    through_ingress, _ = build(lambda: AppIngress("web", ingress_args(tls=tls)))
    through_gateway, made = build(
        lambda: AppIngress("web", ingress_args(tls=tls, gateway=GatewaySpec(max_body_bytes=5 * 2**20)))
    )

    def tls_urns(d: Deployment) -> set[str]:
        return {r.urn for r in d.resources if r.type.startswith("tls:") or r.type == "kubernetes:core/v1:Secret"}

    assert tls_urns(through_ingress) == tls_urns(through_gateway) and len(tls_urns(through_gateway)) == 6
    assert through_gateway.of_type("kubernetes:networking.k8s.io/v1:Ingress") == []
    gateway = through_gateway.one("kubernetes:gateway.networking.k8s.io/v1:Gateway", "web-gateway")
    secret = through_gateway.one("kubernetes:core/v1:Secret", "web-tls")
    assert secret.urn in gateway.dependencies
    assert made["component"].gateway_route is not None and made["component"].ingress is None
    assert resolve(made["component"].url)[0] == "https://flask-app.local/"
    assert_children_named_and_parented(through_gateway, "flask-k8s:components:AppIngress", "web")


def test_gateway_route_cert_manager_annotates_the_gateway() -> None:
    tls = RouteTls("cert-manager", "flask-app-tls", cluster_issuer="letsencrypt-prod")
    d, _ = build(lambda: AppGatewayRoute("web", gateway_args(tls=tls, class_name="gke-l7-global-external-managed")))
    gateway = d.one("kubernetes:gateway.networking.k8s.io/v1:Gateway")
    assert gateway.get("metadata.annotations") == {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
    assert gateway.get("spec.gatewayClassName") == "gke-l7-global-external-managed"
    assert d.of_type("kubernetes:core/v1:Secret") == []


# --- IngressController ---------------------------------------------------------------------------------------


def test_ingress_controller_is_traefik_on_the_kind_node_ports_hardened() -> None:
    args = IngressControllerArgs(crds=CrdSources.folder("/crds"))
    d, made = build(lambda: IngressController("front", args))
    deployment = d.one("kubernetes:apps/v1:Deployment")
    spec = deployment.get("spec.template.spec")
    (container,) = spec["containers"]
    assert container["image"] == "traefik:v3.6.12"
    flags = container["args"]
    for flag in (
        "--providers.kubernetesIngressNGINX=true",
        "--providers.kubernetesIngressNGINX.ingressClass=nginx",
        "--providers.kubernetesGateway=true",
        "--providers.kubernetesCRD=true",
        "--providers.kubernetesIngressNGINX.publishStatusAddress=localhost",
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
    ):
        assert flag in flags, flag
    assert {(p["containerPort"], p.get("hostPort")) for p in container["ports"]} == {(80, 80), (443, 443), (9000, None)}
    assert spec["nodeSelector"] == {"ingress-ready": "true"}
    assert deployment.get("spec.strategy") == {"type": "Recreate"}
    # Hardened like the app: non-root, no capabilities, read-only root, seccomp, resources, readiness.
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["securityContext"]["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/ping", "port": 9000}
    assert set(container["resources"]) == {"requests", "limits"}
    namespace = d.one("kubernetes:core/v1:Namespace")
    assert namespace.get("metadata.labels")["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace.get("metadata.labels")["pod-security.kubernetes.io/warn"] == "restricted"
    ingress_class = d.one("kubernetes:networking.k8s.io/v1:IngressClass")
    assert ingress_class.get("metadata.name") == "nginx"
    assert ingress_class.get("spec.controller") == "k8s.io/ingress-nginx"
    gateway_class = d.one("kubernetes:gateway.networking.k8s.io/v1:GatewayClass")
    assert gateway_class.get("spec.controllerName") == "traefik.io/gateway-controller"
    assert gateway_class.get("metadata.annotations")["pulumi.com/waitFor"] == "condition=Accepted"
    files = sorted(c.get("file") for c in d.of_type("kubernetes:yaml/v2:ConfigFile"))
    assert files == ["/crds/gateway-api-v1.4.0-standard-install.yaml", "/crds/traefik-v3.6.12-crds.yaml"]
    for crds in d.of_type("kubernetes:yaml/v2:ConfigFile"):
        assert crds.urn in deployment.dependencies
    assert d.of_type("kubernetes:core/v1:Service") == []
    assert d.of_type("kubernetes:policy/v1:PodDisruptionBudget") == []
    # The body cap every entry point applies (Traefik 3.6's ingress-nginx provider ignores
    # proxy-body-size): a buffering middleware from a file of its own, mounted read-only.
    (config,) = d.of_type("kubernetes:core/v1:ConfigMap")
    assert json.loads(config.get("data")["dynamic.yaml"]) == {
        "http": {"middlewares": {"body-limit": {"buffering": {"maxRequestBodyBytes": 5 * 2**20}}}}
    }
    assert config.get("immutable") is True
    for entry_point in ("web", "websecure"):
        assert f"--entryPoints.{entry_point}.http.middlewares=body-limit@file" in flags
    assert "--providers.file.filename=/etc/traefik/dynamic/dynamic.yaml" in flags
    mount = next(m for m in container["volumeMounts"] if m["name"] == "dynamic")
    assert mount == {"name": "dynamic", "mountPath": "/etc/traefik/dynamic", "readOnly": True}
    assert resolve(made["component"].namespace_name)[0] == "traefik"
    assert_children_named_and_parented(d, "flask-k8s:components:IngressController", "front")


def test_ingress_controller_behind_a_load_balancer_is_restricted_and_rolls() -> None:
    args = IngressControllerArgs(crds=None, exposure="LoadBalancer", replicas=2)
    d, _ = build(lambda: IngressController("front", args))
    service = d.one("kubernetes:core/v1:Service")
    assert service.get("spec.type") == "LoadBalancer"
    container = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec.containers")[0]
    assert all("hostPort" not in p for p in container["ports"])
    assert "--providers.kubernetesIngressNGINX.publishService=traefik/traefik" in container["args"]
    assert d.one("kubernetes:apps/v1:Deployment").get("spec.strategy.type") == "RollingUpdate"
    labels = d.one("kubernetes:core/v1:Namespace").get("metadata.labels")
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert d.one("kubernetes:policy/v1:PodDisruptionBudget").get("spec.maxUnavailable") == 1
    assert d.of_type("kubernetes:yaml/v2:ConfigFile") == []


def test_ingress_controller_without_a_body_cap_has_no_file_provider() -> None:
    d, _ = build(lambda: IngressController("front", IngressControllerArgs(crds=None, max_body_bytes=None)))
    assert d.of_type("kubernetes:core/v1:ConfigMap") == []
    flags = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec.containers")[0]["args"]
    assert not [f for f in flags if "providers.file" in f or "middlewares" in f]


def test_crd_releases_are_the_pinned_ones() -> None:
    sources = CrdSources.releases()
    assert sources.gateway_api.endswith("/v1.4.0/standard-install.yaml")
    assert "/traefik/v3.6.12/" in sources.traefik


# --- FlaskApp ------------------------------------------------------------------------------------------------


def k8s_by_kind(d: Deployment) -> dict[str, list[Registered]]:
    found: dict[str, list[Registered]] = {}
    for r in d.kubernetes_objects():
        found.setdefault(r.type.rsplit(":", 1)[-1], []).append(r)
    return found


def test_flask_app_composes_the_articles_objects() -> None:
    d, made = build(lambda: FlaskApp("flask-app", flask_app_args()))
    objects = k8s_by_kind(d)
    assert sorted(objects) == [
        "ConfigMap",
        "Deployment",
        "Ingress",
        "LimitRange",
        "Namespace",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ResourceQuota",
        "Secret",
        "Service",
        "ServiceAccount",
        "ServiceAccountPatch",
    ]
    dep = d.one("kubernetes:apps/v1:Deployment")
    assert dep.get("metadata.name") == "flask-app"
    assert dep.get("metadata.labels")["app"] == "flask-app"
    svc = d.one("kubernetes:core/v1:Service")
    assert svc.get("metadata.name") == "flask-app-service"
    assert svc.get("spec.selector") == dep.get("spec.selector.matchLabels")
    # The selector must select the pods, and carry no version (selectors are immutable).
    assert dep.get("spec.selector.matchLabels").items() <= dep.get("spec.template.metadata.labels").items()
    assert not any("version" in k for k in dep.get("spec.selector.matchLabels"))
    for obj in d.kubernetes_objects():
        if obj.type != "kubernetes:core/v1:Namespace":
            assert obj.get("metadata.namespace") == "flask-app", obj.urn
        if obj.type.endswith("Patch"):
            continue  # one field of an object Kubernetes owns (the default ServiceAccount), no labels
        # The recommended labels on every object.
        labels = obj.get("metadata.labels")
        for key in ("name", "instance", "version", "part-of", "managed-by"):
            assert f"app.kubernetes.io/{key}" in labels, f"{obj.urn} lacks app.kubernetes.io/{key}"
    app = made["component"]
    assert resolve(app.url) == ("https://flask-app.local/", False)
    assert resolve(app.database_url)[1] is True


def test_flask_app_deployment_waits_for_quota_and_limit_range() -> None:
    d, _ = build(lambda: FlaskApp("flask-app", flask_app_args()))
    workload = d.one("flask-k8s:components:Workload")
    quota = d.one("kubernetes:core/v1:ResourceQuota")
    limits = d.one("kubernetes:core/v1:LimitRange")
    assert {quota.urn, limits.urn} <= set(workload.dependencies)


def test_flask_app_ingress_waits_for_the_ready_deployment() -> None:
    # The Service is not awaited (skipAwait), so the Deployment's await is what proves pods Ready:
    # the Ingress, and so the route to the app, comes after it.
    spec = RouteSpec(host="flask-app.local", tls=RouteTls("self-signed", "flask-app-tls"))
    d, _ = build(lambda: FlaskApp("flask-app", flask_app_args(route=spec)))
    assert d.one("kubernetes:core/v1:Service").get("metadata.annotations") == {"pulumi.com/skipAwait": "true"}
    ingress = d.one("kubernetes:networking.k8s.io/v1:Ingress")
    deployment = d.one("kubernetes:apps/v1:Deployment")
    assert deployment.urn in ingress.dependencies, ingress.urn
    # Its TLS Secret does not wait: it is written while the pods start.
    assert deployment.urn not in d.one("kubernetes:core/v1:Secret", "flask-app-ingress-tls").dependencies


def test_flask_app_deployment_reads_its_config_map_and_secret() -> None:
    d, _ = build(lambda: FlaskApp("flask-app", flask_app_args()))
    (container,) = d.one("kubernetes:apps/v1:Deployment").get("spec.template.spec.containers")
    # Both are auto-named (the mocks append -abcd1234 to the logical name, as the provider appends a suffix).
    assert container["envFrom"] == [
        {"configMapRef": {"name": "flask-app-config-abcd1234"}},
        {"secretRef": {"name": "flask-app-secrets-abcd1234"}},
    ]


def test_flask_app_without_ingress() -> None:
    d, made = build(lambda: FlaskApp("flask-app", flask_app_args(route=None)))
    assert d.of_type("kubernetes:networking.k8s.io/v1:Ingress") == []
    assert made["component"].url is None


def test_flask_app_without_a_service_creates_no_service_and_no_ingress() -> None:
    d, made = build(lambda: FlaskApp("worker", flask_app_args(service=None, route=None)))
    assert d.of_type("kubernetes:core/v1:Service") == []
    assert d.of_type("flask-k8s:components:AppService") == []
    assert d.of_type("kubernetes:networking.k8s.io/v1:Ingress") == []
    assert made["component"].service is None and made["component"].service_name is None
    assert len(d.of_type("kubernetes:apps/v1:Deployment")) == 1
    # Its NetworkPolicy still admits the ingress controller's namespace unless told otherwise.
    app_policy = d.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "worker-netpol-app")
    assert app_policy.get("spec.ingress")[0]["ports"] == [{"protocol": "TCP", "port": 5000}]


def test_flask_app_refuses_an_ingress_without_a_service_before_registering_anything() -> None:
    d = run(lambda: FlaskApp("worker", flask_app_args(service=None)), expect_error=ValueError)
    assert "a route needs a service" in str(d.error)
    assert d.resources == []


def test_flask_app_makes_one_route_only() -> None:
    # Two routes can no longer be asked for (FlaskAppArgs has one `route`, refused before 3.0.0 when
    # both were set): with Gateway API settings, the Ingress's go unused and no Ingress is made.
    both = RouteSpec(
        host="flask-app.local", ingress=IngressSpec(annotations={"a.example.com/x": "1"}), gateway=GatewaySpec()
    )
    d, made = build(lambda: FlaskApp("web", flask_app_args(route=both)))
    assert d.of_type("kubernetes:networking.k8s.io/v1:Ingress") == []
    assert len(d.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")) == 1
    assert made["component"].gateway_route is not None


def test_flask_app_serves_through_a_gateway_route_instead_of_an_ingress() -> None:
    spec = RouteSpec(
        host="flask-app.local",
        tls=RouteTls("self-signed", "flask-app-tls"),
        gateway=GatewaySpec(max_body_bytes=1024),
    )
    d, made = build(lambda: FlaskApp("flask-app", flask_app_args(route=spec)))
    assert d.of_type("kubernetes:networking.k8s.io/v1:Ingress") == []
    route = d.one("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "flask-app-ingress-gateway-route")
    deployment = d.one("kubernetes:apps/v1:Deployment")
    # Routed only once the Deployment's await has seen its pods Ready, as the Ingress is.
    assert deployment.urn in route.dependencies
    (rule,) = route.get("spec.rules")
    assert rule["backendRefs"] == [{"name": "flask-app-service", "port": 80}]
    app = made["component"]
    assert resolve(app.url)[0] == "https://flask-app.local/"
    assert resolve(app.ca_certificate)[0].startswith("-----BEGIN CERTIFICATE-----")
    assert app.gateway_route is not None and app.ingress is not None and app.ingress.ingress is None


def test_two_flask_apps_in_one_stack_do_not_collide() -> None:
    def make() -> list[FlaskApp]:
        return [
            FlaskApp("blue", flask_app_args(name="blue", namespace=replace(NAMESPACE, name="blue"))),
            FlaskApp("green", flask_app_args(name="green", namespace=replace(NAMESPACE, name="green"))),
        ]

    d, _ = build(make)
    urns = [r.urn for r in d.resources]
    assert len(urns) == len(set(urns))
    # Objects without a fixed name are auto-named from their (unique) logical names.
    identities = [
        (r.type, r.inputs["metadata"].get("namespace"), r.inputs["metadata"].get("name", r.name))
        for r in d.kubernetes_objects()
    ]
    assert len(identities) == len(set(identities))
    assert len(d.of_type("kubernetes:apps/v1:Deployment")) == 2


def test_every_flask_app_child_is_parented_under_it() -> None:
    d, _ = build(lambda: FlaskApp("flask-app", flask_app_args()))
    root = d.one("flask-k8s:components:FlaskApp")
    for r in d.resources:
        if r is root:
            continue
        chain = r
        while chain.parent and chain.parent != root.urn:
            chain = d.by_urn(chain.parent)
        assert chain.parent == root.urn, f"{r.urn} is not under {root.urn}"
        assert r.name.startswith("flask-app-"), r.urn


# --- KindCluster ---------------------------------------------------------------------------------------------


def test_kind_cluster_is_created_and_deleted_by_commands() -> None:
    d, made = build(lambda: KindCluster("kind", KindClusterArgs(cluster_name="devops-lab", workers=2)))
    cmd = d.one("command:local:Command", "kind-create")
    assert cmd.get("create") == (
        "kind create cluster --name devops-lab --config - 1>&2 && kind get kubeconfig --name devops-lab"
    )
    assert cmd.get("delete") == "kind delete cluster --name devops-lab"
    config = yaml.safe_load(cmd.get("stdin"))
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker", "worker"]
    control_plane = config["nodes"][0]
    assert 'node-labels: "ingress-ready=true"' in control_plane["kubeadmConfigPatches"][0]
    assert [(p["containerPort"], p["hostPort"]) for p in control_plane["extraPortMappings"]] == [(80, 80), (443, 443)]
    # A different layout replaces the cluster: it must be deleted before the new one (same name).
    assert cmd.get("triggers") == [cmd.get("stdin")]
    assert cmd.delete_before_replace
    assert cmd.additional_secret_outputs == ["stdout"]
    assert cmd.get("logging") == "stderr"
    assert resolve(made["component"].kubeconfig)[1] is True
    assert_children_named_and_parented(d, "flask-k8s:components:KindCluster", "kind")


NODE_IMAGE = "kindest/node:v1.34.0@sha256:" + "0" * 64


def kind_create_command(**args: Any) -> Registered:
    d, _ = build(lambda: KindCluster("kind", KindClusterArgs(cluster_name="devops-lab", **args)))
    return d.one("command:local:Command", "kind-create")


def test_kind_cluster_takes_a_node_image_only_when_given() -> None:
    pinned = kind_create_command(node_image=NODE_IMAGE)
    assert pinned.get("create") == (
        f"kind create cluster --name devops-lab --image {NODE_IMAGE} --config - 1>&2 && "
        "kind get kubeconfig --name devops-lab"
    )
    assert "--image" not in kind_create_command().get("create")
    assert "--image" not in kind_create_command(node_image="").get("create")
    assert "--image 'a b;c'" in kind_create_command(node_image="a b;c").get("create")


def test_a_new_node_image_replaces_the_cluster() -> None:
    default, pinned, other = (
        kind_create_command(node_image=image) for image in (None, NODE_IMAGE, "kindest/node:v1.33.1")
    )
    triggers = [c.get("triggers") for c in (default, pinned, other)]
    assert len({tuple(t) for t in triggers}) == 3, triggers
    assert pinned.get("triggers") == [pinned.get("stdin"), NODE_IMAGE]
    # The same as before node images could be chosen: existing clusters are not recreated by an upgrade.
    assert default.get("triggers") == [default.get("stdin")]
    assert not pinned.secrets_within("triggers")
    assert pinned.delete_before_replace


def test_existing_kind_cluster_is_only_read() -> None:
    d, _ = build(lambda: KindCluster("kind", KindClusterArgs(cluster_name="mine", create=False)))
    cmd = d.one("command:local:Command", "kind-kubeconfig")
    assert cmd.get("create") == "kind get kubeconfig --name mine"
    assert "delete" not in cmd.inputs


# --- KindImage -----------------------------------------------------------------------------------------------


def test_image_is_built_and_loaded_when_sources_change(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "app.py").write_text("print('v1')\n")
    first = source_hash(tmp_path)
    d, made = build(
        lambda: KindImage(
            "img", KindImageArgs(source=ImageSource("flask-app:1.0", str(tmp_path)), cluster_name="devops-lab")
        )
    )
    cmd = d.one("command:local:Command", "img-build-load")
    assert cmd.get("create") == (
        f"docker build -t flask-app:1.0 {tmp_path} && kind load docker-image flask-app:1.0 --name devops-lab"
    )
    assert cmd.get("triggers") == [first, "devops-lab"]
    assert resolve(made["component"].source_hash) == (first, False)

    (tmp_path / "app.py").write_text("print('v2')\n")
    assert source_hash(tmp_path) != first
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    second = source_hash(tmp_path)
    (tmp_path / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\1")
    assert source_hash(tmp_path) == second, "bytecode caches must not trigger a rebuild"


def test_image_is_loaded_again_into_a_recreated_cluster(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    triggers = []
    for revision in ("r1", "r2"):
        d, _ = build(
            lambda revision=revision: KindImage(
                "img",
                KindImageArgs(
                    source=ImageSource("flask-app:1.0", str(tmp_path)),
                    cluster_name="devops-lab",
                    cluster_revision=revision,
                ),
            )
        )
        triggers.append(d.one("command:local:Command", "img-build-load").get("triggers"))
    assert triggers == [[source_hash(tmp_path), "devops-lab", "r1"], [source_hash(tmp_path), "devops-lab", "r2"]]


def test_kind_cluster_revision_follows_its_triggers() -> None:
    def revision(args: KindClusterArgs) -> str:
        return build(lambda: KindCluster("kind", args))[1]["component"].revision

    default = revision(KindClusterArgs(cluster_name="devops-lab"))
    assert revision(KindClusterArgs(cluster_name="devops-lab")) == default
    pinned = revision(KindClusterArgs(cluster_name="devops-lab", node_image="kindest/node:v1.34.0"))
    bigger = revision(KindClusterArgs(cluster_name="devops-lab", workers=3))
    assert len({default, pinned, bigger}) == 3
    assert revision(KindClusterArgs(cluster_name="devops-lab", create=False)) == ""


def test_image_source_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        source_hash(tmp_path / "missing")


# --- TLS -----------------------------------------------------------------------------------------------------


def test_self_signed_certificate_is_a_ca_and_a_leaf_for_the_host() -> None:
    d, made = build(lambda: SelfSignedCertificate("tls", SelfSignedCertificateArgs(host="flask-app.local")))
    ca = d.one("tls:index/selfSignedCert:SelfSignedCert")
    assert ca.get("isCaCertificate") is True
    assert "cert_signing" in ca.get("allowedUses")
    assert d.one("tls:index/certRequest:CertRequest").get("dnsNames") == ["flask-app.local"]
    leaf = d.one("tls:index/locallySignedCert:LocallySignedCert")
    assert "server_auth" in leaf.get("allowedUses")
    cert = made["component"]
    assert resolve(cert.private_key)[1] is True
    assert resolve(cert.ca_certificate) == ("-----BEGIN CERTIFICATE-----\nmock-tls-ca-cert\n", False)
    assert_children_named_and_parented(d, "flask-k8s:components:SelfSignedCertificate", "tls")


def test_cert_manager_installs_a_pinned_release_and_an_acme_issuer() -> None:
    args = CertManagerArgs(version="v1.18.2", cluster_issuer="letsencrypt-prod", acme_email="ops@example.com")
    d, _ = build(lambda: CertManager("cm", args))
    manifest = d.one("kubernetes:yaml/v2:ConfigFile")
    assert manifest.get("file").endswith("/v1.18.2/cert-manager.yaml")
    issuer = d.one("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert issuer.get("metadata.name") == "letsencrypt-prod"
    acme = issuer.get("spec.acme")
    assert acme["email"] == "ops@example.com"
    assert acme["server"].startswith("https://acme-v02.api.letsencrypt.org")
    assert acme["solvers"] == [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]
    assert manifest.urn in issuer.dependencies
