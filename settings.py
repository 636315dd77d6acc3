"""The one place where a stack's configuration is read, validated and cross-checked.

`load_settings()` reads every key of the `flask-k8s` namespace once, checks each value and the
relations between them (requests within limits, a surge pod within the namespace quota, ...), and
returns frozen dataclasses. Components never read `pulumi.Config`: they take what this module built.

Every problem found is reported at once, one line per key, naming the key, the value and what is
allowed. The error is a `pulumi.RunError`, so `pulumi preview`/`up` print the message without a
Python traceback, and nothing is registered because validation runs before any resource exists.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TypeVar

import pulumi
from kubernetes.utils.quantity import parse_quantity

from components.flask_app import FlaskAppArgs, IngressSpec, NetworkPolicySpec
from components.namespace import LimitRangeSpec, QuotaSpec
from components.network_policy import EgressRule
from components.secrets import DatabaseArgs
from components.workload import AutoscalingSpec, ResourcesSpec, RolloutSpec, SecuritySpec, TerminationSpec
from policy.rules import secret_looking_word

PROJECT = "flask-k8s"

# Kubernetes limits object names used as labels, DNS labels and Service names to 63 characters.
MAX_NAME = 63

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
# How long after the progress deadline `up` may give up at the earliest (see _read_stopping).
DEADLINE_SLACK_SECONDS = 30
CLUSTER_TARGETS = ("kind", "existing")
TLS_MODES = ("self-signed", "cert-manager", "secret", "none")

# RFC 1123 label, as Kubernetes checks namespace and label-like names.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# RFC 1035 label: Service names must also start with a letter.
_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# A DNS subdomain (an Ingress host may add one leading wildcard label).
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_NAME_RULE = "a DNS name of lowercase letters, digits, '-' and '.' (labels up to 63 characters"


def _is_dns_name(value: str, wildcard: bool = False) -> bool:
    name = value[2:] if wildcard and value.startswith("*.") else value
    return len(value) <= 253 and bool(_DNS_NAME.match(name)) and all(len(p) <= MAX_NAME for p in name.split("."))


def _is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# Label values: at most 63 characters of alphanumerics, '-', '_' and '.', alphanumeric at both ends.
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Annotation and label keys: an optional DNS-subdomain prefix and a name part.
_QUALIFIED_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
# Environment variable names a ConfigMap may carry for envFrom (C identifiers, as Kubernetes warns).
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# The image reference grammar of distribution/reference (reference.go), which is what the
# container runtime parses: [host[:port]/]path[:tag][@digest]. No maintained PyPI library
# implements it, so the grammar is transcribed here rather than approximated.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_IMAGE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)


class ConfigError(pulumi.RunError):
    """Bad stack configuration: printed by the engine as a plain message, without a traceback."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration ({len(self.problems)} problem(s)):\n{lines}")


# ----------------------------------------------------------------------------------------------
# What the rest of the program gets
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindSettings:
    """A local Kind cluster (clusterTarget kind)."""

    cluster_name: str
    """Kind cluster name; its kubectl context is kind-<name>."""
    workers: int
    """Worker nodes beside the control plane."""
    create: bool
    """Create the cluster (and delete it on destroy), or use an existing one of that name."""
    node_image: str | None
    """Node image for `kind create cluster --image` (the cluster's Kubernetes version); None: kind's default."""
    load_image: bool
    """Build the app image and load it into the cluster."""
    app_source_dir: str
    """Folder with the app's Dockerfile, relative to the project."""


@dataclass(frozen=True)
class ClusterSettings:
    """Which cluster the app goes to, and what the stack installs there besides the app."""

    target: str
    """kind or existing."""
    kind: KindSettings | None
    """Set for the kind target."""
    kubeconfig: pulumi.Output[str] | None
    """existing target: kubeconfig contents (secret)."""
    context: str | None
    """existing target: context in the local kubeconfig, when no kubeconfig is given."""
    install_ingress_nginx: bool
    """Install the ingress-nginx controller for Kind."""
    ingress_nginx_version: str
    """ingress-nginx release tag."""


