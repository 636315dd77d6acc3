"""settings/: every rule with its message (full paths), what is derived, and what each stack file sets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_origin

import pulumi
import pytest
import yaml
from flask_k8s_components.flask_app import FlaskAppArgs
from flask_k8s_components.ingress_controller import CrdSources, IngressControllerArgs
from flask_k8s_components.kind_cluster import KindClusterArgs
from flask_k8s_components.kind_image import ImageSource
from flask_k8s_components.namespace import LimitRangeSpec, QuotaSpec
from flask_k8s_components.route import GatewaySpec, SharedGateway
from flask_k8s_components.secrets import DatabaseSpec
from flask_k8s_components.tls import RouteTls
from flask_k8s_components.workload import AutoscalingSpec
from pydantic import BaseModel

from devtools.harness import ROOT, resolve, run, run_stack, stack_config
from settings import PROJECT, ConfigError, StackSettings, load_settings
from settings.migration import RENAMED
from settings.schema import DEFAULT_ENV, GROUPS, SECRET_KEYS

STACKS = ["dev", "prod", "local", "kind-ci"]
DIGEST_IMAGE = (
    "registry.example.com/platform/flask-app:1.0@sha256:"
    + "4f6b8a1d2c3e5f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
)
NOT_AN_OBJECT = "must be an object (set its fields with `pulumi config set --path`)"
QUANTITY = "must be a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi"
DNS_NAME = "a DNS name of lowercase letters, digits, '-' and '.' (labels up to 63 characters)"


def _secret_keys(keys: Sequence[str]) -> list[str]:
    return [f"{PROJECT}:{k}" for k in keys]


def load(
    overrides: dict[str, Any] | None = None, stack: str | None = "dev", secret_keys: Sequence[str] = ()
) -> StackSettings:
    """Validated settings for a stack file (None: Pulumi.yaml's defaults alone) plus path overrides."""
    if not secret_keys:
        # Without secrets, reading config creates no Output: no need for a (slower) mock run.
        pulumi.runtime.set_all_config(stack_config(stack, overrides), [])
        return load_settings()
    box: dict[str, StackSettings] = {}
    run(
        lambda: box.update(settings=load_settings()),
        config=stack_config(stack, overrides),
        secret_keys=_secret_keys(secret_keys),
    )
    return box["settings"]


def app_of(overrides: dict[str, Any] | None = None, stack: str | None = "dev") -> FlaskAppArgs:
    return load(overrides, stack).app


def gateway_of(app: FlaskAppArgs) -> GatewaySpec:
    """The app's Gateway API settings (its route must go through Gateway API)."""
    assert app.route is not None and app.route.gateway is not None
    return app.route.gateway


def problems(overrides: dict[str, Any], stack: str | None = "dev", secret_keys: Sequence[str] = ()) -> list[str]:
    """Every problem settings/ reports for a stack file plus overrides."""
    config = stack_config(stack, overrides)
    if secret_keys:
        error = run(load_settings, config=config, secret_keys=_secret_keys(secret_keys), expect_error=ConfigError).error
        assert isinstance(error, ConfigError)
        return error.problems
    pulumi.runtime.set_all_config(config, [])
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return caught.value.problems


def only_problem(overrides: dict[str, Any], stack: str | None = "dev", secret_keys: Sequence[str] = ()) -> str:
    found = problems(overrides, stack, secret_keys)
    assert len(found) == 1, found
    return found[0]


def blamed(found: list[str]) -> list[str]:
    """The path each problem names."""
    return [p.split(" = ")[0].split(" ")[0] for p in found]


# --- The defaults are the article's; each stack file changes what it says ------------------------------


def test_defaults_are_the_articles_values() -> None:
    app = app_of(stack=None)
    assert (
        app.name,
        app.namespace.name,
        app.workload.image,
        app.workload.version,
        app.workload.scale.replicas,
        app.workload.port,
    ) == (
        "flask-app",
        "flask-app",
        "flask-app:1.0",
        "1.0",
        3,
        5000,
    )
    assert (app.workload.rollout.max_surge, app.workload.rollout.max_unavailable) == (1, 0)
    assert app.service is not None
    assert (app.service.type, app.service.annotations) == ("ClusterIP", {})
    # Through an Ingress: a route without Gateway API settings.
    assert app.route is not None
    assert (app.route.host, app.route.ingress.class_name) == ("flask-app.local", "nginx")
    assert app.route.tls == RouteTls("self-signed", "flask-app-tls")
    assert app.route.ingress.annotations == {
        "nginx.ingress.kubernetes.io/proxy-body-size": "5m",
        "nginx.ingress.kubernetes.io/service-upstream": "true",
    }
    assert app.route.gateway is None
    assert app.config.env == {**DEFAULT_ENV, "GRACEFUL_TIMEOUT": "20"}
    assert app.config.config_file.startswith("[database]\npool_size = 10\n")
    assert (app.secrets.database, app.workload.scale.autoscaling) == (None, None)
    assert (app.workload.disruption_budget, app.workload.spread_zones) == (True, False)


def test_defaults_create_a_kind_cluster_and_load_the_image_into_it() -> None:
    settings = load(stack=None)
    assert settings.cluster.kind == KindClusterArgs(cluster_name="devops-lab", workers=2, create=True, node_image=None)
    assert settings.cluster.kind_image == ImageSource(image="flask-app:1.0", source_dir="app")
    assert (settings.cluster.kubeconfig, settings.cluster.context, settings.cluster.ingress_controller) == (
        None,
        None,
        None,
    )
    assert (settings.tls.mode, settings.tls.cert_manager) == ("self-signed", None)


def test_dev_is_the_article_on_kind_with_its_quota() -> None:
    settings = load(stack="dev")
    app = settings.app
    assert app.namespace.quota == QuotaSpec("4", "8Gi", "8", "16Gi", pods=20, services=10, persistent_volume_claims=5)
    # The program's own front door (ingress-nginx is retired), its CRDs from their releases.
    controller = settings.cluster.ingress_controller
    assert controller == IngressControllerArgs(crds=CrdSources.releases())
    assert controller is not None and controller.image == "traefik:v3.6.12"
    assert settings.cluster.kind is not None
    assert app.config.env == {
        "FLASK_ENV": "development",
        "FLASK_APP": "app.py",
        "LOG_LEVEL": "debug",
        "WORKERS": "4",
        "GRACEFUL_TIMEOUT": "20",
    }


def test_prod_is_an_existing_cluster_behind_a_load_balancer_with_cert_manager() -> None:
    settings = load(stack="prod")
    cluster, app = settings.cluster, settings.app
    assert (cluster.kind, cluster.kind_image, cluster.context) == (None, None, "flask-prod")
    # The load balancer is the controller's: the app's Service stays inside the cluster.
    assert cluster.ingress_controller == IngressControllerArgs(
        crds=CrdSources.releases(),
        exposure="LoadBalancer",
        replicas=2,
        service_annotations={"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
    )
    assert app.service is not None
    assert app.service.type == "ClusterIP"
    # Through Gateway API, not an Ingress.
    assert app.route is not None
    assert app.route.gateway is not None
    assert app.route.host == "flask-app.example.com"
    # cert-manager is the cluster's own: the stack only names its issuer, on the Gateway.
    assert app.route.tls == RouteTls("cert-manager", "flask-app-tls", cluster_issuer="letsencrypt-prod")
    assert (app.route.gateway.class_name, app.route.gateway.shared) == ("traefik", None)
    assert app.route.gateway.max_body_bytes == 5 * 2**20
    assert (settings.tls.mode, settings.tls.cert_manager) == ("cert-manager", None)


def test_prod_pins_its_image_scales_with_an_hpa_and_spreads_zones() -> None:
    app = app_of(stack="prod")
    assert (app.workload.image, app.workload.image_pull_policy) == (DIGEST_IMAGE, "IfNotPresent")
    assert app.workload.scale.autoscaling == AutoscalingSpec(min_replicas=4, max_replicas=6, cpu_utilization=70)
    assert (app.namespace.name, app.workload.spread_zones, app.config.env["LOG_LEVEL"]) == (
        "flask-production",
        True,
        "warning",
    )
    r = app.workload.resources
    assert (r.cpu_request, r.memory_request, r.cpu_limit, r.memory_limit) == ("250m", "256Mi", "1", "512Mi")
    assert app.secrets.database == DatabaseSpec(user="flask", host="10.0.12.10", port=5432, name="flask")
    assert app.network_policy is not None
    assert [(e.cidr, e.port) for e in app.network_policy.egress] == [("10.0.12.0/24", 5432)]


def test_prod_quota_is_derived_from_the_hpa_maximum() -> None:
    # (6 + 1 surge + 1 stopping) = 8 pods x (250m, 256Mi) requests and (1, 512Mi) limits.
    assert app_of(stack="prod").namespace.quota == QuotaSpec("2", "2Gi", "8", "4Gi", 8, 10, 5)


def test_local_has_an_hpa_and_a_database_server() -> None:
    settings = load(stack="local")
    assert settings.cluster.context == "kwok-flask-e2e"
    assert settings.app.workload.scale.autoscaling == AutoscalingSpec(
        min_replicas=4, max_replicas=6, cpu_utilization=70
    )
    assert settings.app.secrets.database == DatabaseSpec(user="flask", host="postgres", port=5432, name="flask")
    assert settings.app.namespace.quota == QuotaSpec("800m", "1Gi", "4", "2Gi", 8, 10, 5)


def test_kind_ci_is_an_existing_kind_cluster_with_short_rollouts() -> None:
    settings = load(stack="kind-ci")
    app = settings.app
    assert (settings.cluster.kind, settings.cluster.context) == (None, "kind-flask-ci")
    assert (app.workload.image, app.workload.image_pull_policy) == ("flask-app:ci", "IfNotPresent")
    assert (app.workload.rollout.progress_deadline_seconds, app.workload.rollout.timeout_seconds) == (60, 120)
    assert app.route is not None and app.route.gateway is None
    # What users get: the program's defaults, no annotation that only CI sets.
    assert app.route.ingress.annotations == load(stack="dev").app.route.ingress.annotations  # type: ignore[union-attr]
    # The same controller as dev installs; offline, its image and CRDs are parameters (tests/kind).
    assert settings.cluster.ingress_controller == load(stack="dev").cluster.ingress_controller


@pytest.mark.parametrize("stack", [None, *STACKS])
def test_every_stack_file_is_valid(stack: str | None) -> None:
    assert load(stack=stack).app.name == "flask-app"


# --- The layout: groups, paths, old keys --------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("replicas", "app.replicas"),
        ("cpuLimit", "app.resources.limits.cpu"),
        ("kubeContext", "cluster.context"),
        ("host", "ingress.host"),
        ("quotaPods", "namespace.quota.pods"),
        ("extraConfig", "app.env.<NAME>"),
    ],
)
def test_an_old_flat_key_is_reported_with_its_new_path(old: str, new: str) -> None:
    assert only_problem({old: 3}) == (
        f"flask-k8s:{old} was renamed: set `pulumi config set --path {new} ...` instead (README)"
    )


