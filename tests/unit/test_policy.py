"""The policy pack (policy/): each rule's pure function, each CrossGuard policy's callback, the
stacks' real objects, the per-stack config files, and the pack started as the CLI starts it.
"""

from __future__ import annotations

import copy
import functools
import json
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy import proxy as sdk_proxy
from pulumi_policy.proxy import unknown_checking_proxy

from devtools.harness import ROOT, Deployment, run_stack
from policy import rules
from policy.pack import (
    ALLOW_LOAD_BALANCER,
    ALLOWED_KEYS,
    EXCLUDED_NAMESPACES,
    PACK_NAME,
    POLICIES,
    configmap_no_secrets,
    container_requirements,
    ingress_tls,
    namespace_pod_security,
    plain_props,
    service_load_balancer,
)
from policy.rules import (
    CONFIG_MAP,
    DEPLOYMENT,
    INGRESS,
    NAMESPACE,
    POD,
    SERVICE,
    UNKNOWN,
    configmap_violations,
    container_violations,
    deployment_violations,
    host_covered,
    image_problem,
    ingress_violations,
    namespace_violations,
    pod_violations,
    service_violations,
)

POLICY_DIR = ROOT / "policy"
STACKS = ("dev", "prod")
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""How the engine sends a string it does not know yet (preview)."""


# --- Objects as the engine reports them (camelCase inputs) -------------------------------------------------


def good_container(**overrides: Any) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "web",
        "image": "registry.example.com/team/web:1.4.2",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
    }
    container.update(overrides)
    return container


def good_pod_spec(**overrides: Any) -> dict[str, Any]:
    # Numbers arrive as doubles from the engine: 10001.0, as the real program's do.
    spec: dict[str, Any] = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001.0},
        "containers": [good_container()],
    }
    spec.update(overrides)
    return spec


def deployment(pod_spec: Any = None, name: str | None = "web") -> dict[str, Any]:
    metadata: dict[str, Any] = {"namespace": "apps"}
    if name is not None:
        metadata["name"] = name
    template = {"metadata": {"labels": {"app": "web"}}, "spec": good_pod_spec() if pod_spec is None else pod_spec}
    return {"metadata": metadata, "spec": {"replicas": 2.0, "template": template}}


def pod(pod_spec: Any = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "debug", "namespace": "apps"},
        "spec": good_pod_spec() if pod_spec is None else pod_spec,
    }


def ingress(tls: Any, hosts: tuple[str | None, ...] = ("web.example.com",)) -> dict[str, Any]:
    rules_: list[dict[str, Any]] = []
    for host in hosts:
        rule: dict[str, Any] = {"http": {"paths": [{"path": "/", "pathType": "Prefix"}]}}
        if host is not None:
            rule["host"] = host
        rules_.append(rule)
    return {"metadata": {"name": "web", "namespace": "apps"}, "spec": {"rules": rules_, "tls": tls}}


def configmap(data: Mapping[str, str], name: str | None = "web-config") -> dict[str, Any]:
    metadata: dict[str, Any] = {"namespace": "apps"}
    if name is not None:
        metadata["name"] = name
    return {"metadata": metadata, "data": dict(data)}


def service(service_type: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "apps"}, "spec": {"type": service_type, "ports": [{"port": 80.0}]}}


def namespace(labels: Any, name: str = "apps") -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}}


def with_path(props: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of props with the value at a dotted path (list indexes as numbers) replaced."""
    result = copy.deepcopy(props)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


def without(props: dict[str, Any], path: str) -> dict[str, Any]:
    """A deep copy of props without the key at a dotted path."""
    result = copy.deepcopy(props)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    del node[last]
    return result


C0 = "spec.template.spec.containers.0"


# --- Rule 1: containers ---------------------------------------------------------------------------------------


def test_a_complete_deployment_passes() -> None:
    assert deployment_violations(deployment(), "web-deployment") == []