@dataclass(frozen=True)
class TlsSettings:
    """Where the Ingress's certificate comes from."""

    mode: str
    """self-signed, cert-manager, secret or none."""
    secret_name: str
    """Secret holding the certificate."""
    host: str
    """Host the certificate is for."""
    cluster_issuer: str
    """cert-manager ClusterIssuer."""
    install_cert_manager: bool
    """Install cert-manager and an ACME ClusterIssuer."""
    cert_manager_version: str
    """cert-manager release."""
    acme_email: str
    """ACME account e-mail."""


@dataclass(frozen=True)
class StackSettings:
    """The validated configuration of one stack."""

    app: FlaskAppArgs
    """The app, ready to hand to FlaskApp."""
    cluster: ClusterSettings
    """The target cluster."""
    tls: TlsSettings
    """TLS for the Ingress."""


# ----------------------------------------------------------------------------------------------
# Reading and checking
# ----------------------------------------------------------------------------------------------

T = TypeVar("T")


class _Reader:
    """Reads typed values from `pulumi.Config` and collects one message per bad key."""

    def __init__(self, config: pulumi.Config) -> None:
        self.config = config
        self.problems: list[str] = []
        self._failed: set[str] = set()

    def fail(self, key: str, value: object, allowed: str) -> None:
        # One message per key: a value that is already wrong says nothing more by failing more checks.
        if key not in self._failed:
            self._failed.add(key)
            self.problems.append(f"{PROJECT}:{key} = {value!r}: {allowed}")

    def _typed(self, key: str, fallback: T, read: Callable[[str], T | None], kind: str) -> T:
        # Every key has a default in Pulumi.yaml, which the CLI applies: a missing value means the
        # project file lost its declaration, not that the user forgot something.
        try:
            value = read(key)
        except pulumi.ConfigTypeError:
            self.fail(key, self.config.get(key), f"must be {kind}")
            return fallback
        if value is None:
            self.fail(key, None, f"is missing: declare it with a default in Pulumi.yaml ({kind})")
            return fallback
        return value

    def string(self, key: str) -> str:
        return self._typed(key, "", self.config.get, "a string")

    def integer(self, key: str, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._typed(key, 0, self.config.get_int, "an integer")
        if minimum is not None and value < minimum:
            self.fail(key, value, f"must be at least {minimum}")
        elif maximum is not None and value > maximum:
            self.fail(key, value, f"must be at most {maximum}")
        return value

    def boolean(self, key: str) -> bool:
        return self._typed(key, False, self.config.get_bool, "true or false")

    def choice(self, key: str, allowed: Sequence[str]) -> str:
        value = self.string(key)
        if value not in allowed:
            self.fail(key, value, f"must be one of: {', '.join(allowed)}")
        return value

    def string_list(self, key: str) -> list[str]:
        try:
            value = self.config.get_object(key)
        except pulumi.ConfigTypeError:
            value = self.config.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, value, "must be a list of strings")
            return []
        return value

    def key_values(self, key: str, check_key: Callable[[str], bool], key_rule: str) -> dict[str, str]:
        """A list of "key=value" strings (typed project config has no maps) as a dict."""
        result: dict[str, str] = {}
        for item in self.string_list(key):
            name, sep, value = item.partition("=")
            if not sep or not check_key(name):
                self.fail(key, item, f"each item must be KEY=value where KEY is {key_rule}")
            elif name in result:
                self.fail(key, item, f"{name} is given twice")
            else:
                result[name] = value
        return result

    def secret(self, key: str) -> pulumi.Output[str] | None:
        """A value that must come from encrypted stack config; empty means "generate one"."""
        plain = self.config.get(key)
        if not plain:
            return None
        if not pulumi.runtime.is_config_secret(f"{PROJECT}:{key}"):
            # Never echo the value itself: it was meant to be secret.
            self.problems.append(
                f"{PROJECT}:{key} is stored in plain text: set it with "
                f"`pulumi config set --secret {key} ...` or leave it empty to generate one"
            )
            return None
        return self.config.require_secret(key)

    def quantity(self, key: str) -> tuple[str, Decimal | None]:
        value = self.string(key)
        try:
            parsed = parse_quantity(value)
        except ValueError:
            self.fail(key, value, "must be a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi")
            return value, None
        if parsed < 0:
            self.fail(key, value, "must not be negative")
            return value, None
        return value, parsed

    def dns_label(self, key: str, value: str, what: str, pattern: re.Pattern[str] = _DNS_LABEL) -> None:
        """Checks a name Kubernetes will use as a DNS label; `what` names the object it becomes."""
        if len(value) > MAX_NAME:
            self.fail(key, value, f"{what} must be at most {MAX_NAME} characters (it has {len(value)})")
        elif not pattern.match(value):
            start = "a lowercase letter" if pattern is _DNS_1035_LABEL else "a lowercase letter or digit"
            self.fail(
                key,
                value,
                f"{what} must be lowercase letters, digits and '-', starting with {start} "
                "and ending with a letter or digit",
            )