def test_an_unknown_top_level_key_is_refused() -> None:
    assert only_problem({"replicaz": 3}) == "flask-k8s:replicaz is not a key of this project (README: Configuration)"


def test_the_old_namespace_key_points_to_namespace_name() -> None:
    # The one flat key whose name is now a group: the previous release's prod stack set it.
    assert only_problem({"namespace": "flask-production"}) == (
        f"flask-k8s:namespace = 'flask-production': {NOT_AN_OBJECT}; the flat layout's namespace is now namespace.name"
    )


def _is_schema_path(path: str) -> bool:
    """Whether a dotted path names a field of the schema (or a key of one of its free-form maps)."""
    group, *fields = path.split(".")
    node: Any = GROUPS[group]
    for name in fields:
        if get_origin(node) is dict:
            return True  # app.env.<NAME>, service.annotations.<key>: any key
        if not (isinstance(node, type) and issubclass(node, BaseModel)):
            return False
        field = next((f for n, f in node.model_fields.items() if name in (n, f.alias)), None)
        if field is None:
            return False
        node = field.annotation
    return True


def test_every_renamed_key_points_to_a_path_of_the_schema() -> None:
    assert [f"{old} -> {new}" for old, new in RENAMED.items() if not _is_schema_path(new)] == []
    assert not set(RENAMED) & (set(GROUPS) - {"namespace"} | set(SECRET_KEYS))


def test_an_unknown_key_in_a_group_is_refused_naming_the_known_keys() -> None:
    assert only_problem({"app.replicaz": 3}) == (
        "flask-k8s:app.replicaz = 3: is not a key here; known: name, image, imagePullPolicy, rejectLatestTag, "
        "version, replicas, port, resources, rollout, termination, security, env, configFile, disruptionBudget, "
        "spreadZones"
    )


def test_an_unknown_key_deeper_in_a_group_names_the_keys_of_its_object() -> None:
    assert only_problem({"app.rollout.maxSurgee": 2}) == (
        "flask-k8s:app.rollout.maxSurgee = 2: is not a key here; known: maxSurge, maxUnavailable, "
        "progressDeadlineSeconds, timeoutSeconds"
    )


def test_an_unknown_key_that_looks_secret_is_refused_without_its_value() -> None:
    message = only_problem({"database.password": "hunter2-in-plain-text"})
    assert message == (
        "flask-k8s:database.password = (not shown: the name looks secret): is not a key here; "
        "known: host, port, user, name"
    )


@pytest.mark.parametrize("value", [5, "replicas=3", [1, 2], True])
def test_a_group_that_is_not_an_object_is_refused(value: object) -> None:
    assert only_problem({"app": value}) == f"flask-k8s:app = {value!r}: {NOT_AN_OBJECT}"


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"app.resources": "big"}, "app.resources"),
        ({"app.env": "big"}, "app.env"),
        ({"ingress.annotations": "big"}, "ingress.annotations"),
        ({"namespace.networkPolicy.egress": ["big"]}, "namespace.networkPolicy.egress.0"),
    ],
)
def test_a_nested_object_that_is_not_one_is_refused(overrides: dict[str, Any], path: str) -> None:
    assert only_problem(overrides) == f"flask-k8s:{path} = 'big': {NOT_AN_OBJECT}"


def test_snake_case_field_names_are_accepted_too() -> None:
    assert app_of({"app.rollout": {"max_surge": 2}}).workload.rollout.max_surge == 2


def test_pulumi_yaml_declares_each_group_as_an_empty_object_and_each_secret_as_a_string() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == set(GROUPS) | set(SECRET_KEYS)
    for key, spec in declared.items():
        assert {"type", "default", "description"} <= set(spec), key
        assert (spec["type"], spec["default"]) == (("object", {}) if key in GROUPS else ("string", "")), key


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_only_set_declared_keys(stack: str) -> None:
    keys = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert {k.removeprefix(f"{PROJECT}:") for k in keys} <= set(GROUPS) | set(SECRET_KEYS)


class _RecordingConfig(pulumi.Config):
    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.keys: set[str] = set()

    def _get(self, key: str, *args: Any, **kwargs: Any) -> Any:
        self.keys.add(key)
        return super()._get(key, *args, **kwargs)


@pytest.mark.parametrize("stack", STACKS)
def test_settings_read_exactly_the_declared_keys(stack: str) -> None:
    config = _RecordingConfig()
    pulumi.runtime.set_all_config(stack_config(stack), [])
    load_settings(config)
    assert config.keys == set(GROUPS) | set(SECRET_KEYS)


# --- Every problem at once -------------------------------------------------------------------------------


def test_problems_of_several_groups_are_listed_in_one_error() -> None:
    found = problems(
        {
            "cluster.kind.workers": 11,
            "app.replicas": 0,
            "app.image": "BAD",
            "namespace.name": "BAD",
            "service.type": "Nope",
            "tls.mode": "letsencrypt",
            "database.port": 0,
        }
    )
    assert blamed(found) == [
        "flask-k8s:cluster.kind.workers",
        "flask-k8s:app.image",
        "flask-k8s:app.replicas",
        "flask-k8s:namespace.name",
        "flask-k8s:service.type",
        "flask-k8s:tls.mode",
        "flask-k8s:database.port",
    ]


def test_the_error_message_lists_every_problem() -> None:
    pulumi.runtime.set_all_config(stack_config("dev", {"app.replicas": 0, "app.port": 0}), [])
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        "invalid stack configuration (2 problem(s)):\n"
        "  - flask-k8s:app.replicas = 0: input should be greater than or equal to 1\n"
        "  - flask-k8s:app.port = 0: input should be greater than or equal to 1"
    )


def test_rules_between_values_still_run_when_another_value_of_the_group_is_bad() -> None:
    found = problems({"app.replicas": 0, "app.rollout.maxSurge": 0, "app.image": "BAD"})
    assert blamed(found) == [
        "flask-k8s:app.image",
        "flask-k8s:app.replicas",
        "flask-k8s:app.rollout.maxSurge",
    ]