def test_a_complete_bare_pod_passes() -> None:
    assert pod_violations(pod(), "debug-pod") == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"{C0}.resources.requests.cpu", "container 'web' has no cpu request (resources.requests.cpu)"),
        (f"{C0}.resources.requests.memory", "container 'web' has no memory request (resources.requests.memory)"),
        (f"{C0}.resources.limits.cpu", "container 'web' has no cpu limit (resources.limits.cpu)"),
        (f"{C0}.resources.limits.memory", "container 'web' has no memory limit (resources.limits.memory)"),
        (f"{C0}.livenessProbe", "container 'web' has no livenessProbe"),
        (f"{C0}.readinessProbe", "container 'web' has no readinessProbe"),
    ],
)
def test_each_missing_resource_or_probe_is_named(path: str, expected: str) -> None:
    assert deployment_violations(without(deployment(), path), "web-deployment") == [f"Deployment/web: {expected}"]


def test_no_resources_at_all_lists_all_four() -> None:
    found = deployment_violations(without(deployment(), f"{C0}.resources"), "web-deployment")
    assert len(found) == 4
    assert all(message.startswith("Deployment/web: container 'web' has no ") for message in found)


def test_non_root_may_be_set_on_the_container_instead_of_the_pod() -> None:
    spec = good_pod_spec(
        securityContext={},
        containers=[good_container(securityContext={"runAsNonRoot": True, "runAsUser": 1000.0})],
    )
    assert container_violations(spec) == []


@pytest.mark.parametrize(
    ("pod_context", "container_context", "expected"),
    [
        (
            {"runAsUser": 1000.0},
            None,
            "runAsNonRoot is not set: set securityContext.runAsNonRoot: true on the pod or the container",
        ),
        (
            {"runAsNonRoot": True, "runAsUser": 1000.0},
            {"runAsNonRoot": False},  # the container's setting wins over the pod's
            "runAsNonRoot is false: set securityContext.runAsNonRoot: true on the pod or the container",
        ),
        (
            {"runAsNonRoot": True},
            None,
            "has no runAsUser: set a numeric, non-zero securityContext.runAsUser on the pod or the container",
        ),
        ({"runAsNonRoot": True, "runAsUser": 0.0}, None, "runAsUser 0 is not a non-zero numeric UID (0 is root)"),
        (
            {"runAsNonRoot": True, "runAsUser": 1000.0},
            {"runAsUser": 0.0},
            "runAsUser 0 is not a non-zero numeric UID (0 is root)",
        ),
        (
            {"runAsNonRoot": True, "runAsUser": "app"},
            None,
            "runAsUser 'app' is not a non-zero numeric UID (0 is root)",
        ),
        (
            {"runAsNonRoot": True, "runAsUser": 1000.5},
            None,
            "runAsUser 1000.5 is not a non-zero numeric UID (0 is root)",
        ),
        (
            {"runAsNonRoot": True, "runAsUser": float("inf")},
            None,
            "runAsUser inf is not a non-zero numeric UID (0 is root)",
        ),
    ],
)
def test_root_or_unverifiable_users_are_refused(
    pod_context: dict[str, Any], container_context: dict[str, Any] | None, expected: str
) -> None:
    container = good_container() if container_context is None else good_container(securityContext=container_context)
    spec = good_pod_spec(securityContext=pod_context, containers=[container])
    assert container_violations(spec) == [f"container 'web' {expected}"]


@pytest.mark.parametrize(
    "image",
    [
        "flask-app:1.0",
        "registry.example.com/platform/flask-app:1.0",
        "registry.example.com:5000/flask-app:2025.01.3",
        "flask-app@sha256:" + "a" * 64,
        "flask-app:latest@sha256:" + "b" * 64,  # the digest pins it whatever the tag says
    ],
)
def test_pinned_images_pass(image: str) -> None:
    assert image_problem(image) is None


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("flask-app:latest", "uses the mutable tag 'latest'"),
        ("registry.example.com/platform/flask-app:latest", "uses the mutable tag 'latest'"),
        ("flask-app", "has no tag (Kubernetes pulls ':latest')"),
        ("registry.example.com:5000/flask-app", "has no tag"),  # a registry port is not a tag
        ("flask-app:", "has an empty tag"),
        # Parsed with the runtime's grammar (vocabulary.image_tag), as the program's own check is.
        ("flask-app@sha256:abc", "has a malformed digest"),  # too short a digest to pull by
        ("Flask-App:1.0", "is not an image reference"),  # no runtime pulls an upper-case path
    ],
)
def test_latest_and_untagged_images_are_refused(image: str, expected: str) -> None:
    problem = image_problem(image)
    assert problem is not None
    assert expected in problem
    found = deployment_violations(with_path(deployment(), f"{C0}.image", image), "web-deployment")
    assert found == [f"Deployment/web: container 'web' {problem}"]