def _check_le(
    r: _Reader, key: str, value: tuple[str, Decimal | None], bound_key: str, bound: tuple[str, Decimal | None]
) -> None:
    if value[1] is not None and bound[1] is not None and value[1] > bound[1]:
        r.fail(key, value[0], f"must not exceed {PROJECT}:{bound_key} = {bound[0]!r}")


def _read_app(r: _Reader) -> FlaskAppArgs:
    name = r.string("appName")
    r.dns_label("appName", name, "the Deployment name and 'app' label", _DNS_1035_LABEL)
    # Derived names must fit too: report them under the key that produced them.
    longest = f"{name}-service"  # as long as <appName>-ingress
    if len(longest) > MAX_NAME:
        r.fail(
            "appName",
            name,
            f"the derived names {longest!r} and <appName>-ingress must be at most {MAX_NAME} characters",
        )
    namespace = r.string("namespace")
    r.dns_label("namespace", namespace, "a namespace name")

    image = r.string("image")
    _check_image(r, "image", image, "flask-app:1.0 or ghcr.io/org/app@sha256:...")
    version = r.string("appVersion")
    if len(version) > MAX_NAME or not _LABEL_VALUE.match(version):
        r.fail("appVersion", version, "must be a valid label value: at most 63 of [A-Za-z0-9_.-]")

    replicas = r.integer("replicas")
    if replicas < 1:
        r.fail("replicas", replicas, "must be a positive integer (1 or more)")
    container_port = r.integer("containerPort", minimum=1, maximum=65535)

    autoscaling: AutoscalingSpec | None = None
    if r.boolean("autoscalingEnabled"):
        autoscaling = AutoscalingSpec(
            min_replicas=r.integer("autoscalingMinReplicas", minimum=1),
            max_replicas=r.integer("autoscalingMaxReplicas", minimum=1),
            cpu_utilization=r.integer("autoscalingCpuUtilization", minimum=1, maximum=1000),
        )
        if autoscaling.max_replicas < autoscaling.min_replicas:
            r.fail(
                "autoscalingMaxReplicas",
                autoscaling.max_replicas,
                f"must be at least {PROJECT}:autoscalingMinReplicas = {autoscaling.min_replicas}",
            )

    cpu_request = r.quantity("cpuRequest")
    memory_request = r.quantity("memoryRequest")
    cpu_limit = r.quantity("cpuLimit")
    memory_limit = r.quantity("memoryLimit")
    storage_request = r.quantity("ephemeralStorageRequest")
    storage_limit = r.quantity("ephemeralStorageLimit")
    _check_le(r, "cpuRequest", cpu_request, "cpuLimit", cpu_limit)
    _check_le(r, "memoryRequest", memory_request, "memoryLimit", memory_limit)
    _check_le(r, "ephemeralStorageRequest", storage_request, "ephemeralStorageLimit", storage_limit)

    max_surge = r.integer("maxSurge", minimum=0)
    max_unavailable = r.integer("maxUnavailable", minimum=0)
    if max_surge == 0 and max_unavailable == 0:
        r.fail(
            "maxSurge",
            max_surge,
            f"and {PROJECT}:maxUnavailable cannot both be 0 (the rollout could not move)",
        )

    quota = {
        "quotaRequestsCpu": r.quantity("quotaRequestsCpu"),
        "quotaRequestsMemory": r.quantity("quotaRequestsMemory"),
        "quotaLimitsCpu": r.quantity("quotaLimitsCpu"),
        "quotaLimitsMemory": r.quantity("quotaLimitsMemory"),
    }
    quota_pods = r.integer("quotaPods", minimum=1)
    quota_services = r.integer("quotaServices", minimum=1)
    quota_pvcs = r.integer("quotaPersistentVolumeClaims", minimum=0)

    termination, rollout, graceful_timeout = _read_stopping(r)

    # During a rolling update the old pods keep running while maxSurge new ones start, so the quota
    # must hold (replicas + maxSurge) pods at their requests and limits, or the rollout stalls with
    # "exceeded quota" halfway. A pod that is stopping still counts against the quota until it is gone
    # (its preStop pause and graceful stop, up to the grace period), while the rollout already starts
    # the next surge pod: up to maxSurge + maxUnavailable of them at a time.
    # With an HPA, the most pods there can be is its maximum.
    most, most_key = (autoscaling.max_replicas, "autoscalingMaxReplicas") if autoscaling else (replicas, "replicas")
    stopping = max_surge + max_unavailable
    peak = most + max_surge + stopping
    peak_rule = f"{most_key} + maxSurge + stopping"
    stopping_rule = "pods stopping (maxSurge + maxUnavailable) count until they are gone"
    if most >= 1 and peak > quota_pods:
        r.fail(
            "quotaPods",
            quota_pods,
            f"must allow {peak_rule} = {most} + {max_surge} + {stopping} = {peak} pods during a rolling update "
            f"({stopping_rule})",
        )
    for per_pod_key, per_pod, quota_key in (
        ("cpuRequest", cpu_request, "quotaRequestsCpu"),
        ("memoryRequest", memory_request, "quotaRequestsMemory"),
        ("cpuLimit", cpu_limit, "quotaLimitsCpu"),
        ("memoryLimit", memory_limit, "quotaLimitsMemory"),
    ):
        hard = quota[quota_key]
        if most >= 1 and per_pod[1] is not None and hard[1] is not None and peak * per_pod[1] > hard[1]:
            r.fail(
                quota_key,
                hard[0],
                f"must fit ({peak_rule}) x {per_pod_key} = {peak} x {per_pod[0]} during a rolling update "
                f"({stopping_rule}); raise the quota or lower {most_key}, maxSurge or the per-pod value",
            )

    default_cpu = r.quantity("limitDefaultCpu")
    default_memory = r.quantity("limitDefaultMemory")
    default_request_cpu = r.quantity("limitDefaultRequestCpu")
    default_request_memory = r.quantity("limitDefaultRequestMemory")
    _check_le(r, "limitDefaultRequestCpu", default_request_cpu, "limitDefaultCpu", default_cpu)
    _check_le(r, "limitDefaultRequestMemory", default_request_memory, "limitDefaultMemory", default_memory)
    default_storage = r.quantity("limitDefaultEphemeralStorage")
    default_request_storage = r.quantity("limitDefaultRequestEphemeralStorage")
    _check_le(
        r,
        "limitDefaultRequestEphemeralStorage",
        default_request_storage,
        "limitDefaultEphemeralStorage",
        default_storage,
    )

    config_data = {
        "FLASK_ENV": r.string("flaskEnv"),
        "FLASK_APP": r.string("flaskApp"),
        "LOG_LEVEL": r.choice("logLevel", ("debug", "info", "warning", "error", "critical")),
        "WORKERS": str(r.integer("workers", minimum=1, maximum=64)),
        # Read by app/gunicorn.conf.py: how long workers finish in-flight requests after SIGTERM.
        "GRACEFUL_TIMEOUT": str(graceful_timeout),
    }
    extra = r.key_values("extraConfig", lambda k: bool(_ENV_NAME.match(k)), "an environment variable name")
    for key in extra:
        if key in config_data:
            r.fail("extraConfig", key, f"{key} is set by its own key; change that key instead")
        # The policy pack's own word list, so the program and the pack refuse the same keys.
        if secret_looking_word(key) is not None:
            r.fail(
                "extraConfig",
                key,
                "looks like a secret (password/token/key): ConfigMaps are not encrypted, give it as a secret instead",
            )
    config_data.update(extra)

    database_host = r.string("databaseHost")
    if not (_is_dns_name(database_host) or _is_ip_address(database_host)):
        r.fail(
            "databaseHost",
            database_host,
            f"must be {_DNS_NAME_RULE}) or an IP address, e.g. postgres.databases.svc.cluster.local",
        )
    database = DatabaseArgs(
        user=r.string("databaseUser"),
        host=database_host,
        port=r.integer("databasePort", minimum=1, maximum=65535),
        name=r.string("databaseName"),
    )

    service_type = r.choice("serviceType", SERVICE_TYPES)
    service_annotations = r.key_values("serviceAnnotations", _is_qualified_name, "an annotation key")

    ingress_enabled = r.boolean("ingressEnabled")
    ingress_class_name = r.string("ingressClassName")
    r.dns_label("ingressClassName", ingress_class_name, "an IngressClass name")
    host = r.string("host")
    if not _is_dns_name(host, wildcard=True):
        r.fail("host", host, f"must be {_DNS_NAME_RULE}, an optional leading '*.'), e.g. flask-app.example.com")
    ingress_annotations = r.key_values("ingressAnnotations", _is_qualified_name, "an annotation key")

    if r.boolean("rejectLatestTag") and image_tag(image) in (None, "latest") and "@" not in image:
        r.fail("image", image, "must name a fixed tag or a digest: this stack refuses the mutable 'latest' tag")

    pod_security = r.choice("podSecurityEnforce", ("privileged", "baseline", "restricted"))
    pod_security_version = r.string("podSecurityVersion")
    if not re.match(r"^v1\.\d+$", pod_security_version):
        r.fail("podSecurityVersion", pod_security_version, "must be a pinned Kubernetes minor version such as v1.34")
    # audit and warn stay at restricted even where enforcement is relaxed, so violations still show.
    namespace_labels = {
        "pod-security.kubernetes.io/enforce": pod_security,
        "pod-security.kubernetes.io/enforce-version": pod_security_version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": pod_security_version,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": pod_security_version,
    }
    security = SecuritySpec(
        run_as_user=r.integer("runAsUser", minimum=1, maximum=2**31 - 1),
        read_only_root_filesystem=r.boolean("readOnlyRootFilesystem"),
    )

    network_policy: NetworkPolicySpec | None = None
    if r.boolean("networkPolicyEnabled"):
        controller_namespace = r.string("ingressControllerNamespace")
        r.dns_label("ingressControllerNamespace", controller_namespace, "a namespace name")
        network_policy = NetworkPolicySpec(
            ingress_namespaces=[controller_namespace], egress=_egress_rules(r, r.string_list("egressAllowed"))
        )

    return FlaskAppArgs(
        name=name,
        namespace=namespace,
        image=image,
        version=version,
        replicas=replicas,
        container_port=container_port,
        resources=ResourcesSpec(
            cpu_request[0], memory_request[0], cpu_limit[0], memory_limit[0], storage_request[0], storage_limit[0]
        ),
        max_surge=max_surge,
        max_unavailable=max_unavailable,
        quota=QuotaSpec(
            requests_cpu=quota["quotaRequestsCpu"][0],
            requests_memory=quota["quotaRequestsMemory"][0],
            limits_cpu=quota["quotaLimitsCpu"][0],
            limits_memory=quota["quotaLimitsMemory"][0],
            pods=quota_pods,
            services=quota_services,
            persistent_volume_claims=quota_pvcs,
        ),
        limit_range=LimitRangeSpec(
            default_cpu[0],
            default_memory[0],
            default_request_cpu[0],
            default_request_memory[0],
            default_storage[0],
            default_request_storage[0],
        ),
        env=config_data,
        config_file=r.string("appConfigFile"),
        database=database,
        secret_key=r.secret("secretKey"),
        jwt_secret_key=r.secret("jwtSecretKey"),
        database_password=r.secret("databasePassword"),
        service_type=service_type,
        service_annotations=service_annotations,
        ingress=IngressSpec(
            host=host,
            class_name=ingress_class_name,
            annotations=ingress_annotations,
        )
        if ingress_enabled
        else None,
        namespace_labels=namespace_labels,
        security=security,
        termination=termination,
        rollout=rollout,
        autoscaling=autoscaling,
        disruption_budget=r.boolean("podDisruptionBudget"),
        spread_zones=r.boolean("topologySpreadZones"),
        network_policy=network_policy,
    )