def test_rules_between_groups_still_run_when_another_value_of_a_group_is_bad() -> None:
    found = problems({"ingress.host": "BAD", "ingress.enabled": False, "app.port": 0, "namespace.quota.pods": 4})
    assert blamed(found) == [
        "flask-k8s:app.port",
        "flask-k8s:ingress.host",
        "flask-k8s:namespace.quota.pods",
        "flask-k8s:tls.mode",
    ]


def test_rules_still_run_when_an_item_of_a_list_in_the_group_is_bad() -> None:
    egress = [{"cidr": "10.0.0.0/8"}, {"cidr": "bad"}, {"cidr": "10.1.0.0/16", "port": 0}, {"port": 53}]
    found = problems({"namespace.networkPolicy.egress": egress, "namespace.quota.pods": 4})
    assert blamed(found) == [
        "flask-k8s:namespace.networkPolicy.egress.1.cidr",
        "flask-k8s:namespace.networkPolicy.egress.2.port",
        "flask-k8s:namespace.networkPolicy.egress.3.cidr",
        "flask-k8s:namespace.quota.pods",
    ]


@pytest.mark.parametrize(
    ("stack", "overrides", "path"),
    [
        # The default standing in for a wrong value must not be judged in its place.
        ("dev", {"app.resources.limits.cpu": "lots", "app.resources.requests.cpu": "600m"}, "app.resources.limits.cpu"),
        (
            "dev",
            {"app.termination.preStopSleepSeconds": "x", "app.termination.gracePeriodSeconds": 22},
            "app.termination.preStopSleepSeconds",
        ),
        ("kind-ci", {"app.rollout.progressDeadlineSeconds": 5}, "app.rollout.progressDeadlineSeconds"),
        ("dev", {"app.rollout.maxUnavailable": -1, "app.rollout.maxSurge": 0}, "app.rollout.maxUnavailable"),
        ("dev", {"app.replicas": 0, "namespace.quota.pods": 4}, "app.replicas"),
        ("dev", {"app.rollout.maxSurge": "x", "namespace.quota.pods": 4}, "app.rollout.maxSurge"),
        ("prod", {"autoscaling.maxReplicas": "x", "namespace.quota.pods": 4}, "autoscaling.maxReplicas"),
        ("prod", {"autoscaling.minReplicas": 0, "autoscaling.maxReplicas": 1}, "autoscaling.minReplicas"),
        ("prod", {"cluster.target": "cloud"}, "cluster.target"),
        ("prod", {"tls.mode": "acme", "tls.certManager.install": True}, "tls.mode"),
        ("dev", {"app.resources": "big", "namespace.quota.limits.cpu": "1"}, "app.resources"),
    ],
)
def test_a_rule_reading_a_wrong_value_says_nothing_more(stack: str, overrides: dict[str, Any], path: str) -> None:
    assert blamed(problems(overrides, stack)) == [f"flask-k8s:{path}"]


def test_a_wrong_database_host_is_not_reported_as_missing() -> None:
    found = problems({"database.host": "BAD", "databasePassword": "s3cr3t"}, "prod", secret_keys=["databasePassword"])
    assert blamed(found) == ["flask-k8s:database.host"]


def test_every_problem_of_the_stopping_values_at_once() -> None:
    found = problems(
        {
            "app.termination.preStopSleepSeconds": -1,
            "app.rollout.progressDeadlineSeconds": 5,
            "app.termination.gracefulTimeoutSeconds": "x",
        }
    )
    assert found == [
        "flask-k8s:app.rollout.progressDeadlineSeconds = 5: input should be greater than or equal to 10",
        "flask-k8s:app.termination.preStopSleepSeconds = -1: input should be greater than or equal to 0",
        "flask-k8s:app.termination.gracefulTimeoutSeconds = 'x': input should be a valid integer, unable to parse "
        "string as an integer",
    ]


def test_bad_config_stops_the_program_before_any_resource() -> None:
    deployment = run_stack("dev", {"app.replicas": 0}, expect_error=ConfigError)
    assert deployment.resources == []
    # A RunError: the engine prints the message alone, without a Python traceback.
    assert isinstance(deployment.error, pulumi.RunError)
    assert "flask-k8s:app.replicas = 0" in str(deployment.error)


def test_failed_run_still_raises_for_unexpected_errors() -> None:
    with pytest.raises(ConfigError):
        run_stack("dev", {"app.replicas": 0})


# --- One value, one message naming its path, its value and what is allowed --------------------------------


@pytest.mark.parametrize(
    ("path", "value", "allowed"),
    [
        ("app.replicas", 0, "input should be greater than or equal to 1"),
        ("app.replicas", -2, "input should be greater than or equal to 1"),
        ("app.replicas", "three", "input should be a valid integer, unable to parse string as an integer"),
        ("app.port", 70000, "input should be less than or equal to 65535"),
        ("app.rollout.maxSurge", -1, "input should be greater than or equal to 0"),
        ("app.security.runAsUser", 0, "input should be greater than or equal to 1"),
        ("app.spreadZones", "sometimes", "input should be a valid boolean, unable to interpret input"),
        ("cluster.kind.workers", 11, "input should be less than or equal to 10"),
        ("autoscaling.cpuUtilization", 0, "input should be greater than or equal to 1"),
        ("namespace.quota.pods", 0, "input should be greater than or equal to 1"),
        ("namespace.quota.services", 0, "input should be greater than or equal to 1"),
        ("namespace.quota.persistentVolumeClaims", -1, "input should be greater than or equal to 0"),
        ("database.port", 65536, "input should be less than or equal to 65535"),
        ("service.type", "Ingress", "input should be 'ClusterIP', 'NodePort' or 'LoadBalancer'"),
        ("tls.mode", "letsencrypt", "input should be 'self-signed', 'cert-manager', 'secret' or 'none'"),
        ("cluster.target", "cloud", "input should be 'kind' or 'existing'"),
        ("app.imagePullPolicy", "Sometimes", "input should be '', 'Always', 'IfNotPresent' or 'Never'"),
        ("namespace.podSecurity.enforce", "strict", "input should be 'privileged', 'baseline' or 'restricted'"),
        (
            "namespace.podSecurity.version",
            "latest",
            "must be a release such as v1.34 (a pinned Kubernetes minor version)",
        ),
        ("cluster.ingressController.exposure", "NodePort", "input should be 'hostPorts' or 'LoadBalancer'"),
        ("ingress.api", "httproute", "input should be 'ingress' or 'gateway'"),
        ("tls.certManager.version", "1.18", "must be a release such as v1.18.2"),
        ("app.version", "1.0 beta", "must be a valid label value: at most 63 of [A-Za-z0-9_.-]"),
    ],
)
def test_a_value_out_of_range(path: str, value: object, allowed: str) -> None:
    assert only_problem({path: value}) == f"flask-k8s:{path} = {value!r}: {allowed}"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("app.resources.requests.cpu", "100mm"),
        ("app.resources.limits.memory", "lots"),
        ("app.resources.limits.ephemeral-storage", "1 Gi"),
        ("app.resources.limits.cpu", "1K"),
        ("app.resources.limits.cpu", "inf"),
        ("app.resources.limits.cpu", "NaN"),
        ("app.resources.limits.memory", "1_000Mi"),
        ("namespace.quota.requests.memory", "8GB"),
        ("namespace.limits.default.ephemeral-storage", "lots"),
        ("app.resources.requests.cpu", True),
    ],
)
def test_quantities_must_parse(path: str, value: object) -> None:
    assert only_problem({path: value}) == f"flask-k8s:{path} = {value!r}: {QUANTITY}"


def test_a_quantity_must_not_be_negative() -> None:
    assert only_problem({"app.resources.requests.cpu": "-1"}) == (
        "flask-k8s:app.resources.requests.cpu = '-1': must not be negative"
    )


@pytest.mark.parametrize("value", ["2", "1.5", ".5", "250m", "100n", "1e3", "1E-1", "+1", "128Mi", "1Gi", "500k"])
def test_kubernetes_quantities_are_accepted(value: str) -> None:
    resources = app_of(
        {"app.resources.requests.cpu": value, "app.resources.limits.cpu": value}, None
    ).workload.resources
    assert (resources.cpu_request, resources.cpu_limit) == (value, value)


@pytest.mark.parametrize(("value", "text"), [(2, "2"), (0.5, "0.5")])
def test_a_yaml_number_is_a_quantity(value: float, text: str) -> None:
    assert app_of({"app.resources.limits.cpu": value}, stack=None).workload.resources.cpu_limit == text