def test_init_containers_need_resources_non_root_and_a_pinned_image_but_no_probes() -> None:
    init = good_container(name="migrate", image="tools:latest")
    del init["livenessProbe"], init["readinessProbe"], init["resources"]["limits"]
    found = container_violations(good_pod_spec(initContainers=[init]))
    assert found == [
        "init container 'migrate' has no cpu limit (resources.limits.cpu)",
        "init container 'migrate' has no memory limit (resources.limits.memory)",
        f"init container 'migrate' {image_problem('tools:latest')}",
    ]


def test_a_pod_without_containers_is_reported() -> None:
    assert pod_violations(pod(good_pod_spec(containers=[])), "debug-pod") == [
        "Pod/debug: has no containers (spec.containers is empty)"
    ]


def test_an_unnamed_object_is_named_by_its_pulumi_resource_name() -> None:
    found = deployment_violations(without(deployment(name=None), f"{C0}.livenessProbe"), "web-deployment")
    assert found == ["Deployment/web-deployment (Pulumi resource name): container 'web' has no livenessProbe"]


@pytest.mark.parametrize(
    "path",
    [
        "spec",
        "spec.template.spec",
        "spec.template.spec.containers",
        C0,
        f"{C0}.image",
        f"{C0}.resources",
        f"{C0}.resources.limits",
        f"{C0}.resources.limits.memory",
        f"{C0}.livenessProbe",
        "spec.template.spec.securityContext",
        "spec.template.spec.securityContext.runAsUser",
    ],
)
@pytest.mark.parametrize("unknown", [UNKNOWN, UNKNOWN_STRING], ids=["marker", "engine-sentinel"])
def test_unknown_values_are_never_violations(path: str, unknown: Any) -> None:
    # At preview a value may be unknown; nothing that depends on it may be reported until it is known.
    assert deployment_violations(with_path(deployment(), path, unknown), "web-deployment") == []


def test_an_unknown_container_security_context_is_not_a_violation() -> None:
    # The pod sets nothing; the container's context is unknown, so neither setting can be judged yet.
    spec = good_pod_spec(securityContext={}, containers=[good_container(securityContext=UNKNOWN)])
    assert container_violations(spec) == []


# --- Rule 2: Ingress TLS ---------------------------------------------------------------------------------------

TLS_OK = [{"hosts": ["web.example.com"], "secretName": "web-tls"}]


def test_an_ingress_with_tls_for_its_host_passes() -> None:
    assert ingress_violations(ingress(TLS_OK), "web-ingress") == []


def test_a_wildcard_certificate_covers_one_label() -> None:
    tls = [{"hosts": ["*.example.com"], "secretName": "wildcard-tls"}]
    assert ingress_violations(ingress(tls, ("web.example.com", "API.example.com")), "web-ingress") == []
    assert host_covered("a.example.com", ["*.example.com"])
    assert not host_covered("a.b.example.com", ["*.example.com"])
    assert not host_covered("example.com", ["*.example.com"])


@pytest.mark.parametrize("tls", [None, []])
def test_an_ingress_without_tls_is_refused(tls: Any) -> None:
    assert ingress_violations(ingress(tls), "web-ingress") == [
        "Ingress/web: has no TLS (spec.tls is empty): list the hosts and the Secret of their certificate"
    ]


def test_tls_entries_need_hosts_and_a_secret_name() -> None:
    tls = [{"hosts": ["web.example.com"]}, {"secretName": "other-tls"}]
    assert ingress_violations(ingress(tls), "web-ingress") == [
        "Ingress/web: spec.tls[0] has no secretName",
        "Ingress/web: spec.tls[1] has no hosts",
    ]


