"""Every configuration value a stack can set: its type, default, allowed range and meaning.

The stack config has a handful of groups a Helm user would recognise (`app`, `autoscaling`,
`namespace`, `service`, `ingress`, `tls`, `cluster`, `database`), each one object set with
`pulumi config set --path app.resources.limits.cpu 500m`, plus the secret keys. This module is the
one place defaults live: Pulumi.yaml declares each group as an object whose default is `{}`, because
the CLI replaces a declared default object whole as soon as a stack sets any field of it, and the
README's configuration table is generated from these models (tests/unit/test_readme.py).

Single values are checked here (types, ranges, grammar); relations between values are checked in
settings/checks.py, and derived values (quota, LimitRange, pull policy) are computed in
settings/build.py.
"""

from __future__ import annotations

import configparser
import importlib.util
import ipaddress
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from flask_k8s_components.ingress_controller import TRAEFIK_IMAGE
from flask_k8s_components.vocabulary import (
    DNS_NAME_RULE,
    dns_label_problem,
    is_dns_name,
    is_env_name,
    is_image_reference,
    is_ip_address,
    is_label_value,
    is_qualified_name,
)
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


def _problem(message: str) -> PydanticCustomError:
    # A custom error type keeps pydantic's "Value error, " prefix out of the message; the message is
    # passed as a context value because the template itself must be a literal.
    return PydanticCustomError("flask_k8s", "{problem}", {"problem": message})


# --- Value types --------------------------------------------------------------------------------------


# The quantity grammar of apimachinery's resource.Quantity (quantity.go): the kubernetes client's
# parser below is laxer (it takes "1 Gi", "1K", "1_000Mi", "inf", "NaN", non-ASCII digits), so a
# value is matched against the grammar first and only then parsed.
_QUANTITY = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?")