@pytest.mark.parametrize("image", ["Flask-App:1.0", "flask-app:", "flask app", "flask-app:1.0@sha256:abc", ""])
def test_image_must_be_a_valid_reference(image: str) -> None:
    assert only_problem({"app.image": image}) == (
        f"flask-k8s:app.image = {image!r}: must be an image reference [registry[:port]/]path[:tag][@sha256:digest] "
        "with a lowercase path, e.g. flask-app:1.0 or ghcr.io/org/app@sha256:..."
    )


@pytest.mark.parametrize(
    "image",
    [
        "flask-app:1.0",
        "registry.example.com:5000/team/flask-app:v2.1.0",
        "team/flask-app@sha256:" + "a" * 64,
        "flask-app",
    ],
)
def test_valid_images_are_accepted(image: str) -> None:
    assert app_of({"app.image": image, "cluster.kind.loadImage": False}).workload.image == image


@pytest.mark.parametrize("host", ["Flask_App.local", "-bad.example.com", "a..b", "x" * 64 + ".example.com", ""])
def test_ingress_host_must_be_a_dns_name(host: str) -> None:
    assert only_problem({"ingress.host": host}) == (
        f"flask-k8s:ingress.host = {host!r}: must be {DNS_NAME} with an optional leading '*.', "
        "e.g. flask-app.example.com"
    )


def test_a_wildcard_ingress_host_is_accepted() -> None:
    route = app_of({"ingress.host": "*.apps.example.com", "tls.mode": "none"}).route
    assert route is not None and route.gateway is None
    assert (route.host, route.tls) == ("*.apps.example.com", RouteTls())


@pytest.mark.parametrize(
    "host", ["postgres db", "Postgres", "db..internal", "db.example.com:5432", "*.db.internal", "x" * 64 + ".internal"]
)
def test_database_host_must_be_a_dns_name_or_an_ip_address(host: str) -> None:
    assert only_problem({"database.host": host}) == (
        f"flask-k8s:database.host = {host!r}: must be {DNS_NAME} or an IP address, "
        "e.g. postgres.databases.svc.cluster.local"
    )


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("namespace.name", "a namespace name"),
        ("namespace.networkPolicy.ingressControllerNamespace", "a namespace name"),
        ("app.name", "the Deployment name and 'app' label"),
        ("cluster.kind.name", "a Kind cluster name"),
        ("ingress.className", "an IngressClass name"),
        ("tls.secretName", "a Secret name"),
        ("tls.certManager.clusterIssuer", "a ClusterIssuer name"),
    ],
)
def test_names_over_63_characters(path: str, what: str) -> None:
    name = "n" * 64
    assert (
        only_problem({path: name}) == f"flask-k8s:{path} = {name!r}: {what} must be at most 63 characters (it has 64)"
    )


@pytest.mark.parametrize(
    ("path", "value", "what"),
    [("namespace.name", "Flask", "a namespace name"), ("tls.secretName", "tls_secret", "a Secret name")],
)
def test_names_must_be_dns_labels(path: str, value: str, what: str) -> None:
    assert only_problem({path: value}) == (
        f"flask-k8s:{path} = {value!r}: {what} must be lowercase letters, digits and '-', starting with a lowercase "
        "letter or digit and ending with a letter or digit"
    )


def test_app_name_must_be_a_dns_1035_label() -> None:
    assert only_problem({"app.name": "1app"}) == (
        "flask-k8s:app.name = '1app': the Deployment name and 'app' label must be lowercase letters, digits and '-', "
        "starting with a lowercase letter and ending with a letter or digit"
    )


def test_app_name_whose_derived_service_name_is_too_long() -> None:
    name = "a" * 60
    assert only_problem({"app.name": name}) == (
        f"flask-k8s:app.name = {name!r}: the derived names {name + '-service'!r} and <name>-ingress must be at most "
        "63 characters"
    )


@pytest.mark.parametrize("path", ["ingress.annotations", "service.annotations"])
def test_annotation_keys_must_be_annotation_keys(path: str) -> None:
    assert only_problem({path: {"bad key!": "x"}}) == (
        f"flask-k8s:{path} = {{'bad key!': 'x'}}: 'bad key!': each key must be an annotation key ([prefix/]name)"
    )


def test_kind_node_image_defaults_to_kinds_own_and_can_be_pinned() -> None:
    image = "kindest/node:v1.34.0@sha256:" + "a" * 64
    assert load().cluster.kind == KindClusterArgs(cluster_name="devops-lab")
    assert load({"cluster.kind.nodeImage": image}).cluster.kind == KindClusterArgs("devops-lab", node_image=image)


@pytest.mark.parametrize("image", ["kindest/node:", "Kindest/Node:v1.34.0", "kindest/node v1.34.0", "node;true"])
def test_kind_node_image_must_be_a_valid_reference(image: str) -> None:
    assert only_problem({"cluster.kind.nodeImage": image}).startswith(
        f"flask-k8s:cluster.kind.nodeImage = {image!r}: must be an image reference [registry[:port]/]path[:tag]"
    )


@pytest.mark.parametrize("cidr", ["10.0.12.1/24", "db.internal", "10.0.0.0/33"])
def test_an_egress_rule_is_a_network(cidr: str) -> None:
    assert only_problem({"namespace.networkPolicy.egress": [{"cidr": cidr}]}) == (
        f"flask-k8s:namespace.networkPolicy.egress.0.cidr = {cidr!r}: must be a network in CIDR notation, "
        "e.g. 10.0.12.0/24"
    )


def test_an_egress_rule_needs_its_network() -> None:
    assert only_problem({"namespace.networkPolicy.egress": [{"port": 5432}]}) == (
        "flask-k8s:namespace.networkPolicy.egress.0.cidr = (unset): is required"
    )


@pytest.mark.parametrize(
    ("port", "allowed"),
    [(0, "greater than or equal to 1"), (65536, "less than or equal to 65535")],
)
def test_an_egress_port_is_a_tcp_port(port: int, allowed: str) -> None:
    assert only_problem({"namespace.networkPolicy.egress": [{"cidr": "10.0.0.0/8", "port": port}]}) == (
        f"flask-k8s:namespace.networkPolicy.egress.0.port = {port}: input should be {allowed}"
    )


def test_egress_rules_are_networks_with_optional_ports() -> None:
    egress = [{"cidr": "10.0.12.0/24", "port": 5432}, {"cidr": "192.168.0.0/16"}]
    policy = app_of({"namespace.networkPolicy.egress": egress}).network_policy
    assert policy is not None
    assert [(e.cidr, e.port) for e in policy.egress] == [("10.0.12.0/24", 5432), ("192.168.0.0/16", None)]
    assert policy.ingress_namespaces == ["traefik"]


# --- Rules between values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "wanted", "limit"),
    [("cpu", "600m", "500m"), ("memory", "1Gi", "256Mi"), ("ephemeral-storage", "1Gi", "256Mi")],
)
def test_a_request_must_not_exceed_its_limit(resource: str, wanted: str, limit: str) -> None:
    assert only_problem({f"app.resources.requests.{resource}": wanted}) == (
        f"flask-k8s:app.resources.requests.{resource} = {wanted!r}: must not exceed "
        f"flask-k8s:app.resources.limits.{resource} = {limit!r}"
    )


def test_the_rollout_must_be_able_to_move() -> None:
    assert only_problem({"app.rollout.maxSurge": 0}) == (
        "flask-k8s:app.rollout.maxSurge = 0: and app.rollout.maxUnavailable cannot both be 0 (the rollout could not "
        "move)"
    )
    assert app_of({"app.rollout.maxSurge": 0, "app.rollout.maxUnavailable": 1}).workload.rollout.max_surge == 0


def test_the_grace_period_must_cover_the_pause_and_the_graceful_stop() -> None:
    assert only_problem({"app.termination.gracePeriodSeconds": 25}) == (
        "flask-k8s:app.termination.gracePeriodSeconds = 25: must exceed preStopSleepSeconds + gracefulTimeoutSeconds "
        "= 5 + 20 = 25, or the kubelet kills requests still in flight"
    )
    assert app_of({"app.termination.gracePeriodSeconds": 26}).workload.termination.grace_period_seconds == 26
    assert only_problem(
        {"app.termination.preStopSleepSeconds": 8, "app.termination.gracefulTimeoutSeconds": 30}
    ).startswith("flask-k8s:app.termination.gracePeriodSeconds = 30: must exceed preStopSleepSeconds")