def test_every_rule_host_must_be_covered() -> None:
    found = ingress_violations(ingress(TLS_OK, ("web.example.com", "admin.example.com", None)), "web-ingress")
    # The host-less (catch-all) rule is not one a TLS entry could name.
    assert found == ["Ingress/web: host 'admin.example.com' (spec.rules[1]) is not covered by any spec.tls entry"]


@pytest.mark.parametrize("path", ["spec", "spec.tls", "spec.tls.0", "spec.tls.0.hosts", "spec.tls.0.hosts.0"])
def test_unknown_tls_is_not_a_violation(path: str) -> None:
    props = with_path(ingress(copy.deepcopy(TLS_OK), ("other.example.com",)), path, UNKNOWN)
    assert ingress_violations(props, "web-ingress") == []


# --- Rule 3: no secrets in ConfigMaps ------------------------------------------------------------------------------


def test_a_configmap_of_plain_settings_passes() -> None:
    data = {"FLASK_ENV": "production", "LOG_LEVEL": "info", "WORKERS": "4", "APP_CONFIG": "[cache]\nttl = 300\n"}
    assert configmap_violations(configmap(data), "web-config") == []


@pytest.mark.parametrize(
    "key",
    [
        "DB_PASSWORD",
        "smtp_passwd",
        "SecretKey",
        "GITHUB_TOKEN",
        "API_KEY",
        "apiKey",
        "api-key",
        "PRIVATE_KEY",
        "tls.private.key",
        "aws_credentials",
    ],
)
def test_secret_looking_keys_are_refused_whatever_their_case(key: str) -> None:
    found = configmap_violations(configmap({key: "x", "LOG_LEVEL": "info"}), "web-config")
    assert len(found) == 1
    assert found[0].startswith(f"ConfigMap/web-config: key {key!r} in data looks like a secret")
    assert "'x'" not in found[0]  # the value is never echoed


def test_binary_data_keys_count_too_and_allowed_keys_are_let_through() -> None:
    props = {"metadata": {"name": "certs"}, "binaryData": {"private.key": "eA=="}, "data": {"TOKEN_TTL": "300"}}
    assert [m.split(" looks like")[0] for m in configmap_violations(props, "certs")] == [
        "ConfigMap/certs: key 'TOKEN_TTL' in data",
        "ConfigMap/certs: key 'private.key' in binaryData",
    ]
    assert configmap_violations(props, "certs", allowed_keys={"TOKEN_TTL", "private.key"}) == []


def test_unknown_configmap_data_is_not_a_violation() -> None:
    assert configmap_violations({"metadata": {"name": "web"}, "data": UNKNOWN}, "web-config") == []


# --- Rule 4: LoadBalancer only where allowed -----------------------------------------------------------------------


@pytest.mark.parametrize("service_type", ["ClusterIP", "NodePort", None, UNKNOWN])
def test_other_service_types_pass(service_type: Any) -> None:
    assert service_violations(service(service_type), "web-service", allow_load_balancer=False) == []


def test_a_load_balancer_needs_the_stack_to_allow_it() -> None:
    found = service_violations(service("LoadBalancer"), "web-service", allow_load_balancer=False)
    assert len(found) == 1
    assert found[0].startswith("Service/web: type LoadBalancer is not allowed in this stack")
    assert service_violations(service("LoadBalancer"), "web-service", allow_load_balancer=True) == []


# --- Rule 5: Pod Security Admission labels -------------------------------------------------------------------------

PSA = "pod-security.kubernetes.io/enforce"


