"""settings.py: every validation rule, with its message; and Pulumi.yaml declares what it reads."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
import yaml

from settings import PROJECT, ConfigError, StackSettings, load_settings
from tests.harness import ROOT, resolve, run, run_stack, stack_config


def load(
    overrides: dict[str, Any] | None = None, stack: str = "dev", secret_keys: list[str] | None = None
) -> StackSettings:
    """Validated settings for a stack file plus overrides."""
    if not secret_keys:
        # Without secrets, reading config creates no Output: no need for a (slower) mock run.
        pulumi.runtime.set_all_config(stack_config(stack, overrides), [])
        return load_settings()
    box: dict[str, StackSettings] = {}
    run(
        lambda: box.update(settings=load_settings()),
        config=stack_config(stack, overrides),
        secret_keys=[f"{PROJECT}:{k}" for k in secret_keys],
    )
    return box["settings"]


def problems(overrides: dict[str, Any], stack: str = "dev") -> list[str]:
    """Every problem settings.py reports for a stack file plus overrides."""
    pulumi.runtime.set_all_config(stack_config(stack, overrides), [])
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return caught.value.problems


def only_problem(overrides: dict[str, Any], stack: str = "dev") -> str:
    found = problems(overrides, stack)
    assert len(found) == 1, found
    return found[0]


# --- The defaults are the article's ------------------------------------------------------------------


def test_dev_defaults_are_the_articles_values() -> None:
    app = load().app
    assert (app.name, app.namespace, app.image, app.replicas, app.container_port) == (
        "flask-app",
        "flask-app",
        "flask-app:1.0",
        3,
        5000,
    )
    assert (app.max_surge, app.max_unavailable) == (1, 0)
    assert app.quota.requests_cpu == "4"
    assert app.quota.limits_memory == "16Gi"
    assert app.quota.pods == 20
    assert app.limit_range.default_memory == "256Mi"
    assert app.limit_range.default_request_cpu == "100m"
    assert app.service_type == "ClusterIP"
    assert app.ingress is not None
    assert app.ingress.host == "flask-app.local"
    assert app.ingress.tls_secret_name == "flask-app-tls"
    assert app.ingress.annotations == {"nginx.ingress.kubernetes.io/proxy-body-size": "5m"}


def test_prod_selects_the_existing_cluster_with_cert_manager() -> None:
    settings = load(stack="prod")
    assert settings.cluster.target == "existing"
    assert settings.cluster.kind is None
    assert settings.cluster.context == "flask-prod"
    assert settings.app.service_type == "LoadBalancer"
    assert settings.app.service_annotations == {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
    assert settings.app.ingress is not None
    assert settings.app.ingress.annotations["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"


# --- One rule, one message naming key, value and what is allowed -------------------------------------


@pytest.mark.parametrize("replicas", [0, -2])
def test_replicas_must_be_positive(replicas: int) -> None:
    assert only_problem({"replicas": replicas}) == (
        f"flask-k8s:replicas = {replicas}: must be a positive integer (1 or more)"
    )


def test_a_wrong_type_gives_one_message_not_a_cascade() -> None:
    assert only_problem({"replicas": "three"}) == "flask-k8s:replicas = 'three': must be an integer"


@pytest.mark.parametrize(
    ("key", "value"), [("cpuRequest", "100mm"), ("memoryLimit", "lots"), ("quotaRequestsMemory", "8GB")]
)
def test_quantities_must_parse(key: str, value: str) -> None:
    assert only_problem({key: value}) == (
        f"flask-k8s:{key} = {value!r}: must be a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi"
    )


def test_cpu_request_above_limit() -> None:
    assert (
        only_problem({"cpuRequest": "600m"})
        == "flask-k8s:cpuRequest = '600m': must not exceed flask-k8s:cpuLimit = '500m'"
    )


def test_memory_request_above_limit() -> None:
    assert only_problem({"memoryRequest": "1Gi"}) == (
        "flask-k8s:memoryRequest = '1Gi': must not exceed flask-k8s:memoryLimit = '256Mi'"
    )


def test_limit_range_default_request_above_default_limit() -> None:
    assert only_problem({"limitDefaultRequestCpu": "600m"}) == (
        "flask-k8s:limitDefaultRequestCpu = '600m': must not exceed flask-k8s:limitDefaultCpu = '500m'"
    )


def test_surge_pod_must_fit_the_cpu_limit_quota() -> None:
    # (15 + 1 + 1) x 500m = 8.5 CPU > 8: the rollout's extra pod, started while an old one is still
    # stopping, would be refused by the quota.
    assert only_problem({"replicas": 15}) == (
        "flask-k8s:quotaLimitsCpu = '8': must fit (replicas + maxSurge + stopping) x cpuLimit = 17 x 500m during a "
        "rolling update (pods stopping (maxSurge + maxUnavailable) count until they are gone); raise the quota or "
        "lower replicas, maxSurge or the per-pod value"
    )


def test_surge_pod_must_fit_the_memory_request_quota() -> None:
    message = only_problem({"quotaRequestsMemory": "500Mi"})
    assert message.startswith(
        "flask-k8s:quotaRequestsMemory = '500Mi': must fit (replicas + maxSurge + stopping) x memoryRequest"
    )
    assert "5 x 128Mi" in message


def test_surge_pod_must_fit_the_pod_count_quota() -> None:
    assert only_problem({"quotaPods": 4}) == (
        "flask-k8s:quotaPods = 4: must allow replicas + maxSurge + stopping = 3 + 1 + 1 = 5 pods during a rolling "
        "update (pods stopping (maxSurge + maxUnavailable) count until they are gone)"
    )


def test_stopping_pods_follow_max_unavailable() -> None:
    # maxUnavailable 1 lets the rollout stop one more old pod at a time.
    assert only_problem({"quotaPods": 5, "maxUnavailable": 1}) == (
        "flask-k8s:quotaPods = 5: must allow replicas + maxSurge + stopping = 3 + 1 + 2 = 6 pods during a rolling "
        "update (pods stopping (maxSurge + maxUnavailable) count until they are gone)"
    )


def test_exactly_fitting_surge_is_accepted() -> None:
    # (14 + 1 + 1) x 500m = 8 CPU: exactly the quota.
    assert load({"replicas": 14}).app.replicas == 14


def test_rollout_must_be_able_to_move() -> None:
    assert only_problem({"maxSurge": 0}) == (
        "flask-k8s:maxSurge = 0: and flask-k8s:maxUnavailable cannot both be 0 (the rollout could not move)"
    )


@pytest.mark.parametrize("host", ["Flask_App.local", "-bad.example.com", "a..b", "x" * 64 + ".example.com"])
def test_host_must_be_a_dns_name(host: str) -> None:
    message = only_problem({"host": host})
    assert message.startswith(f"flask-k8s:host = {host!r}: must be a DNS name of lowercase letters")


@pytest.mark.parametrize(
    "host", ["postgres db", "Postgres", "db..internal", "db.example.com:5432", "*.db.internal", "x" * 64 + ".internal"]
)
def test_database_host_must_be_a_dns_name_or_an_ip_address(host: str) -> None:
    assert only_problem({"databaseHost": host}) == (
        f"flask-k8s:databaseHost = {host!r}: must be a DNS name of lowercase letters, digits, '-' and '.' "
        "(labels up to 63 characters) or an IP address, e.g. postgres.databases.svc.cluster.local"
    )


@pytest.mark.parametrize("host", ["postgres", "db.prod.internal", "10.0.12.5", "fd00::5"])
def test_database_host_accepts_dns_names_and_ip_addresses(host: str) -> None:
    assert load({"databaseHost": host}).app.database.host == host


def test_wildcard_host_is_accepted() -> None:
    assert load({"host": "*.apps.example.com", "tlsMode": "none"}).app.ingress is not None


@pytest.mark.parametrize("image", ["Flask-App:1.0", "flask-app:", "flask app", "flask-app:1.0@sha256:abc"])
def test_image_must_be_a_valid_reference(image: str) -> None:
    message = only_problem({"image": image})
    assert message.startswith(f"flask-k8s:image = {image!r}: must be an image reference")


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
    assert load({"image": image, "kindLoadImage": False}).app.image == image


def test_kind_node_image_defaults_to_kinds_own() -> None:
    kind = load().cluster.kind
    assert kind is not None
    assert kind.node_image is None


def test_kind_node_image_can_be_pinned() -> None:
    image = "kindest/node:v1.34.0@sha256:" + "a" * 64
    kind = load({"kindNodeImage": image}).cluster.kind
    assert kind is not None
    assert kind.node_image == image


@pytest.mark.parametrize("image", ["kindest/node:", "Kindest/Node:v1.34.0", "kindest/node v1.34.0", "node;true"])
def test_kind_node_image_must_be_a_valid_reference(image: str) -> None:
    assert only_problem({"kindNodeImage": image}).startswith(
        f"flask-k8s:kindNodeImage = {image!r}: must be an image reference [registry[:port]/]path[:tag]"
    )


def test_kind_node_image_needs_a_cluster_created_by_the_stack() -> None:
    assert only_problem({"kindNodeImage": "kindest/node:v1.34.0", "kindCreateCluster": False}) == (
        "flask-k8s:kindNodeImage = 'kindest/node:v1.34.0': only applies when kindCreateCluster is true: an existing "
        "cluster keeps its nodes"
    )


def test_unknown_service_type() -> None:
    assert only_problem({"serviceType": "Ingress"}) == (
        "flask-k8s:serviceType = 'Ingress': must be one of: ClusterIP, NodePort, LoadBalancer"
    )


def test_namespace_over_63_characters() -> None:
    name = "n" * 64
    assert only_problem({"namespace": name}) == (
        f"flask-k8s:namespace = {name!r}: a namespace name must be at most 63 characters (it has 64)"
    )


def test_app_name_over_63_characters() -> None:
    name = "a" * 64
    assert only_problem({"appName": name}) == (
        f"flask-k8s:appName = {name!r}: the Deployment name and 'app' label must be at most 63 characters (it has 64)"
    )


def test_app_name_whose_derived_service_name_is_too_long() -> None:
    name = "a" * 60
    assert only_problem({"appName": name}) == (
        f"flask-k8s:appName = {name!r}: the derived names {name + '-service'!r} and <appName>-ingress must be at "
        "most 63 characters"
    )


def test_app_name_must_be_a_dns_1035_label() -> None:
    assert only_problem({"appName": "1app"}).startswith(
        "flask-k8s:appName = '1app': the Deployment name and 'app' label must be lowercase letters, digits and '-', "
        "starting with a lowercase letter"
    )


def test_annotations_must_be_key_value() -> None:
    assert only_problem({"ingressAnnotations": ["no-equals-sign"]}) == (
        "flask-k8s:ingressAnnotations = 'no-equals-sign': each item must be KEY=value where KEY is an annotation key"
    )


def test_extra_config_refuses_secret_looking_keys() -> None:
    assert only_problem({"extraConfig": ["API_TOKEN=abc"]}) == (
        "flask-k8s:extraConfig = 'API_TOKEN': looks like a secret (password/token/key): ConfigMaps are not "
        "encrypted, give it as a secret instead"
    )


def test_extra_config_is_merged_into_the_environment() -> None:
    env = load({"extraConfig": ["MAX_CONNECTIONS=100"]}).app.env
    assert env["MAX_CONNECTIONS"] == "100"
    assert env["LOG_LEVEL"] == "debug"


def test_secret_given_in_plain_text_is_refused_without_echoing_it() -> None:
    message = only_problem({"databasePassword": "hunter2-plain"})
    assert message.startswith("flask-k8s:databasePassword is stored in plain text")
    assert "hunter2-plain" not in message


def test_secret_given_as_secret_is_used_and_stays_secret() -> None:
    settings = load({"databasePassword": "from-config"}, secret_keys=["databasePassword"])
    assert settings.app.database_password is not None
    assert resolve(settings.app.database_password) == ("from-config", True)


def test_existing_target_needs_credentials() -> None:
    assert only_problem({"kubeContext": ""}, stack="prod") == (
        "flask-k8s:kubeconfig = '': the existing target needs a kubeconfig (pulumi config set --secret kubeconfig "
        "...) or kubeContext"
    )


def test_load_balancer_on_kind_is_refused() -> None:
    assert only_problem({"serviceType": "LoadBalancer"}) == (
        "flask-k8s:serviceType = 'LoadBalancer': needs a cloud load balancer, which Kind has not: use ClusterIP"
    )


def test_kind_target_refuses_foreign_credentials() -> None:
    assert only_problem({"kubeContext": "somewhere"}) == (
        "flask-k8s:clusterTarget = 'kind': kind takes its kubeconfig from Kind: unset kubeconfig and kubeContext"
    )


def test_ingress_nginx_must_be_pinned() -> None:
    assert only_problem({"ingressNginxVersion": "main"}) == (
        "flask-k8s:ingressNginxVersion = 'main': must be a release tag such as controller-v1.14.3 (never main)"
    )


def test_ingress_nginx_only_on_kind() -> None:
    assert only_problem({"installIngressNginx": True}, stack="prod") == (
        "flask-k8s:installIngressNginx = True: installs the Kind flavour of ingress-nginx: only with clusterTarget kind"
    )


def test_tls_needs_an_ingress() -> None:
    assert only_problem({"ingressEnabled": False}) == (
        "flask-k8s:tlsMode = 'self-signed': terminates TLS at the Ingress: set ingressEnabled true or tlsMode none"
    )


def test_cert_manager_install_needs_an_email() -> None:
    assert only_problem({"certManagerInstall": True}, stack="prod") == (
        "flask-k8s:acmeEmail = '': must be an e-mail address when certManagerInstall is true"
    )


def test_unknown_tls_mode() -> None:
    assert only_problem({"tlsMode": "letsencrypt"}) == (
        "flask-k8s:tlsMode = 'letsencrypt': must be one of: self-signed, cert-manager, secret, none"
    )


def test_every_problem_is_reported_at_once() -> None:
    found = problems({"replicas": 0, "image": "BAD", "serviceType": "Nope"})
    assert [p.split(" = ")[0] for p in found] == ["flask-k8s:image", "flask-k8s:replicas", "flask-k8s:serviceType"]


def test_bad_config_stops_the_program_before_any_resource() -> None:
    deployment = run_stack("dev", {"replicas": 0}, expect_error=ConfigError)
    assert deployment.resources == []
    # A RunError: the engine prints the message alone, without a Python traceback.
    assert isinstance(deployment.error, pulumi.RunError)
    assert "flask-k8s:replicas = 0" in str(deployment.error)


# --- Pulumi.yaml is the one list of keys ---------------------------------------------------------------


class _RecordingConfig(pulumi.Config):
    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.keys: set[str] = set()

    def _get(self, key: str, *args: Any, **kwargs: Any) -> Any:
        self.keys.add(key)
        return super()._get(key, *args, **kwargs)


def test_pulumi_yaml_declares_exactly_the_keys_settings_reads() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    for stack in ("dev", "prod"):
        recorder: dict[str, _RecordingConfig] = {}

        def read(recorder: dict[str, _RecordingConfig] = recorder) -> None:
            recorder["config"] = _RecordingConfig()
            load_settings(recorder["config"])

        run(read, config=stack_config(stack))
        read_keys = recorder["config"].keys
        # kind-only keys are not read on an existing-cluster stack, and vice versa.
        assert read_keys <= set(declared), sorted(read_keys - set(declared))
    for key, spec in declared.items():
        assert {"type", "default", "description"} <= set(spec), (
            f"Pulumi.yaml config {key} lacks type/default/description"
        )


def test_stack_files_only_set_declared_keys() -> None:
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    for stack in ("dev", "prod"):
        keys = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert {k.removeprefix(f"{PROJECT}:") for k in keys} <= declared, stack


def test_every_declared_key_is_read_by_some_stack() -> None:
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    seen: set[str] = set()
    for stack in ("dev", "prod"):
        holder: dict[str, _RecordingConfig] = {}

        def read(holder: dict[str, _RecordingConfig] = holder) -> None:
            holder["config"] = _RecordingConfig()
            load_settings(holder["config"])

        run(
            read,
            config=stack_config(
                stack, {"certManagerInstall": True, "acmeEmail": "ops@example.com"} if stack == "prod" else None
            ),
        )
        seen |= holder["config"].keys
    assert declared == seen, sorted(declared ^ seen)


def test_failed_run_still_raises_for_unexpected_errors() -> None:
    with pytest.raises(ConfigError):
        run_stack("dev", {"replicas": 0})


# --- Production hardening --------------------------------------------------------------------------------


def test_namespace_enforces_pod_security_restricted_with_a_pinned_version() -> None:
    assert load().app.namespace_labels == {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.34",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "v1.34",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "v1.34",
    }


def test_pod_security_can_be_relaxed_but_audit_and_warn_stay() -> None:
    labels = load({"podSecurityEnforce": "baseline"}).app.namespace_labels
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_pod_security_version_must_be_pinned() -> None:
    assert only_problem({"podSecurityVersion": "latest"}) == (
        "flask-k8s:podSecurityVersion = 'latest': must be a pinned Kubernetes minor version such as v1.34"
    )


def test_run_as_user_must_not_be_root() -> None:
    assert only_problem({"runAsUser": 0}) == "flask-k8s:runAsUser = 0: must be at least 1"


def test_prod_refuses_the_latest_tag() -> None:
    for image in ("registry.example.com/app:latest", "registry.example.com/app"):
        assert only_problem({"image": image}, stack="prod") == (
            f"flask-k8s:image = {image!r}: must name a fixed tag or a digest: this stack refuses the mutable "
            "'latest' tag"
        )


def test_prod_accepts_an_image_pinned_by_digest() -> None:
    image = "registry.example.com/app@sha256:" + "0" * 64
    assert load({"image": image}, stack="prod").app.image == image


def test_dev_allows_latest() -> None:
    assert load({"image": "flask-app:latest"}).app.image == "flask-app:latest"


def test_autoscaling_bounds_must_be_ordered() -> None:
    assert only_problem({"autoscalingEnabled": True, "autoscalingMinReplicas": 5, "autoscalingMaxReplicas": 3}) == (
        "flask-k8s:autoscalingMaxReplicas = 3: must be at least flask-k8s:autoscalingMinReplicas = 5"
    )


def test_autoscaling_maximum_must_fit_the_quota() -> None:
    # (15 + 1 + 1) x 500m = 8.5 CPU of limits > 8: the HPA could scale into a refused rollout.
    assert only_problem({"autoscalingEnabled": True, "autoscalingMaxReplicas": 15}) == (
        "flask-k8s:quotaLimitsCpu = '8': must fit (autoscalingMaxReplicas + maxSurge + stopping) x cpuLimit = "
        "17 x 500m during a rolling update (pods stopping (maxSurge + maxUnavailable) count until they are gone); "
        "raise the quota or lower autoscalingMaxReplicas, maxSurge or the per-pod value"
    )


def test_egress_rules_are_cidrs_with_optional_ports() -> None:
    policy = load({"egressAllowed": ["10.0.12.0/24:5432", "192.168.0.0/16"]}).app.network_policy
    assert policy is not None
    assert [(e.cidr, e.port) for e in policy.egress] == [("10.0.12.0/24", 5432), ("192.168.0.0/16", None)]
    assert policy.ingress_namespaces == ["ingress-nginx"]


@pytest.mark.parametrize("item", ["10.0.12.1/24", "db.internal:5432", "10.0.0.0/8:99999"])
def test_bad_egress_rules(item: str) -> None:
    assert only_problem({"egressAllowed": [item]}).startswith(f"flask-k8s:egressAllowed = {item!r}: ")


def test_hardening_switches_turn_things_off() -> None:
    app = load({"networkPolicyEnabled": False, "podDisruptionBudget": False, "readOnlyRootFilesystem": False}).app
    assert app.network_policy is None
    assert app.disruption_budget is False
    assert app.security.read_only_root_filesystem is False


# --- Stopping pods and failing rollouts -----------------------------------------------------------------


def test_stopping_and_rollout_defaults() -> None:
    app = load().app
    assert (app.termination.pre_stop_sleep_seconds, app.termination.grace_period_seconds) == (5, 30)
    assert (app.rollout.progress_deadline_seconds, app.rollout.timeout_seconds) == (300, 360)
    # gunicorn reads its graceful timeout from the ConfigMap.
    assert app.env["GRACEFUL_TIMEOUT"] == "20"


def test_grace_period_must_cover_the_pause_and_the_graceful_stop() -> None:
    assert only_problem({"terminationGracePeriodSeconds": 25}) == (
        "flask-k8s:terminationGracePeriodSeconds = 25: must exceed preStopSleepSeconds + gracefulTimeoutSeconds = "
        "5 + 20 = 25, or the kubelet kills requests still in flight"
    )
    assert load({"terminationGracePeriodSeconds": 26}).app.termination.grace_period_seconds == 26
    assert only_problem({"preStopSleepSeconds": 8, "gracefulTimeoutSeconds": 30}).startswith(
        "flask-k8s:terminationGracePeriodSeconds = 30: must exceed"
    )


def test_the_graceful_timeout_is_its_own_key_not_extra_config() -> None:
    assert only_problem({"extraConfig": ["GRACEFUL_TIMEOUT=5"]}) == (
        "flask-k8s:extraConfig = 'GRACEFUL_TIMEOUT': GRACEFUL_TIMEOUT is set by its own key; change that key instead"
    )


def test_deployment_timeout_must_not_cut_the_progress_deadline_short() -> None:
    # The provider's await only reports the deadline's reason if the deadline passed before its timeout.
    assert only_problem({"progressDeadlineSeconds": 120, "deploymentTimeoutSeconds": 149}) == (
        "flask-k8s:deploymentTimeoutSeconds = 149: must be at least flask-k8s:progressDeadlineSeconds + 30 = 150: "
        "a stuck rollout should fail with the Deployment's own reason (ProgressDeadlineExceeded), not with a bare "
        "timeout"
    )
    rollout = load({"progressDeadlineSeconds": 120, "deploymentTimeoutSeconds": 150}).app.rollout
    assert (rollout.progress_deadline_seconds, rollout.timeout_seconds) == (120, 150)


def test_every_problem_of_the_stopping_keys_at_once() -> None:
    found = problems({"preStopSleepSeconds": -1, "progressDeadlineSeconds": 5, "gracefulTimeoutSeconds": "x"})
    assert [p.split(" = ")[0] for p in found] == [
        "flask-k8s:preStopSleepSeconds",
        "flask-k8s:gracefulTimeoutSeconds",
        "flask-k8s:progressDeadlineSeconds",
    ]


# --- Hardening: disk, pulls -------------------------------------------------------------------------------


def test_ephemeral_storage_is_requested_limited_and_defaulted() -> None:
    app = load().app
    assert (app.resources.ephemeral_storage_request, app.resources.ephemeral_storage_limit) == ("64Mi", "256Mi")
    limits = app.limit_range
    assert (limits.default_request_ephemeral_storage, limits.default_ephemeral_storage) == ("64Mi", "256Mi")
    assert only_problem({"ephemeralStorageRequest": "1Gi"}) == (
        "flask-k8s:ephemeralStorageRequest = '1Gi': must not exceed flask-k8s:ephemeralStorageLimit = '256Mi'"
    )
    assert only_problem({"limitDefaultEphemeralStorage": "lots"}) == (
        "flask-k8s:limitDefaultEphemeralStorage = 'lots': must be a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi"
    )


@pytest.mark.parametrize(
    ("stack", "overrides", "policy"),
    [
        # Built and loaded into Kind by the stack: in no registry.
        ("dev", {}, "IfNotPresent"),
        # Pinned by digest: one image forever.
        ("prod", {}, "IfNotPresent"),
        # A tag from a registry can be pushed again: always ask the registry.
        ("prod", {"image": "registry.example.com/platform/flask-app:1.0"}, "Always"),
        ("dev", {"kindLoadImage": False}, "Always"),
        # Loaded into the CI cluster by its script: the stack says so.
        ("kind-ci", {}, "IfNotPresent"),
        ("prod", {"imagePullPolicy": "IfNotPresent", "image": "registry.example.com/a:1"}, "IfNotPresent"),
    ],
)
def test_pull_policy_follows_how_mutable_the_image_is(stack: str, overrides: dict[str, Any], policy: str) -> None:
    assert load(overrides, stack=stack).app.image_pull_policy == policy


def test_pull_policy_is_checked() -> None:
    assert only_problem({"imagePullPolicy": "Sometimes"}) == (
        "flask-k8s:imagePullPolicy = 'Sometimes': must be Always, IfNotPresent, Never, or empty to derive it from "
        "the image"
    )