def test_the_deployment_timeout_must_not_cut_the_progress_deadline_short() -> None:
    # The provider's await only reports the deadline's reason if the deadline passed before its timeout.
    assert only_problem({"app.rollout.progressDeadlineSeconds": 120, "app.rollout.timeoutSeconds": 149}) == (
        "flask-k8s:app.rollout.timeoutSeconds = 149: must be at least app.rollout.progressDeadlineSeconds + 30 = 150: "
        "a stuck rollout should fail with the Deployment's own reason (ProgressDeadlineExceeded), not a bare timeout"
    )
    rollout = app_of({"app.rollout.progressDeadlineSeconds": 120, "app.rollout.timeoutSeconds": 150}).workload.rollout
    assert (rollout.progress_deadline_seconds, rollout.timeout_seconds) == (120, 150)


def test_stopping_and_rollout_defaults() -> None:
    app = app_of()
    assert (app.workload.termination.pre_stop_sleep_seconds, app.workload.termination.grace_period_seconds) == (5, 30)
    assert (app.workload.rollout.progress_deadline_seconds, app.workload.rollout.timeout_seconds) == (300, 360)


def test_autoscaling_bounds_must_be_ordered() -> None:
    assert only_problem({"autoscaling.minReplicas": 5, "autoscaling.maxReplicas": 3}, stack="prod") == (
        "flask-k8s:autoscaling.maxReplicas = 3: must be at least flask-k8s:autoscaling.minReplicas = 5"
    )


def test_autoscaling_bounds_are_compared_while_it_is_off() -> None:
    # dev has no HPA: bounds that are wrong now would be found only the day it is turned on.
    assert only_problem({"autoscaling.minReplicas": 5, "autoscaling.maxReplicas": 3}) == (
        "flask-k8s:autoscaling.maxReplicas = 3: must be at least flask-k8s:autoscaling.minReplicas = 5"
    )


@pytest.mark.parametrize("stack", ["prod", "local"])
def test_replicas_set_while_autoscaling_is_refused(stack: str) -> None:
    assert only_problem({"app.replicas": 3}, stack=stack) == (
        "flask-k8s:app.replicas = 3: means nothing while autoscaling.enabled: the HPA owns the count"
    )


def test_replicas_are_the_count_without_autoscaling() -> None:
    app = app_of({"app.replicas": 5})
    assert (app.workload.scale.replicas, app.workload.scale.autoscaling) == (5, None)


@pytest.mark.parametrize("image", ["registry.example.com/app:latest", "registry.example.com/app"])
def test_reject_latest_tag_refuses_a_mutable_tag(image: str) -> None:
    assert only_problem({"app.image": image}, stack="prod") == (
        f"flask-k8s:app.image = {image!r}: must name a fixed tag or a digest: app.rejectLatestTag refuses 'latest'"
    )


@pytest.mark.parametrize(
    ("stack", "image"),
    [
        ("prod", "registry.example.com/app@sha256:" + "0" * 64),
        ("prod", "registry.example.com/app:1.2"),
        ("dev", "flask-app:latest"),
    ],
)
def test_fixed_tags_and_digests_pass_and_latest_is_allowed_by_default(stack: str, image: str) -> None:
    assert app_of({"app.image": image}, stack=stack).workload.image == image


def test_a_kind_node_image_needs_a_cluster_created_by_the_stack() -> None:
    assert only_problem({"cluster.kind.nodeImage": "kindest/node:v1.34.0", "cluster.kind.create": False}) == (
        "flask-k8s:cluster.kind.nodeImage = 'kindest/node:v1.34.0': only applies with cluster.kind.create true"
    )


def test_the_kind_target_refuses_a_kube_context() -> None:
    assert only_problem({"cluster.context": "somewhere"}) == (
        "flask-k8s:cluster.target = 'kind': kind takes its kubeconfig from Kind: unset kubeconfig and cluster.context"
    )


def test_the_kind_target_refuses_a_kubeconfig() -> None:
    assert only_problem({"kubeconfig": "apiVersion: v1"}, secret_keys=["kubeconfig"]) == (
        "flask-k8s:cluster.target = 'kind': kind takes its kubeconfig from Kind: unset kubeconfig and cluster.context"
    )


def test_the_existing_target_needs_a_context_or_a_kubeconfig() -> None:
    assert only_problem({"cluster.context": ""}, stack="prod") == (
        "flask-k8s:cluster.context = '': the existing target needs it, or a kubeconfig (pulumi config set --secret "
        "kubeconfig ...)"
    )
    cluster = load({"cluster.context": "", "kubeconfig": "apiVersion: v1"}, "prod", secret_keys=["kubeconfig"]).cluster
    assert cluster.context is None
    assert cluster.kubeconfig is not None
    assert resolve(cluster.kubeconfig) == ("apiVersion: v1", True)


def test_a_load_balancer_on_kind_is_refused() -> None:
    assert only_problem({"service.type": "LoadBalancer"}) == (
        "flask-k8s:service.type = 'LoadBalancer': needs a cloud load balancer, which Kind has not: use ClusterIP"
    )


def test_an_image_loaded_into_kind_cannot_be_pinned_by_digest() -> None:
    image = "flask-app@sha256:" + "a" * 64
    assert only_problem({"app.image": image}) == (
        f"flask-k8s:app.image = {image!r}: cannot be pinned by digest when cluster.kind.loadImage builds it locally"
    )


def test_every_old_ingress_nginx_key_is_refused_with_its_new_path() -> None:
    found = problems({"cluster.ingressNginx.install": True, "cluster.ingressNginx.version": "controller-v1.14.3"})
    assert found == [
        "flask-k8s:cluster.ingressNginx.install = True: was renamed: set `pulumi config set --path "
        "cluster.ingressController.install ...` instead; cluster.ingressController.install (Traefik; ingress-nginx "
        "is retired)",
        "flask-k8s:cluster.ingressNginx.version = 'controller-v1.14.3': was renamed: set `pulumi config set --path "
        "cluster.ingressController.image ...` instead; cluster.ingressController.image (traefik:v<version>; "
        "ingress-nginx is retired)",
    ]


def test_the_flat_layouts_ingress_nginx_keys_point_to_the_controller() -> None:
    found = problems({"installIngressNginx": True, "ingressNginxVersion": "controller-v1.14.3"})
    assert found == [
        "flask-k8s:ingressNginxVersion was renamed: set `pulumi config set --path "
        "cluster.ingressController.image ...` instead (README)",
        "flask-k8s:installIngressNginx was renamed: set `pulumi config set --path "
        "cluster.ingressController.install ...` instead (README)",
    ]


def test_the_controller_can_be_installed_on_an_existing_cluster_behind_a_load_balancer() -> None:
    settings = load(
        {"cluster.ingressController.install": True, "cluster.ingressController.exposure": "LoadBalancer"}, stack="prod"
    )
    assert settings.cluster.ingress_controller is not None
    assert settings.cluster.ingress_controller.exposure == "LoadBalancer"


def test_kind_has_no_load_balancer_for_the_controller() -> None:
    assert only_problem({"cluster.ingressController.exposure": "LoadBalancer"}) == (
        "flask-k8s:cluster.ingressController.exposure = 'LoadBalancer': needs a cloud load balancer, which Kind has "
        "not: use hostPorts"
    )


def test_offline_the_controllers_crds_come_from_a_folder() -> None:
    controller = load({"cluster.ingressController.crds.dir": "/cache/crds/"}).cluster.ingress_controller
    assert controller is not None
    assert controller.crds == CrdSources.folder("/cache/crds")
    assert load({"cluster.ingressController.crds.install": False}).cluster.ingress_controller.crds is None  # type: ignore[union-attr]


def test_a_gateway_route_on_the_programs_traefik_carries_the_body_limit() -> None:
    app = app_of({"ingress.api": "gateway"})
    assert app.route is not None and app.route.gateway is not None
    assert app.route.tls == RouteTls("self-signed", "flask-app-tls")
    assert (app.route.gateway.class_name, app.route.gateway.max_body_bytes) == ("traefik", 5 * 2**20)
    assert gateway_of(app_of({"ingress.api": "gateway", "ingress.gateway.maxBodySize": "10m"})).max_body_bytes == (
        10 * 2**20
    )


def test_a_gateway_route_on_another_class_has_no_traefik_middleware() -> None:
    app = app_of({"ingress.api": "gateway", "ingress.gateway.className": "gke-l7-rilb"})
    assert app.route is not None and app.route.gateway is not None and app.route.gateway.max_body_bytes is None
    assert only_problem(
        {"ingress.api": "gateway", "ingress.gateway.className": "gke-l7-rilb", "ingress.gateway.maxBodySize": "5m"}
    ) == (
        "flask-k8s:ingress.gateway.maxBodySize = '5m': is enforced through Traefik's Middleware: only on a Gateway of "
        "the class cluster.ingressController installs; set the limit in your Gateway's own policy instead"
    )