def _read_stopping(r: _Reader) -> tuple[TerminationSpec, RolloutSpec, int]:
    """How pods stop (preStop pause, the app's graceful stop, the grace period) and when a rollout
    counts as failed; returns them with gunicorn's graceful timeout, which goes into the ConfigMap."""
    pre_stop = r.integer("preStopSleepSeconds", minimum=0, maximum=300)
    graceful = r.integer("gracefulTimeoutSeconds", minimum=1, maximum=600)
    grace = r.integer("terminationGracePeriodSeconds", minimum=1, maximum=3600)
    if grace <= pre_stop + graceful:
        # The kubelet kills the container at the end of the grace period, counted from the moment the
        # pod is marked terminating: requests still being finished then are lost.
        r.fail(
            "terminationGracePeriodSeconds",
            grace,
            f"must exceed preStopSleepSeconds + gracefulTimeoutSeconds = {pre_stop} + {graceful} = "
            f"{pre_stop + graceful}, or the kubelet kills requests still in flight",
        )
    deadline = r.integer("progressDeadlineSeconds", minimum=10, maximum=86400)
    timeout = r.integer("deploymentTimeoutSeconds", minimum=10, maximum=86400)
    # pulumi-kubernetes' await does not stop at ProgressDeadlineExceeded: it reports that reason when
    # its own timeout ends the wait, so the deadline must have passed by then, with some slack for
    # the controller to notice.
    if timeout < deadline + DEADLINE_SLACK_SECONDS:
        r.fail(
            "deploymentTimeoutSeconds",
            timeout,
            f"must be at least {PROJECT}:progressDeadlineSeconds + {DEADLINE_SLACK_SECONDS} = "
            f"{deadline + DEADLINE_SLACK_SECONDS}: a stuck rollout should fail with the Deployment's own "
            "reason (ProgressDeadlineExceeded), not with a bare timeout",
        )
    return (
        TerminationSpec(pre_stop_sleep_seconds=pre_stop, grace_period_seconds=grace),
        RolloutSpec(progress_deadline_seconds=deadline, timeout_seconds=timeout),
        graceful,
    )