@pytest.mark.parametrize("level", ["restricted", "baseline"])
def test_namespaces_enforcing_baseline_or_restricted_pass(level: str) -> None:
    assert namespace_violations(namespace({PSA: level, "pod-security.kubernetes.io/warn": "restricted"}), "ns") == []


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, "has no pod-security.kubernetes.io/enforce label"),
        (None, "has no pod-security.kubernetes.io/enforce label"),
        ({"pod-security.kubernetes.io/warn": "restricted"}, "has no pod-security.kubernetes.io/enforce label"),
        ({PSA: "privileged"}, "pod-security.kubernetes.io/enforce=privileged enforces nothing"),
        ({PSA: "Restricted"}, "pod-security.kubernetes.io/enforce='Restricted' is not a level Kubernetes knows"),
    ],
)
def test_namespaces_without_enforcement_or_privileged_are_refused(labels: Any, expected: str) -> None:
    (found,) = namespace_violations(namespace(labels), "ns")
    assert found.startswith(f"Namespace/apps: {expected}")


@pytest.mark.parametrize("labels", [UNKNOWN, {PSA: UNKNOWN}])
def test_unknown_namespace_labels_are_not_a_violation(labels: Any) -> None:
    assert namespace_violations(namespace(labels), "ns") == []


# --- The CrossGuard policies around the rules ---------------------------------------------------------------------


def validation_args(
    resource_type: str, props: dict[str, Any], config: Mapping[str, Any] | None = None, name: str = "res"
) -> ResourceValidationArgs:
    """Args as the SDK builds them for Analyze: props behind its unknown-checking proxy."""
    options = PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=None,
    )
    urn = f"urn:pulumi:test::flask-k8s::{resource_type}::{name}"
    return ResourceValidationArgs(resource_type, unknown_checking_proxy(props), urn, name, options, None, config)


def run_policy(
    policy: ResourceValidationPolicy,
    resource_type: str,
    props: dict[str, Any],
    config: Mapping[str, Any] | None = None,
    name: str = "res",
) -> list[str]:
    """The messages the policy reports for one resource."""
    messages: list[str] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        messages.append(message)

    result = policy.validate(validation_args(resource_type, props, config, name), report_violation)
    assert result is None, "the callbacks are synchronous"
    return messages


def test_every_policy_is_mandatory_and_declares_its_config() -> None:
    assert [p.name for p in POLICIES] == [
        "container-requirements",
        "ingress-tls",
        "configmap-no-secrets",
        "service-load-balancer",
        "namespace-pod-security",
    ]
    for policy in POLICIES:
        assert policy.enforcement_level is EnforcementLevel.MANDATORY, policy.name
        assert policy.config_schema is not None
        assert EXCLUDED_NAMESPACES in policy.config_schema.properties, policy.name
    assert service_load_balancer.config_schema is not None
    assert service_load_balancer.config_schema.properties[ALLOW_LOAD_BALANCER]["default"] is False


@pytest.mark.parametrize(
    ("policy", "resource_type", "good", "bad", "expected"),
    [
        (
            container_requirements,
            DEPLOYMENT,
            deployment(),
            with_path(deployment(), f"{C0}.image", "web:latest"),
            "Deployment/web: container 'web' image 'web:latest' uses the mutable tag 'latest'",
        ),
        (
            container_requirements,
            POD,
            pod(),
            without(pod(), "spec.containers.0.readinessProbe"),
            "Pod/debug: container 'web' has no readinessProbe",
        ),
        (ingress_tls, INGRESS, ingress(TLS_OK), ingress([]), "Ingress/web: has no TLS"),
        (
            configmap_no_secrets,
            CONFIG_MAP,
            configmap({"LOG_LEVEL": "info"}),
            configmap({"DB_PASSWORD": "hunter2"}),
            "ConfigMap/web-config: key 'DB_PASSWORD' in data looks like a secret",
        ),
        (
            service_load_balancer,
            SERVICE,
            service("ClusterIP"),
            service("LoadBalancer"),
            "Service/web: type LoadBalancer is not allowed",
        ),
        (
            namespace_pod_security,
            NAMESPACE,
            namespace({PSA: "restricted"}),
            namespace({PSA: "privileged"}),
            "Namespace/apps: pod-security.kubernetes.io/enforce=privileged",
        ),
    ],
)
def test_each_policy_reports_its_violations_through_the_sdk(
    policy: ResourceValidationPolicy, resource_type: str, good: dict[str, Any], bad: dict[str, Any], expected: str
) -> None:
    assert run_policy(policy, resource_type, good) == []
    (message,) = run_policy(policy, resource_type, bad)
    assert message.startswith(expected)