def test_a_route_on_a_shared_gateway() -> None:
    shared = {
        "ingress.api": "gateway",
        "ingress.gateway.shared.name": "platform",
        "ingress.gateway.shared.namespace": "gateways",
        "ingress.gateway.shared.sectionName": "https",
        "tls.mode": "none",
    }
    app = app_of(shared)
    assert app.route is not None and app.route.gateway is not None
    assert app.route.gateway.shared == SharedGateway("platform", "gateways", "https")
    assert (app.route.tls, app.route.gateway.max_body_bytes) == (RouteTls(), None)
    assert only_problem({**shared, "tls.mode": "self-signed"}) == (
        "flask-k8s:tls.mode = 'self-signed': a shared Gateway (ingress.gateway.shared) terminates TLS itself: set "
        "tls.mode none"
    )
    assert only_problem({**shared, "ingress.gateway.shared.namespace": ""}) == (
        "flask-k8s:ingress.gateway.shared.namespace = '': is required with ingress.gateway.shared.name"
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [("ingress.gateway.shared.namespace", "gateways"), ("ingress.gateway.shared.sectionName", "https")],
)
def test_a_shared_gateways_details_need_its_name(path: str, value: str) -> None:
    assert only_problem({path: value}) == f"flask-k8s:{path} = {value!r}: only applies with ingress.gateway.shared.name"


def test_ingress_annotations_mean_nothing_to_a_gateway_route() -> None:
    assert only_problem({"ingress.api": "gateway", "ingress.annotations": {"a.example.com/x": "1"}}) == (
        "flask-k8s:ingress.annotations = {'a.example.com/x': '1'}: are the Ingress's (ingress.api ingress); a Gateway "
        "API route takes none (see ingress.gateway)"
    )


@pytest.mark.parametrize("size", ["5 m", "5mb", "-1", "5.5m", "m"])
def test_a_gateway_body_size_is_nginx_grammar(size: str) -> None:
    assert only_problem({"ingress.gateway.maxBodySize": size}) == (
        f"flask-k8s:ingress.gateway.maxBodySize = {size!r}: must be a size as ingress-nginx writes it: bytes, or a "
        "number with k, m or g (e.g. 5m)"
    )


def test_tls_needs_a_route() -> None:
    assert only_problem({"ingress.enabled": False}) == (
        "flask-k8s:tls.mode = 'self-signed': terminates TLS at the route: set ingress.enabled true or tls.mode none"
    )
    settings = load({"ingress.enabled": False, "tls.mode": "none"})
    assert settings.app.route is None


@pytest.mark.parametrize(
    ("mode", "tls"),
    [
        ("self-signed", RouteTls("self-signed", "flask-app-tls")),
        ("secret", RouteTls("secret", "flask-app-tls")),
        ("none", RouteTls()),
    ],
)
def test_tls_modes_without_cert_manager(mode: str, tls: RouteTls) -> None:
    settings = load({"tls.mode": mode})
    route = settings.app.route
    assert route is not None and route.gateway is None
    assert route.tls == tls
    assert "cert-manager.io/cluster-issuer" not in route.ingress.annotations
    assert (settings.tls.mode, settings.tls.cert_manager) == (mode, None)


def test_cert_manager_is_installed_only_in_its_mode() -> None:
    assert only_problem({"tls.certManager.install": True}) == (
        "flask-k8s:tls.certManager.install = True: only applies with tls.mode cert-manager"
    )


def test_installing_cert_manager_needs_an_acme_email() -> None:
    overrides = {"tls.certManager.install": True, "tls.certManager.acmeEmail": ""}
    assert only_problem(overrides, stack="prod") == (
        "flask-k8s:tls.certManager.acmeEmail = '': must be an e-mail address when install is true"
    )


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("ops", "An email address must have an @-sign."),
        ("ops@example", "The part after the @-sign is not valid. It should have a period."),
        ("ops@@example.com", "The part after the @-sign contains invalid characters: '@'."),
        ("ops @example.com", "The email address contains invalid characters before the @-sign: SPACE."),
        ("a@b@example.com", "The part after the @-sign contains invalid characters: '@'."),
    ],
)
@pytest.mark.parametrize(("stack", "install"), [("prod", True), ("prod", False), ("dev", False)])
def test_an_acme_email_is_an_email_whether_or_not_cert_manager_is_installed(
    email: str, why: str, stack: str, install: bool
) -> None:
    # dev's tls.mode is self-signed: the address is used by nothing there, and still refused.
    overrides = {"tls.certManager.install": install, "tls.certManager.acmeEmail": email}
    if install:
        overrides["tls.mode"] = "cert-manager"
    assert only_problem(overrides, stack=stack) == (
        f"flask-k8s:tls.certManager.acmeEmail = {email!r}: must be an e-mail address such as ops@example.com ({why})"
    )


def test_cert_manager_installed_by_the_stack() -> None:
    overrides = {"tls.certManager.install": True, "tls.certManager.acmeEmail": "ops@example.com"}
    manager = load(overrides, stack="prod").tls.cert_manager
    assert manager is not None
    assert (manager.version, manager.cluster_issuer, manager.acme_email) == (
        "v1.18.2",
        "letsencrypt-prod",
        "ops@example.com",
    )


# --- The quota and the LimitRange: derived from the app unless set --------------------------------------


@pytest.mark.parametrize("stack", [None, "kind-ci"])
def test_the_quota_is_the_peak_of_a_rollout_times_the_app_per_pod(stack: str | None) -> None:
    # replicas 3 + surge 1 + stopping 1 = 5 pods x (100m, 128Mi) requests and (500m, 256Mi) limits.
    assert app_of(stack=stack).namespace.quota == QuotaSpec(
        requests_cpu="500m",
        requests_memory="640Mi",
        limits_cpu="2500m",
        limits_memory="1280Mi",
        pods=5,
        services=10,
        persistent_volume_claims=5,
    )


def test_stopping_pods_follow_max_unavailable() -> None:
    # maxUnavailable 1 lets the rollout stop one more old pod at a time: 3 + 1 + 2 = 6 pods.
    quota = app_of({"app.rollout.maxUnavailable": 1}, stack=None).namespace.quota
    assert (quota.pods, quota.requests_cpu, quota.limits_memory) == (6, "600m", "1536Mi")


def test_the_quota_follows_the_app_resources_in_whole_units_when_it_can() -> None:
    overrides = {"app.replicas": 2, "app.resources.requests.cpu": "250m", "app.resources.limits.memory": "1Gi"}
    quota = app_of(overrides, stack=None).namespace.quota
    assert (quota.pods, quota.requests_cpu, quota.limits_memory) == (4, "1", "4Gi")


def test_a_quota_value_set_by_the_stack_wins_over_the_derived_one() -> None:
    overrides = {"namespace.quota.requests.cpu": "3", "namespace.quota.pods": 12, "namespace.quota.services": 3}
    quota = app_of(overrides, stack=None).namespace.quota
    assert quota == QuotaSpec("3", "640Mi", "2500m", "1280Mi", pods=12, services=3, persistent_volume_claims=5)


def test_a_set_pod_quota_must_hold_the_peak() -> None:
    assert only_problem({"namespace.quota.pods": 4}, stack=None) == (
        "flask-k8s:namespace.quota.pods = 4: must allow app.replicas + maxSurge + stopping (maxSurge + "
        "maxUnavailable) = 3 + 1 + 1 = 5 pods during a rolling update"
    )
    assert only_problem({"namespace.quota.pods": 5, "app.rollout.maxUnavailable": 1}, stack=None).startswith(
        "flask-k8s:namespace.quota.pods = 5: must allow app.replicas + maxSurge + stopping (maxSurge + "
        "maxUnavailable) = 3 + 1 + 2 = 6 pods"
    )


@pytest.mark.parametrize(
    ("path", "hard", "per_pod"),
    [
        ("requests.cpu", "499m", "100m"),
        ("requests.memory", "500Mi", "128Mi"),
        ("limits.cpu", "2", "500m"),
        ("limits.memory", "1Gi", "256Mi"),
    ],
)
def test_a_set_quota_too_small_for_the_peak_is_refused(path: str, hard: str, per_pod: str) -> None:
    assert only_problem({f"namespace.quota.{path}": hard}, stack=None) == (
        f"flask-k8s:namespace.quota.{path} = {hard!r}: must fit (app.replicas + maxSurge + stopping (maxSurge + "
        f"maxUnavailable) = 3 + 1 + 1) x app.resources.{path} {per_pod} during a rolling update; raise it, unset it "
        "(derived), or lower the pod count or per-pod value"
    )