def _pull_policy(r: _Reader, image: str, side_loaded: bool) -> str:
    """imagePullPolicy: the key's value, or derived. A digest names one image forever and a
    side-loaded image (kind load) is in no registry, so both are IfNotPresent; a tag can be pushed
    again, so a node that has an older image under that tag must pull (Always)."""
    policy = r.string("imagePullPolicy")
    if policy in PULL_POLICIES:
        return policy
    if policy:
        r.fail("imagePullPolicy", policy, "must be Always, IfNotPresent, Never, or empty to derive it from the image")
    return "IfNotPresent" if side_loaded or "@" in image else "Always"


def _check_image(r: _Reader, key: str, image: str, examples: str) -> None:
    if not _IMAGE.match(image):
        r.fail(
            key,
            image,
            f"must be an image reference [registry[:port]/]path[:tag][@sha256:digest] with a lowercase path, "
            f"e.g. {examples}",
        )


def _egress_rules(r: _Reader, items: list[str]) -> list[EgressRule]:
    rules: list[EgressRule] = []
    for item in items:
        cidr, _, port = item.partition(":") if "/" in item.split(":")[0] else (item, "", "")
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            r.fail("egressAllowed", item, "each item must be CIDR or CIDR:port, e.g. 10.0.12.0/24:5432")
            continue
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            r.fail("egressAllowed", item, "the port after the CIDR must be 1-65535")
            continue
        rules.append(EgressRule(cidr=str(network), port=int(port) if port else None))
    return rules