def test_policies_ignore_other_resource_types() -> None:
    for policy in POLICIES:
        assert run_policy(policy, "kubernetes:core/v1:Secret", configmap({"DB_PASSWORD": "x"})) == []
    # A Deployment is not a Namespace, a Service is not an Ingress, and so on.
    assert run_policy(namespace_pod_security, DEPLOYMENT, deployment(without(good_pod_spec(), "containers"))) == []


def test_allow_load_balancer_comes_from_the_policy_config() -> None:
    props = service("LoadBalancer")
    assert run_policy(service_load_balancer, SERVICE, props, {ALLOW_LOAD_BALANCER: True}) == []
    assert len(run_policy(service_load_balancer, SERVICE, props, {ALLOW_LOAD_BALANCER: False})) == 1
    assert len(run_policy(service_load_balancer, SERVICE, props, None)) == 1  # default: not allowed


def test_allowed_keys_come_from_the_policy_config() -> None:
    props = configmap({"TOKEN_TTL_SECONDS": "300"})
    assert len(run_policy(configmap_no_secrets, CONFIG_MAP, props)) == 1
    assert run_policy(configmap_no_secrets, CONFIG_MAP, props, {ALLOWED_KEYS: ["TOKEN_TTL_SECONDS"]}) == []


def test_excluded_namespaces_skip_objects_in_them_and_the_namespace_itself() -> None:
    vendor = with_path(without(deployment(), f"{C0}.resources.limits"), "metadata.namespace", "ingress-nginx")
    config = {EXCLUDED_NAMESPACES: ["ingress-nginx"]}
    assert len(run_policy(container_requirements, DEPLOYMENT, vendor)) == 2
    assert run_policy(container_requirements, DEPLOYMENT, vendor, config) == []
    vendor_namespace = namespace({"app.kubernetes.io/name": "ingress-nginx"}, name="ingress-nginx")
    assert len(run_policy(namespace_pod_security, NAMESPACE, vendor_namespace)) == 1
    assert run_policy(namespace_pod_security, NAMESPACE, vendor_namespace, config) == []
    # An object whose namespace is not known yet is checked: it cannot be shown to be excluded.
    unknown_namespace = with_path(vendor, "metadata.namespace", UNKNOWN_STRING)
    assert len(run_policy(container_requirements, DEPLOYMENT, unknown_namespace, config)) == 2


def test_unknown_values_through_the_sdk_proxy_check_what_is_known() -> None:
    # At preview the namespace (another resource's output) and a volume's ConfigMap name are unknown;
    # the SDK's proxy would raise on reading them. The policy must still check the rest.
    props = with_path(deployment(), "metadata.namespace", UNKNOWN_STRING)
    props = with_path(props, "spec.template.spec.volumes", [{"name": "config", "configMap": {"name": UNKNOWN_STRING}}])
    assert run_policy(container_requirements, DEPLOYMENT, props) == []
    missing_probe = without(props, f"{C0}.livenessProbe")
    assert run_policy(container_requirements, DEPLOYMENT, missing_probe) == [
        "Deployment/web: container 'web' has no livenessProbe"
    ]


def test_plain_props_turns_the_sdk_proxy_into_plain_data_with_unknown_markers() -> None:
    proxied = unknown_checking_proxy({"a": {"b": [1.0, UNKNOWN_STRING]}, "c": UNKNOWN_STRING, "d": "x"})
    assert plain_props(proxied) == {"a": {"b": [1.0, UNKNOWN]}, "c": UNKNOWN, "d": "x"}


def test_the_unknown_sentinels_match_the_sdks() -> None:
    sdk = {value for name, value in vars(sdk_proxy).items() if name.startswith("UNKNOWN_") and name.endswith("_VALUE")}
    assert sdk == rules.ENGINE_UNKNOWN_SENTINELS


# --- The real program's objects, per stack ------------------------------------------------------------------------