def test_the_articles_quota_holds_14_replicas_but_not_15() -> None:
    # (14 + 1 + 1) x 500m = 8 CPU of limits: exactly dev's quota; 15 would need 8.5.
    assert app_of({"app.replicas": 14}).workload.scale.replicas == 14
    assert only_problem({"app.replicas": 15}).startswith(
        "flask-k8s:namespace.quota.limits.cpu = '8': must fit (app.replicas + maxSurge + stopping (maxSurge + "
        "maxUnavailable) = 15 + 1 + 1) x app.resources.limits.cpu 500m"
    )


def test_the_autoscaling_maximum_must_fit_a_set_quota() -> None:
    overrides: dict[str, Any] = {"autoscaling.enabled": True, "autoscaling.maxReplicas": 15}
    assert only_problem(overrides).startswith(
        "flask-k8s:namespace.quota.limits.cpu = '8': must fit (autoscaling.maxReplicas + maxSurge + stopping "
        "(maxSurge + maxUnavailable) = 15 + 1 + 1) x app.resources.limits.cpu 500m"
    )
    assert app_of({**overrides, "autoscaling.maxReplicas": 14}).namespace.quota.limits_cpu == "8"


def test_the_limit_range_defaults_are_the_app_resources() -> None:
    assert app_of(stack=None).namespace.limit_range == LimitRangeSpec(
        default_cpu="500m",
        default_memory="256Mi",
        default_request_cpu="100m",
        default_request_memory="128Mi",
        default_ephemeral_storage="256Mi",
        default_request_ephemeral_storage="64Mi",
    )
    limits = app_of(
        {"app.resources.limits.cpu": "1", "app.resources.requests.memory": "200Mi"}, stack=None
    ).namespace.limit_range
    assert (limits.default_cpu, limits.default_request_memory) == ("1", "200Mi")


def test_a_limit_range_value_set_by_the_stack_wins() -> None:
    overrides = {"namespace.limits.default.cpu": "300m", "namespace.limits.defaultRequest.ephemeral-storage": "32Mi"}
    limits = app_of(overrides, stack=None).namespace.limit_range
    assert (limits.default_cpu, limits.default_memory) == ("300m", "256Mi")
    assert (limits.default_request_ephemeral_storage, limits.default_ephemeral_storage) == ("32Mi", "256Mi")


def test_a_limit_range_default_request_must_not_exceed_its_default_limit() -> None:
    overrides = {"namespace.limits.defaultRequest.cpu": "600m", "namespace.limits.default.cpu": "550m"}
    assert only_problem(overrides, stack=None) == (
        "flask-k8s:namespace.limits.defaultRequest.cpu = '600m': must not exceed "
        "flask-k8s:namespace.limits.default.cpu = '550m'"
    )


def test_a_limit_range_default_request_must_not_exceed_the_derived_default_limit() -> None:
    # Unset, the default limit is the app's limit: Kubernetes refuses a LimitRange whose default
    # request exceeds its default limit.
    assert only_problem({"namespace.limits.defaultRequest.cpu": "600m"}, stack=None) == (
        "flask-k8s:namespace.limits.defaultRequest.cpu = '600m': must not exceed "
        "flask-k8s:app.resources.limits.cpu = '500m' (the LimitRange's default while "
        "namespace.limits.default.cpu is unset)"
    )


def test_a_limit_range_default_limit_must_not_be_below_the_derived_default_request() -> None:
    assert only_problem({"namespace.limits.default.memory": "64Mi"}, stack=None) == (
        "flask-k8s:namespace.limits.default.memory = '64Mi': must be at least "
        "flask-k8s:app.resources.requests.memory = '128Mi' (the LimitRange's defaultRequest while "
        "namespace.limits.defaultRequest.memory is unset)"
    )


# --- The app's environment ---------------------------------------------------------------------------------


def test_app_env_is_merged_over_the_defaults() -> None:
    env = app_of({"app.env.MAX_CONNECTIONS": "100", "app.env.WORKERS": "2"}, stack=None).config.env
    assert env == {
        "FLASK_ENV": "production",
        "FLASK_APP": "app.py",
        "LOG_LEVEL": "info",
        "WORKERS": "2",
        "MAX_CONNECTIONS": "100",
        "GRACEFUL_TIMEOUT": "20",
    }


@pytest.mark.parametrize(("value", "text"), [(8, "8"), (True, "true"), (False, "false"), (1.5, "1.5")])
def test_a_yaml_number_or_bool_in_env_becomes_a_string(value: object, text: str) -> None:
    assert app_of({"app.env.FEATURE": value}).config.env["FEATURE"] == text


def test_the_graceful_timeout_comes_from_its_own_key() -> None:
    overrides = {"app.termination.gracefulTimeoutSeconds": 25, "app.termination.gracePeriodSeconds": 40}
    assert app_of(overrides).config.env["GRACEFUL_TIMEOUT"] == "25"


def test_the_graceful_timeout_is_refused_in_app_env() -> None:
    assert only_problem({"app.env.GRACEFUL_TIMEOUT": 5}) == (
        "flask-k8s:app.env.GRACEFUL_TIMEOUT = '5': is set by flask-k8s:app.termination.gracefulTimeoutSeconds; "
        "change that instead"
    )


@pytest.mark.parametrize("name", ["API_TOKEN", "DB_PASSWORD", "jwt_secret", "STRIPE_API_KEY", "AWS_CREDENTIALS"])
def test_a_secret_looking_env_name_is_refused_without_its_value(name: str) -> None:
    message = only_problem({f"app.env.{name}": "s3cr3t-value"})
    assert message == (
        f"flask-k8s:app.env.{name} looks like a secret (password/token/key): ConfigMaps are not encrypted, give it "
        "as a secret instead"
    )
    assert "s3cr3t-value" not in message


def test_a_secret_looking_env_value_of_the_wrong_type_is_not_echoed() -> None:
    assert only_problem({"app.env.DB_PASSWORD": ["s3cr3t-value"]}) == (
        "flask-k8s:app.env.DB_PASSWORD = (not shown: the name looks secret): input should be a valid string"
    )


@pytest.mark.parametrize("name", ["bad-name", "1ST", "A B", "DB-PASSWORD"])
def test_env_names_must_be_environment_variable_names(name: str) -> None:
    assert only_problem({"app.env": {name: "x", "OTHER": "y"}}) == (
        f"flask-k8s:app.env.{name} = {name!r}: must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
    )


def test_a_bad_env_name_neither_echoes_the_env_nor_hides_a_secret_looking_one() -> None:
    found = problems({"app.env": {"DB_PASSWORD": "s3cr3t-value", "bad-name": "x"}})
    assert blamed(found) == ["flask-k8s:app.env.bad-name", "flask-k8s:app.env.DB_PASSWORD"]
    assert not [p for p in found if "s3cr3t-value" in p]


@pytest.mark.parametrize("level", ["debug", "info", "warning", "error", "critical"])
def test_log_levels_are_gunicorns(level: str) -> None:
    assert app_of({"app.env.LOG_LEVEL": level}).config.env["LOG_LEVEL"] == level


@pytest.mark.parametrize("level", ["loud", "INFO", ""])
def test_an_unknown_log_level_is_refused(level: str) -> None:
    assert only_problem({"app.env.LOG_LEVEL": level}) == (
        f"flask-k8s:app.env.LOG_LEVEL = {level!r}: must be one of: debug, info, warning, error, critical"
    )


@pytest.mark.parametrize("workers", [0, 65, "many", "4.5", -1, ""])
def test_workers_must_be_a_count_of_gunicorn_workers(workers: object) -> None:
    assert only_problem({"app.env.WORKERS": workers}) == (
        f"flask-k8s:app.env.WORKERS = {str(workers)!r}: must be a whole number of gunicorn workers, 1 to 64"
    )


@pytest.mark.parametrize("workers", [1, 64])
def test_workers_from_1_to_64_are_accepted(workers: int) -> None:
    assert app_of({"app.env.WORKERS": workers}).config.env["WORKERS"] == str(workers)


# --- The database ---------------------------------------------------------------------------------------------


def test_without_a_database_host_the_app_uses_sqlite() -> None:
    assert app_of(stack=None).secrets.database is None
    assert app_of({"database.user": "someone", "database.port": 6543}, stack=None).secrets.database is None