def _client_quantity_parser() -> Callable[[str], Decimal]:
    """The kubernetes client's parse_quantity, from its module file (kubernetes/utils/quantity.py, which
    imports only `decimal`). Imported as kubernetes.utils.quantity it would first run the package's
    __init__, which loads the whole client (config, dynamic, watch, stream, kubernetes_validate):
    0.1-0.3 s of every program start, for one function. find_spec of the top-level package does not
    import it."""
    package = importlib.util.find_spec("kubernetes")
    if package is None or package.origin is None:
        raise ImportError("the kubernetes client package is not installed (requirements.txt)")
    path = Path(package.origin).parent / "utils" / "quantity.py"
    spec = importlib.util.spec_from_file_location("flask_k8s_settings_quantity", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the kubernetes client's quantity parser from {path.name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.parse_quantity


_parse_quantity = _client_quantity_parser()


def parse_quantity(value: str) -> Decimal:
    """A Kubernetes quantity (500m, 2, 256Mi, 1Gi) as a number, by the kubernetes client's own parser."""
    return _parse_quantity(value)


def _quantity(value: Any) -> str:
    # YAML reads `cpu: 2` as a number; a quantity is its string form.
    text = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _QUANTITY.fullmatch(text):
        raise _problem("must be a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi")
    try:
        parsed = parse_quantity(text)
    except ValueError:
        raise _problem("must be a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi") from None
    if parsed < 0:
        raise _problem("must not be negative")
    return text


def _image(value: str) -> str:
    if not is_image_reference(value):
        raise _problem(
            "must be an image reference [registry[:port]/]path[:tag][@sha256:digest] with a lowercase path, "
            "e.g. flask-app:1.0 or ghcr.io/org/app@sha256:..."
        )
    return value


def _check_dns_label(value: str, what: str, *, rfc1035: bool = False) -> str:
    problem = dns_label_problem(value, what, rfc1035=rfc1035)
    if problem:
        raise _problem(problem)
    return value


def _dns_label(what: str, *, rfc1035: bool = False) -> AfterValidator:
    return AfterValidator(lambda value: _check_dns_label(value, what, rfc1035=rfc1035))


def _host(value: str) -> str:
    if not is_dns_name(value, wildcard=True):
        raise _problem(f"must be {DNS_NAME_RULE} with an optional leading '*.', e.g. flask-app.example.com")
    return value


def _database_host(value: str) -> str:
    if not (is_dns_name(value) or is_ip_address(value)):
        raise _problem(f"must be {DNS_NAME_RULE} or an IP address, e.g. postgres.databases.svc.cluster.local")
    return value


def _label_value(value: str) -> str:
    if not is_label_value(value):
        raise _problem("must be a valid label value: at most 63 of [A-Za-z0-9_.-]")
    return value


def _annotations(value: dict[str, str]) -> dict[str, str]:
    bad = [k for k in value if not is_qualified_name(k)]
    if bad:
        raise _problem(f"{', '.join(map(repr, bad))}: each key must be an annotation key ([prefix/]name)")
    return value


def _env_value(value: Any) -> Any:
    # An env value is a string; YAML reads `WORKERS: 4` or `DEBUG: true` as other types.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


def _env_name(value: str) -> str:
    # Checked key by key, so that a bad name is reported alone: the whole map would echo every value.
    if not is_env_name(value):
        raise _problem("must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
    return value


def _release(pattern: str, example: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.match(pattern, value):
            raise _problem(f"must be a release such as {example}")
        return value

    return AfterValidator(check)


def _source_dir(value: str) -> str:
    # Resolved against the project folder: a path that leaves it (or an absolute one) would build
    # whatever folder of the machine running `up` happens to be there.
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
        raise _problem("must be a folder inside the project, relative to it (no leading '/', no '..'), e.g. app")
    return value


def _email(value: str) -> str:
    # email-validator's grammar (RFC 5321/5322 with their length limits), syntax only: no DNS lookup.
    if value:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as error:
            raise _problem(f"must be an e-mail address such as ops@example.com ({error})") from None
    return value


# PostgreSQL's identifiers: at most NAMEDATALEN - 1 = 63 bytes (a longer one is silently truncated).
# Allowed here: the unquoted grammar, lowercase, [a-z_][a-z0-9_$]*, the names that `CREATE ROLE name`
# and `CREATE DATABASE name` store as written. PostgreSQL folds an unquoted name to lowercase, so a
# mixed-case or punctuated name would have to be quoted in every statement that creates or grants it,
# or the name in DATABASE_URL would not be the one created.
PG_IDENTIFIER_BYTES = 63
_PG_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*")
PG_IDENTIFIER_RULE = (
    f"an unquoted PostgreSQL identifier: lowercase letters, digits, '_' and '$', not starting with a digit or "
    f"'$', at most {PG_IDENTIFIER_BYTES} bytes"
)


def _pg_identifier(what: str, *, role: bool = False) -> AfterValidator:
    def check(value: str) -> str:
        if not _PG_IDENTIFIER.fullmatch(value) or len(value.encode()) > PG_IDENTIFIER_BYTES:
            raise _problem(f"must be {what}: {PG_IDENTIFIER_RULE}")
        if role and value.startswith("pg_"):
            raise _problem("must not start with 'pg_': PostgreSQL reserves those role names")
        return value

    return AfterValidator(check)


# The app reads its config file with configparser (app/app.py) when it starts: a file it cannot
# parse would crash every pod, so it is parsed here the same way.
def _config_file(value: str) -> str:
    try:
        configparser.ConfigParser().read_string(value, source="app.configFile")
    except configparser.Error as error:
        first = str(error).splitlines()[0]
        raise _problem(f"must be an INI file the app's configparser reads: {first}") from None
    return value


Quantity = Annotated[str, BeforeValidator(_quantity)]
Image = Annotated[str, AfterValidator(_image)]
NamespaceName = Annotated[str, _dns_label("a namespace name")]
Annotations = Annotated[dict[str, str], AfterValidator(_annotations)]
EnvName = Annotated[str, AfterValidator(_env_name)]
EnvValue = Annotated[str, BeforeValidator(_env_value)]


class _Group(BaseModel):
    """A config object: camelCase keys, unknown keys refused (a typo is an error, not a no-op)."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="forbid", frozen=True)


# --- cluster ------------------------------------------------------------------------------------------


class KindGroup(_Group):
    name: Annotated[str, _dns_label("a Kind cluster name")] = Field(
        default="devops-lab", description="Kind cluster name (kubectl context kind-<name>)."
    )
    workers: int = Field(default=2, ge=0, le=10, description="Worker nodes beside the control plane.")
    create: bool = Field(
        default=True,
        description="Create the cluster (deleted on destroy); false uses an existing Kind cluster of that name.",
    )
    node_image: Annotated[str, AfterValidator(lambda v: _image(v) if v else v)] = Field(
        default="",
        description="Node image (the cluster's Kubernetes version), best pinned by digest; empty: kind's default. "
        "Changing it recreates the cluster.",
    )
    load_image: bool = Field(default=True, description="Build the app image from appSourceDir and `kind load` it.")
    app_source_dir: Annotated[str, AfterValidator(_source_dir)] = Field(
        default="app", description="Folder of the app's Dockerfile, relative to the project (inside it)."
    )


_BODY_SIZE = re.compile(r"(0|[1-9][0-9]{0,9})([kKmMgG]?)")


def _body_size(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _BODY_SIZE.fullmatch(text):
        raise _problem("must be a size as ingress-nginx writes it: bytes, or a number with k, m or g (e.g. 5m)")
    return text


def body_size_bytes(value: str) -> int:
    """A size in ingress-nginx's grammar (5m) in bytes: k, m and g are powers of 1024, as in nginx."""
    match = _BODY_SIZE.fullmatch(value)
    assert match is not None, value
    return int(match.group(1)) * 1024 ** " kmg".index(match.group(2).lower() or " ")


class CrdsGroup(_Group):
    install: bool = Field(
        default=True, description="Install the Gateway API (standard channel) and Traefik CRDs with the controller."
    )
    dir: str = Field(
        default="",
        description="Empty: read them from their releases' URLs; a folder: the files scripts/toolchain/crds.sh "
        "writes (offline).",
    )


class IngressControllerGroup(_Group):
    install: bool = Field(
        default=False,
        description="Install Traefik, serving IngressClass ingress.className and GatewayClass gatewayClassName.",
    )
    image: Image = Field(
        default=TRAEFIK_IMAGE,
        description="Traefik's image: the official one at the pinned version, or one built and loaded (offline).",
    )
    namespace: NamespaceName = Field(default="traefik", description="Namespace created for the controller.")
    replicas: int = Field(default=1, ge=1, le=10, description="Controller pods (a PDB above 1).")
    exposure: Literal["hostPorts", "LoadBalancer"] = Field(
        default="hostPorts",
        description="hostPorts: ports 80/443 of the ingress-ready=true node (Kind); LoadBalancer: a cloud load "
        "balancer Service.",
    )
    service_annotations: Annotations = Field(
        default_factory=dict, description="Annotations of the LoadBalancer Service (exposure LoadBalancer)."
    )
    gateway_class_name: Annotated[str, _dns_label("a GatewayClass name")] = Field(
        default="traefik", description="GatewayClass the controller serves."
    )
    max_body_size: Annotated[str, BeforeValidator(_body_size)] = Field(
        default="5m",
        description="Largest request body on any route it serves, 413 above (the article's proxy-body-size 5m, "
        "which Traefik 3.6's Ingress provider does not read); 0: no cap.",
    )
    crds: CrdsGroup = Field(default_factory=CrdsGroup, description="Its CRDs.")


class ClusterGroup(_Group):
    target: Literal["kind", "existing"] = Field(
        default="kind",
        description="kind: create (or reuse) a local Kind cluster; existing: a cluster from the kubeconfig secret "
        "or `context`.",
    )
    context: str = Field(
        default="", description="existing: context of the local kubeconfig (when no kubeconfig secret)."
    )
    kind: KindGroup = Field(default_factory=KindGroup, description="The Kind cluster (target kind).")
    ingress_controller: IngressControllerGroup = Field(
        default_factory=IngressControllerGroup, description="The ingress controller the program installs (Traefik)."
    )


# --- app ----------------------------------------------------------------------------------------------


class ResourceList(_Group):
    """Container resources with no default of their own (the LimitRange's, derived when unset)."""

    cpu: Quantity | None = Field(default=None, description="CPU.")
    memory: Quantity | None = Field(default=None, description="Memory.")
    ephemeral_storage: Quantity | None = Field(default=None, alias="ephemeral-storage", description="Node disk.")


class Requests(_Group):
    cpu: Quantity = Field(default="100m", description="CPU reserved per container.")
    memory: Quantity = Field(default="128Mi", description="Memory reserved per container.")
    ephemeral_storage: Quantity = Field(default="64Mi", alias="ephemeral-storage", description="Node disk reserved.")


class Limits(_Group):
    cpu: Quantity = Field(default="500m", description="Most CPU per container.")
    memory: Quantity = Field(default="256Mi", description="Most memory per container.")
    ephemeral_storage: Quantity = Field(
        default="256Mi", alias="ephemeral-storage", description="Node disk before eviction (logs cannot fill a node)."
    )


class Resources(_Group):
    requests: Requests = Field(default_factory=Requests, description="Reserved on the node.")
    limits: Limits = Field(default_factory=Limits, description="The most a container may use.")


class Rollout(_Group):
    max_surge: int = Field(default=1, ge=0, description="Extra pods during a rolling update.")
    max_unavailable: int = Field(
        default=0, ge=0, description="Pods that may be missing during a rolling update (0: none)."
    )
    progress_deadline_seconds: int = Field(
        default=300,
        ge=10,
        le=86400,
        description="A rollout without progress this long is failed (ProgressDeadlineExceeded).",
    )
    timeout_seconds: int = Field(
        default=360,
        ge=10,
        le=86400,
        description="`pulumi up` fails after waiting this long for the Deployment, with its reason "
        "(at least progressDeadlineSeconds + 30).",
    )


class Termination(_Group):
    pre_stop_sleep_seconds: int = Field(
        default=5,
        ge=0,
        le=300,
        description="A stopping pod keeps serving this long while endpoints let it go; 0: none.",
    )
    graceful_timeout_seconds: int = Field(
        default=20, ge=1, le=600, description="After SIGTERM, gunicorn finishes in-flight requests for up to this long."
    )
    grace_period_seconds: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="The kubelet kills a stopping pod after this long; must exceed the two above together.",
    )


class Security(_Group):
    run_as_user: int = Field(
        default=10001, ge=1, le=2**31 - 1, description="Numeric non-root UID/GID (the image's USER)."
    )
    read_only_root_filesystem: bool = Field(
        default=True, description="Read-only root filesystem (/tmp is an emptyDir)."
    )


class AppGroup(_Group):
    name: Annotated[str, _dns_label("the Deployment name and 'app' label", rfc1035=True)] = Field(
        default="flask-app", description="Deployment name and `app` label; prefix of the Service and Ingress names."
    )
    image: Image = Field(
        default="flask-app:1.0", description="Container image ([registry/]path[:tag][@sha256:digest])."
    )
    image_pull_policy: Literal["", "Always", "IfNotPresent", "Never"] = Field(
        default="",
        description="Empty derives it: IfNotPresent for a digest or an image loaded into Kind, else Always.",
    )
    reject_latest_tag: bool = Field(default=False, description="Refuse an image without a fixed tag or digest.")
    version: Annotated[str, AfterValidator(_label_value)] = Field(
        default="1.0", description="Version label on the pods (app.kubernetes.io/version)."
    )
    replicas: int = Field(
        default=3, ge=1, description="Pods, when autoscaling is off (the HPA owns the count otherwise)."
    )
    port: int = Field(default=5000, ge=1, le=65535, description="Port the app listens on in the container.")
    resources: Resources = Field(default_factory=Resources, description="Requests and limits per container.")
    rollout: Rollout = Field(default_factory=Rollout, description="Rolling update pace and failure detection.")
    termination: Termination = Field(default_factory=Termination, description="How a pod stops without loss.")
    security: Security = Field(default_factory=Security, description="Container security context.")
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        description="ConfigMap environment, merged over FLASK_ENV=production, FLASK_APP=app.py, LOG_LEVEL=info, "
        "WORKERS=4; no secret-looking names.",
    )
    config_file: Annotated[str, AfterValidator(_config_file)] = Field(
        default="[database]\npool_size = 10\ntimeout = 30\n\n[cache]\nbackend = redis\nttl = 300\n",
        description="The app's config file (INI), mounted read-only at /etc/app/config/app.ini.",
    )
    disruption_budget: bool = Field(default=True, description="A PodDisruptionBudget (maxUnavailable 1).")
    spread_zones: bool = Field(default=False, description="Spread pods across zones as well as nodes (soft).")


# The app's environment before app.env is merged over it (the article's values).
DEFAULT_ENV: dict[str, str] = {"FLASK_ENV": "production", "FLASK_APP": "app.py", "LOG_LEVEL": "info", "WORKERS": "4"}


class AutoscalingGroup(_Group):
    enabled: bool = Field(default=False, description="A HorizontalPodAutoscaler owns the replica count.")
    min_replicas: int = Field(default=2, ge=1, description="Fewest pods.")
    max_replicas: int = Field(default=6, ge=1, description="Most pods (the quota must hold them during a rollout).")
    cpu_utilization: int = Field(default=70, ge=1, le=1000, description="Target average CPU, percent of the request.")


# --- namespace ----------------------------------------------------------------------------------------


class QuotaAmounts(_Group):
    cpu: Quantity | None = Field(default=None, description="Total CPU of the namespace's pods.")
    memory: Quantity | None = Field(default=None, description="Total memory of the namespace's pods.")


class QuotaGroup(_Group):
    requests: QuotaAmounts = Field(
        default_factory=QuotaAmounts, description="Unset: the peak pod count of a rollout x app.resources.requests."
    )
    limits: QuotaAmounts = Field(
        default_factory=QuotaAmounts, description="Unset: the peak pod count of a rollout x app.resources.limits."
    )
    pods: int | None = Field(
        default=None,
        ge=1,
        description="Pods. Unset: the peak pod count of a rollout "
        "(replicas or HPA maximum + 2 x maxSurge + maxUnavailable).",
    )
    services: int = Field(default=10, ge=1, description="Services.")
    persistent_volume_claims: int = Field(default=5, ge=0, description="PersistentVolumeClaims.")


class LimitsGroup(_Group):
    default: ResourceList = Field(
        default_factory=ResourceList, description="For a container without limits. Unset: app.resources.limits."
    )
    default_request: ResourceList = Field(
        default_factory=ResourceList, description="For a container without requests. Unset: app.resources.requests."
    )


class PodSecurityGroup(_Group):
    enforce: Literal["privileged", "baseline", "restricted"] = Field(
        default="restricted", description="Pod Security level enforced (audit and warn stay restricted)."
    )
    version: Annotated[str, _release(r"^v1\.\d+$", "v1.34 (a pinned Kubernetes minor version)")] = Field(
        default="v1.34", description="Pinned Pod Security Standards version."
    )


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise _problem("must be a network in CIDR notation, e.g. 10.0.12.0/24") from None


class EgressRuleGroup(_Group):
    cidr: Annotated[str, AfterValidator(_cidr)] = Field(description="Destination network, e.g. 10.0.12.0/24.")
    port: int | None = Field(default=None, ge=1, le=65535, description="TCP port; unset: any.")


class NetworkPolicyGroup(_Group):
    enabled: bool = Field(
        default=True, description="Default-deny ingress; the ingress controller may reach the app port."
    )
    ingress_controller_namespace: NamespaceName = Field(
        default="traefik",
        description="Namespace of the ingress controller allowed in (cluster.ingressController.namespace's default).",
    )
    egress: list[EgressRuleGroup] = Field(
        default_factory=list, description="Egress allowed besides DNS: [{cidr, port}] (e.g. the database)."
    )


class NamespaceGroup(_Group):
    name: NamespaceName = Field(default="flask-app", description="Namespace created for the app.")
    pod_security: PodSecurityGroup = Field(default_factory=PodSecurityGroup, description="Pod Security Admission.")
    quota: QuotaGroup = Field(default_factory=QuotaGroup, description="The ResourceQuota.")
    limits: LimitsGroup = Field(default_factory=LimitsGroup, description="The LimitRange's container defaults.")
    network_policy: NetworkPolicyGroup = Field(default_factory=NetworkPolicyGroup, description="NetworkPolicies.")


# --- service, ingress, tls, database ----------------------------------------------------------------


class ServiceGroup(_Group):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(default="ClusterIP", description="Service type.")
    annotations: Annotations = Field(
        default_factory=dict, description="Service annotations (cloud load balancer settings)."
    )


class SharedGatewayGroup(_Group):
    name: Annotated[str, AfterValidator(lambda v: _check_dns_label(v, "a Gateway name") if v else v)] = Field(
        default="", description="Empty: the program makes a Gateway for the app; else attach to this Gateway."
    )
    namespace: Annotated[str, AfterValidator(lambda v: _check_dns_label(v, "a namespace name") if v else v)] = Field(
        default="", description="The shared Gateway's namespace (required with name)."
    )
    section_name: Annotated[str, AfterValidator(lambda v: _check_dns_label(v, "a listener name") if v else v)] = Field(
        default="", description="The listener to attach to; empty: every listener that admits the route."
    )


class GatewayGroup(_Group):
    class_name: Annotated[str, _dns_label("a GatewayClass name")] = Field(
        default="traefik", description="GatewayClass of the Gateway the program makes (the cloud's or platform's)."
    )
    shared: SharedGatewayGroup = Field(
        default_factory=SharedGatewayGroup, description="A Gateway run elsewhere to attach the route to."
    )
    max_body_size: Annotated[str, BeforeValidator(_body_size)] = Field(
        default="5m",
        description="Largest request body (the article's 5m), through a Traefik Middleware: only where Traefik "
        "(cluster.ingressController) serves the class.",
    )


class IngressGroup(_Group):
    enabled: bool = Field(default=True, description="Route traffic to the app from outside the cluster.")
    api: Literal["ingress", "gateway"] = Field(
        default="ingress", description="ingress: an Ingress (the article's); gateway: a Gateway API HTTPRoute."
    )
    class_name: Annotated[str, _dns_label("an IngressClass name")] = Field(
        default="nginx", description="IngressClass (api ingress)."
    )
    host: Annotated[str, AfterValidator(_host)] = Field(
        default="flask-app.local", description="Host name of the route and its certificate."
    )
    annotations: Annotations = Field(
        default_factory=dict,
        description="Ingress annotations (api ingress), merged over nginx.ingress.kubernetes.io/proxy-body-size=5m "
        "(the article's) and service-upstream=true (requests kept off terminating pods).",
    )
    gateway: GatewayGroup = Field(default_factory=GatewayGroup, description="The Gateway API route (api gateway).")


DEFAULT_INGRESS_ANNOTATIONS: dict[str, str] = {
    "nginx.ingress.kubernetes.io/proxy-body-size": "5m",
    # Route to the Service's ClusterIP, where kube-proxy leaves terminating pods out: Traefik 3.6's
    # ingress-nginx provider keeps a terminating pod as a target until its container exits (without
    # this, rollouts lost requests in tests/kind). ingress-nginx reads it the same way.
    "nginx.ingress.kubernetes.io/service-upstream": "true",
}


class CertManagerGroup(_Group):
    cluster_issuer: Annotated[str, _dns_label("a ClusterIssuer name")] = Field(
        default="letsencrypt-prod", description="ClusterIssuer named in the Ingress's (or Gateway's) annotation."
    )
    install: bool = Field(
        default=False, description="Install cert-manager and an ACME ClusterIssuer (needs acmeEmail)."
    )
    version: Annotated[str, _release(r"^v\d+\.\d+\.\d+$", "v1.18.2")] = Field(
        default="v1.18.2", description="cert-manager release installed."
    )
    acme_email: Annotated[str, AfterValidator(_email)] = Field(
        default="", description="ACME (Let's Encrypt) account e-mail (checked even while install is false)."
    )


class TlsGroup(_Group):
    mode: Literal["self-signed", "cert-manager", "secret", "none"] = Field(
        default="self-signed",
        description="self-signed: a local CA (output caCertificate); cert-manager; secret: an existing Secret; "
        "none: plain HTTP (and the only mode with a shared Gateway, which has its own TLS).",
    )
    secret_name: Annotated[str, _dns_label("a Secret name")] = Field(
        default="flask-app-tls", description="Secret holding the route's certificate."
    )
    cert_manager: CertManagerGroup = Field(default_factory=CertManagerGroup, description="cert-manager mode.")


class DatabaseGroup(_Group):
    host: Annotated[str, AfterValidator(lambda v: _database_host(v) if v else v)] = Field(
        default="",
        description="PostgreSQL host (DNS name or IP). Empty: no database server, DATABASE_URL is SQLite in /tmp.",
    )
    port: int = Field(default=5432, ge=1, le=65535, description="PostgreSQL port.")
    user: Annotated[str, _pg_identifier("a PostgreSQL role name", role=True)] = Field(
        default="flask", description="Database user: [a-z_][a-z0-9_$]*, at most 63 bytes, not pg_*."
    )
    name: Annotated[str, _pg_identifier("a PostgreSQL database name")] = Field(
        default="flask", description="Database name: [a-z_][a-z0-9_$]*, at most 63 bytes."
    )


# The stack config's objects, by key.
GROUPS: dict[str, type[_Group]] = {
    "cluster": ClusterGroup,
    "app": AppGroup,
    "autoscaling": AutoscalingGroup,
    "namespace": NamespaceGroup,
    "service": ServiceGroup,
    "ingress": IngressGroup,
    "tls": TlsGroup,
    "database": DatabaseGroup,
}

# Keys that hold one secret each (set with `pulumi config set --secret KEY ...`): never inside an
# object, so that a plain-text value is recognised and refused.
SECRET_KEYS: dict[str, str] = {
    "kubeconfig": "existing target: kubeconfig contents. Empty: cluster.context.",
    "secretKey": "Flask SECRET_KEY. Empty: generated (64 characters).",
    "jwtSecretKey": "JWT_SECRET_KEY. Empty: generated (64 characters).",
    "databasePassword": "Password in DATABASE_URL (with database.host). Empty: generated (32 characters).",
}