def stack_policy_config(stack: str) -> dict[str, dict[str, Any]]:
    """Each policy's config as the CLI hands it over: schema defaults, then policy/config/<stack>.json."""
    given = json.loads((POLICY_DIR / "config" / f"{stack}.json").read_text())
    result: dict[str, dict[str, Any]] = {}
    for policy in POLICIES:
        schema = policy.config_schema.properties if policy.config_schema else {}
        config = {key: prop["default"] for key, prop in schema.items() if "default" in prop}
        entry = given.get(policy.name, {})
        if isinstance(entry, dict):
            config.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        result[policy.name] = config
    return result


@functools.cache
def deployed(stack: str) -> Deployment:
    """The stack's registrations under mocks (run once per stack for this module)."""
    return run_stack(stack)


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> tuple[str, Deployment]:
    return request.param, deployed(request.param)


def policy_messages(deployment_: Deployment, config: Mapping[str, Mapping[str, Any]]) -> list[str]:
    messages: list[str] = []
    for obj in deployment_.kubernetes_objects():
        for policy in POLICIES:
            messages += run_policy(policy, obj.type, obj.inputs, config[policy.name], name=obj.name)
    return messages


def test_each_stack_has_every_kind_the_rules_cover(stack: tuple[str, Deployment]) -> None:
    _, deployed = stack
    types = {obj.type for obj in deployed.kubernetes_objects()}
    assert {DEPLOYMENT, CONFIG_MAP, SERVICE, NAMESPACE} <= types
    # prod routes through Gateway API: its stack checks that no Ingress slipped in unchecked.
    assert (INGRESS in types) == (stack[0] != "prod")


def test_each_stack_passes_the_rule_functions(stack: tuple[str, Deployment]) -> None:
    """The rule functions alone, without the stack's config: only the reviewed exception of each
    stack's config file (the controller's host-port namespace on Kind) may show up."""
    name, deployed = stack
    allow_load_balancer = stack_policy_config(name)["service-load-balancer"][ALLOW_LOAD_BALANCER]
    checks: dict[str, Callable[[dict[str, Any], str], list[str]]] = {
        DEPLOYMENT: deployment_violations,
        POD: pod_violations,
        INGRESS: ingress_violations,
        CONFIG_MAP: configmap_violations,
        SERVICE: lambda props, n: service_violations(props, n, allow_load_balancer=allow_load_balancer),
        NAMESPACE: namespace_violations,
    }
    found: list[str] = []
    for obj in deployed.kubernetes_objects():
        if obj.type in checks:
            found += checks[obj.type](obj.inputs, obj.name)
    excused = stack_policy_config(name)["namespace-pod-security"][EXCLUDED_NAMESPACES]
    assert [m for m in found if not any(m.startswith(f"Namespace/{n}:") for n in excused)] == []


def test_each_stack_passes_every_policy_with_its_config(stack: tuple[str, Deployment]) -> None:
    name, deployed = stack
    assert policy_messages(deployed, stack_policy_config(name)) == []


def test_prod_under_devs_config_fails_only_on_its_load_balancer() -> None:
    (message,) = policy_messages(deployed("prod"), stack_policy_config("dev"))
    assert message.startswith("Service/traefik: type LoadBalancer is not allowed in this stack")


# --- The per-stack config files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("config_file", sorted((POLICY_DIR / "config").glob("*.json")), ids=lambda p: p.name)
def test_config_files_name_only_real_policies_and_declared_properties(config_file: Path) -> None:
    # The CLI checks types against each policy's schema, but not unknown names: a typo would be ignored.
    schemas = {p.name: p.config_schema.properties if p.config_schema else {} for p in POLICIES}
    config = json.loads(config_file.read_text())
    assert set(config) <= set(schemas) | {"all"}
    for policy_name, entry in config.items():
        if isinstance(entry, str):
            continue
        assert set(entry) <= set(schemas[policy_name]) | {"enforcementLevel"}, policy_name
        for key, value in entry.items():
            if key == ALLOW_LOAD_BALANCER:
                assert isinstance(value, bool)
            elif key in (EXCLUDED_NAMESPACES, ALLOWED_KEYS):
                assert isinstance(value, list)
                assert all(isinstance(item, str) for item in value)