def _is_qualified_name(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    return bool(_QUALIFIED_NAME.match(key)) and len(name) <= MAX_NAME and len(prefix) <= 253


def _read_cluster(r: _Reader, app: FlaskAppArgs) -> ClusterSettings:
    target = r.choice("clusterTarget", CLUSTER_TARGETS)
    kubeconfig = r.secret("kubeconfig")
    context = r.string("kubeContext") or None
    install_nginx = r.boolean("installIngressNginx")
    nginx_version = r.string("ingressNginxVersion")
    if not re.match(r"^controller-v\d+\.\d+\.\d+$", nginx_version):
        r.fail("ingressNginxVersion", nginx_version, "must be a release tag such as controller-v1.14.3 (never main)")

    kind: KindSettings | None = None
    if target == "kind":
        kind = KindSettings(
            cluster_name=r.string("kindClusterName"),
            workers=r.integer("kindWorkers", minimum=0, maximum=10),
            create=r.boolean("kindCreateCluster"),
            node_image=r.string("kindNodeImage") or None,
            load_image=r.boolean("kindLoadImage"),
            app_source_dir=r.string("appSourceDir"),
        )
        r.dns_label("kindClusterName", kind.cluster_name, "a Kind cluster name")
        if kind.node_image is not None:
            _check_image(r, "kindNodeImage", kind.node_image, "kindest/node:v1.34.0 or kindest/node:v1.34.0@sha256:...")
            if not kind.create:
                # Silently ignoring it would leave users believing their cluster runs that version.
                r.fail(
                    "kindNodeImage",
                    kind.node_image,
                    "only applies when kindCreateCluster is true: an existing cluster keeps its nodes",
                )
        if kubeconfig is not None or context:
            r.fail("clusterTarget", target, "kind takes its kubeconfig from Kind: unset kubeconfig and kubeContext")
        if kind.load_image and "@" in app.image:
            r.fail("image", app.image, "cannot be pinned by digest when kindLoadImage builds it locally")
        if app.service_type == "LoadBalancer":
            r.fail("serviceType", app.service_type, "needs a cloud load balancer, which Kind has not: use ClusterIP")
    elif kubeconfig is None and not context:
        # Falling back to the ambient current context is how people deploy to the wrong cluster.
        r.fail(
            "kubeconfig",
            "",
            "the existing target needs a kubeconfig (pulumi config set --secret kubeconfig ...) or kubeContext",
        )
    if install_nginx and target != "kind":
        r.fail("installIngressNginx", True, "installs the Kind flavour of ingress-nginx: only with clusterTarget kind")
    return ClusterSettings(target, kind, kubeconfig, context, install_nginx, nginx_version)


def _read_tls(r: _Reader, app: FlaskAppArgs) -> TlsSettings:
    tls = TlsSettings(
        mode=r.choice("tlsMode", TLS_MODES),
        secret_name=r.string("tlsSecretName"),
        host=app.ingress.host if app.ingress else "",
        cluster_issuer=r.string("certManagerClusterIssuer"),
        install_cert_manager=r.boolean("certManagerInstall"),
        cert_manager_version=r.string("certManagerVersion"),
        acme_email=r.string("acmeEmail"),
    )
    r.dns_label("tlsSecretName", tls.secret_name, "a Secret name")
    if tls.mode != "none" and app.ingress is None:
        r.fail("tlsMode", tls.mode, "terminates TLS at the Ingress: set ingressEnabled true or tlsMode none")
    if tls.mode == "cert-manager":
        r.dns_label("certManagerClusterIssuer", tls.cluster_issuer, "a ClusterIssuer name")
        if tls.install_cert_manager and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", tls.acme_email):
            r.fail("acmeEmail", tls.acme_email, "must be an e-mail address when certManagerInstall is true")
        if not re.match(r"^v\d+\.\d+\.\d+$", tls.cert_manager_version):
            r.fail("certManagerVersion", tls.cert_manager_version, "must be a release such as v1.18.2")
    elif tls.install_cert_manager:
        r.fail("certManagerInstall", True, "only applies with tlsMode cert-manager")
    return tls


def load_settings(config: pulumi.Config | None = None) -> StackSettings:
    """Reads and validates the whole stack configuration; raises ConfigError listing every problem."""
    r = _Reader(config or pulumi.Config(PROJECT))
    app = _read_app(r)
    cluster = _read_cluster(r, app)
    tls = _read_tls(r, app)
    side_loaded = cluster.kind is not None and cluster.kind.load_image
    app = replace(app, image_pull_policy=_pull_policy(r, app.image, side_loaded))
    if r.problems:
        raise ConfigError(r.problems)
    if app.ingress is not None:
        # The stack's TLS choice decides the Ingress's TLS entry and issuer annotation.
        annotations = dict(app.ingress.annotations)
        if tls.mode == "cert-manager":
            annotations["cert-manager.io/cluster-issuer"] = tls.cluster_issuer
        ingress = replace(
            app.ingress, tls_secret_name=None if tls.mode == "none" else tls.secret_name, annotations=annotations
        )
        app = replace(app, ingress=ingress)
    return StackSettings(app=app, cluster=cluster, tls=tls)


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None when it has none (digest-only or implicit latest)."""
    match = _IMAGE.match(image)
    return match.group("tag") if match else None


__all__ = [
    "CLUSTER_TARGETS",
    "SERVICE_TYPES",
    "TLS_MODES",
    "ConfigError",
    "StackSettings",
    "image_tag",
    "load_settings",
]