def test_a_database_host_gives_the_app_a_database_server() -> None:
    overrides = {"database.host": "db.internal", "database.port": 6432, "database.user": "app", "database.name": "x"}
    assert app_of(overrides, stack=None).secrets.database == DatabaseSpec(
        user="app", host="db.internal", port=6432, name="x"
    )
    assert app_of({"database.host": "db.internal"}, stack=None).secrets.database == DatabaseSpec(
        "flask", "db.internal", 5432, "flask"
    )


@pytest.mark.parametrize("host", ["postgres", "db.prod.internal", "10.0.12.5", "fd00::5"])
def test_database_host_accepts_dns_names_and_ip_addresses(host: str) -> None:
    database = app_of({"database.host": host}).secrets.database
    assert database is not None
    assert database.host == host


PG_RULE = (
    "an unquoted PostgreSQL identifier: lowercase letters, digits, '_' and '$', not starting with a digit or '$', "
    "at most 63 bytes"
)


@pytest.mark.parametrize("field", ["user", "name"])
@pytest.mark.parametrize("value", ["x" * 64, "Flask", "flask-app", "1flask", "$flask", "", "fläsk", "a b"])
@pytest.mark.parametrize("stack", [None, "prod"])
def test_database_identifiers_follow_postgresqls_limits_with_or_without_a_host(
    field: str, value: str, stack: str | None
) -> None:
    # Without database.host (stack None) the values are unused, and refused all the same.
    what = "a PostgreSQL role name" if field == "user" else "a PostgreSQL database name"
    assert only_problem({f"database.{field}": value}, stack=stack) == (
        f"flask-k8s:database.{field} = {value!r}: must be {what}: {PG_RULE}"
    )


@pytest.mark.parametrize("value", ["x" * 63, "_flask", "flask_app2", "app$1"])
def test_database_identifiers_up_to_63_bytes_are_accepted(value: str) -> None:
    database = app_of({"database.host": "db.internal", "database.user": value, "database.name": value}).secrets.database
    assert database == DatabaseSpec(user=value, host="db.internal", port=5432, name=value)


def test_a_database_user_cannot_take_a_reserved_role_name() -> None:
    assert only_problem({"database.user": "pg_flask"}, stack=None) == (
        "flask-k8s:database.user = 'pg_flask': must not start with 'pg_': PostgreSQL reserves those role names"
    )
    assert app_of({"database.host": "db", "database.name": "pg_flask"}).secrets.database == DatabaseSpec(
        "flask", "db", 5432, "pg_flask"
    )


def test_a_database_password_without_a_database_host_is_refused() -> None:
    message = only_problem({"databasePassword": "s3cr3t-value"}, stack=None, secret_keys=["databasePassword"])
    assert message == "flask-k8s:databasePassword is set but no database.host: there is no database to use it"
    assert "s3cr3t-value" not in message


def test_a_database_password_is_used_and_stays_secret() -> None:
    overrides = {"databasePassword": "from-config", "database.host": "db.internal"}
    app = load(overrides, stack=None, secret_keys=["databasePassword"]).app
    assert app.secrets.database_password is not None
    assert resolve(app.secrets.database_password) == ("from-config", True)


# --- Secrets ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SECRET_KEYS))
def test_a_secret_in_plain_text_is_refused_without_echoing_it(key: str) -> None:
    message = only_problem({key: "s3cr3t-in-plain-text"}, stack=None)
    assert message == (
        f"flask-k8s:{key} is stored in plain text: set it with `pulumi config set --secret {key} ...` or leave it empty"
    )
    assert "s3cr3t-in-plain-text" not in message


@pytest.mark.parametrize(("key", "field"), [("secretKey", "secret_key"), ("jwtSecretKey", "jwt_secret_key")])
def test_app_secrets_are_used_and_stay_secret(key: str, field: str) -> None:
    app = load({key: "from-config"}, stack=None, secret_keys=[key]).app
    assert resolve(getattr(app.secrets, field)) == ("from-config", True)


def test_secrets_left_empty_are_generated() -> None:
    app = app_of(stack=None)
    assert (app.secrets.secret_key, app.secrets.jwt_secret_key, app.secrets.database_password) == (None, None, None)


# --- Derived pull policy, hardening ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "overrides", "policy"),
    [
        # Built and loaded into Kind by the stack: in no registry.
        ("dev", {}, "IfNotPresent"),
        # Pinned by digest: one image forever.
        ("prod", {}, "IfNotPresent"),
        # A tag from a registry can be pushed again: always ask the registry.
        ("prod", {"app.image": "registry.example.com/platform/flask-app:1.0"}, "Always"),
        ("dev", {"cluster.kind.loadImage": False}, "Always"),
        # Loaded into the CI cluster by its script: the stack says so.
        ("kind-ci", {}, "IfNotPresent"),
        ("prod", {"app.imagePullPolicy": "Never", "app.image": "registry.example.com/a:1"}, "Never"),
    ],
)
def test_pull_policy_follows_how_mutable_the_image_is(stack: str, overrides: dict[str, Any], policy: str) -> None:
    assert app_of(overrides, stack=stack).workload.image_pull_policy == policy


def test_the_namespace_enforces_pod_security_restricted_with_a_pinned_version() -> None:
    assert app_of().namespace.labels == {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.34",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "v1.34",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "v1.34",
    }


def test_pod_security_can_be_relaxed_but_audit_and_warn_stay() -> None:
    labels = app_of(
        {"namespace.podSecurity.enforce": "baseline", "namespace.podSecurity.version": "v1.35"}
    ).namespace.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit-version"] == "v1.35"


def test_security_and_ephemeral_storage_defaults() -> None:
    app = app_of()
    assert (app.workload.security.run_as_user, app.workload.security.read_only_root_filesystem) == (10001, True)
    assert (app.workload.resources.ephemeral_storage_request, app.workload.resources.ephemeral_storage_limit) == (
        "64Mi",
        "256Mi",
    )


def test_hardening_switches_turn_things_off() -> None:
    overrides = {
        "namespace.networkPolicy.enabled": False,
        "app.disruptionBudget": False,
        "app.security.readOnlyRootFilesystem": False,
    }
    app = app_of(overrides)
    assert (app.network_policy, app.workload.disruption_budget, app.workload.security.read_only_root_filesystem) == (
        None,
        False,
        False,
    )


def test_ingress_annotations_are_merged_over_the_default() -> None:
    route = app_of({"ingress.annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "10m", "a/b": "c"}}).route
    assert route is not None and route.gateway is None
    assert route.ingress.annotations == {
        "nginx.ingress.kubernetes.io/proxy-body-size": "10m",
        "nginx.ingress.kubernetes.io/service-upstream": "true",
        "a/b": "c",
    }


# --- Values the stack's other choices leave unused are checked all the same ------------------------------


@pytest.mark.parametrize("value", ["", "/srv/app", "../app", "app/../../elsewhere", "..", "app\\sub"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_app_source_dir_stays_inside_the_project(value: str, stack: str) -> None:
    # prod deploys to an existing cluster and builds nothing: the folder is unused there, and refused.
    assert only_problem({"cluster.kind.appSourceDir": value}, stack=stack) == (
        f"flask-k8s:cluster.kind.appSourceDir = {value!r}: must be a folder inside the project, relative to it "
        "(no leading '/', no '..'), e.g. app"
    )


@pytest.mark.parametrize("value", ["app", "./app", "services/web"])
def test_a_source_dir_inside_the_project_is_accepted(value: str) -> None:
    assert load({"cluster.kind.appSourceDir": value}).cluster.kind_image == ImageSource(
        image="flask-app:1.0", source_dir=value
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("pool_size = 10\n", "File contains no section headers."),
        ("[a]\nx = 1\n[a]\ny = 2\n", "While reading from 'app.configFile' [line  3]: section 'a' already exists"),
        (
            "[a]\nx = 1\nx = 2\n",
            "While reading from 'app.configFile' [line  3]: option 'x' in section 'a' already exists",
        ),
    ],
)
def test_the_app_config_file_must_parse_as_the_app_reads_it(text: str, why: str) -> None:
    assert only_problem({"app.configFile": text}) == (
        f"flask-k8s:app.configFile = {text!r}: must be an INI file the app's configparser reads: {why}"
    )


def test_the_app_config_file_of_any_sections_is_accepted() -> None:
    assert app_of({"app.configFile": "[cache]\nttl = 60\n"}).config.config_file == "[cache]\nttl = 60\n"