def test_there_is_a_config_file_per_stack_file() -> None:
    stacks = {p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml")}
    configs = {p.stem for p in (POLICY_DIR / "config").glob("*.json")}
    assert stacks <= configs
    assert stack_policy_config("prod")["service-load-balancer"][ALLOW_LOAD_BALANCER] is True
    assert stack_policy_config("dev")["service-load-balancer"][ALLOW_LOAD_BALANCER] is False
    assert stack_policy_config("local")["service-load-balancer"][ALLOW_LOAD_BALANCER] is False


# --- The pack as the CLI starts it ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack started the way the CLI's Python policy shim starts it: `python -m pulumi.policy <engine> .`
    from inside policy/ (with the project's virtualenv, as PulumiPolicy.yaml says). It prints the port
    of its gRPC server, which listens on 127.0.0.1 only; the engine address is not used by the pack."""
    with tempfile.TemporaryFile(mode="w+") as stderr:  # a file, so a chatty pack cannot fill a pipe and stall
        process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
            cwd=POLICY_DIR,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 60)
            line = process.stdout.readline().strip() if ready else ""
            if not line.isdigit():
                process.kill()
                process.wait(timeout=10)
                stderr.seek(0)
                pytest.fail(f"the policy pack did not start (stdout {line!r}):\n{stderr.read()}")
            with grpc.insecure_channel(f"127.0.0.1:{line}") as channel:
                yield analyzer_pb2_grpc.AnalyzerStub(channel)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(value)
    return result


def test_the_pack_starts_and_describes_its_policies(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME
    assert info.supportsConfig
    assert {p.name: p.enforcementLevel for p in info.policies} == {p.name: analyzer_pb2.MANDATORY for p in POLICIES}


def test_the_pack_applies_stack_config_and_reports_mandatory_violations(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    # Configure as the CLI does: every policy, its enforcement level, its properties (defaults applied).
    configs = stack_policy_config("dev")
    request = analyzer_pb2.ConfigureAnalyzerRequest(
        policyConfig={
            name: analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY, properties=struct(config))
            for name, config in configs.items()
        }
    )
    analyzer.Configure(request)

    def analyze(resource_type: str, props: dict[str, Any], name: str) -> list[analyzer_pb2.AnalyzeDiagnostic]:
        urn = f"urn:pulumi:dev::flask-k8s::{resource_type}::{name}"
        response = analyzer.Analyze(
            analyzer_pb2.AnalyzeRequest(type=resource_type, properties=struct(props), urn=urn, name=name)
        )
        return list(response.diagnostics)

    # A preview-time Service: its namespace is another resource's output, so unknown.
    load_balancer = with_path(service("LoadBalancer"), "metadata.namespace", UNKNOWN_STRING)
    (diagnostic,) = analyze(SERVICE, load_balancer, "web-service")
    assert diagnostic.policyName == "service-load-balancer"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert "Service/web: type LoadBalancer is not allowed in this stack" in diagnostic.message
    # Unknown values neither fail nor abort the policy ("can't run policy during preview").
    preview_deployment = with_path(deployment(), "metadata.namespace", UNKNOWN_STRING)
    assert analyze(DEPLOYMENT, preview_deployment, "web-deployment") == []
    # dev.json excludes the controller's namespace from namespace-pod-security only (host ports).
    privileged = {"pod-security.kubernetes.io/enforce": "privileged"}
    assert analyze(NAMESPACE, namespace(privileged, name="traefik"), "ingress-controller-ns") == []
    controller = with_path(without(deployment(), f"{C0}.resources.limits"), "metadata.namespace", "traefik")
    assert [d.policyName for d in analyze(DEPLOYMENT, controller, "ingress-controller-deployment")] == [
        "container-requirements",
        "container-requirements",
    ]
    (diagnostic,) = analyze(NAMESPACE, namespace({}), "apps-namespace")
    assert diagnostic.policyName == "namespace-pod-security"
