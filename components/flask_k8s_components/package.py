"""FlaskApp as a Pulumi component package, for programs in any Pulumi language.

`plugin/` (next to this package's sources) hosts the class below with the Python SDK's component
provider host; `pulumi package add` of that folder lets a YAML, TypeScript or Go program create a
`flask-k8s:index:FlaskApp`. The SDK infers the package's schema from the annotations here, which is
why this module does not use `from __future__ import annotations` (the analyzer needs real types,
not strings) and why the inputs are TypedDicts: each key that may be left out is NotRequired, and
the Python dataclass default applies.

The inputs mirror FlaskAppArgs and its specs field for field, in camelCase on the wire
(`containerPort`); tests/unit/test_library_api.py keeps the two in step. Everything is built by the
Python FlaskApp, created here as this component's one child, so both faces behave the same.
"""

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi

from flask_k8s_components.flask_app import FlaskApp as PythonFlaskApp
from flask_k8s_components.flask_app import FlaskAppArgs

PACKAGE_NAME = "flask-k8s"
"""The package's name: its type tokens are `flask-k8s:index:<Component>`."""


class ResourcesSpec(TypedDict):
    """Container requests and limits (Kubernetes quantities)."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str
    ephemeral_storage_request: NotRequired[str]
    ephemeral_storage_limit: NotRequired[str]


class QuotaSpec(TypedDict):
    """The namespace's ResourceQuota."""

    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    pods: int
    services: int
    persistent_volume_claims: int


class LimitRangeSpec(TypedDict):
    """Per-container defaults of the namespace's LimitRange."""

    default_cpu: str
    default_memory: str
    default_request_cpu: str
    default_request_memory: str
    default_ephemeral_storage: NotRequired[str]
    default_request_ephemeral_storage: NotRequired[str]


class DatabaseArgs(TypedDict):
    """PostgreSQL coordinates for DATABASE_URL."""

    user: str
    host: str
    port: int
    name: str


class ServiceSpec(TypedDict):
    """The Service in front of the pods."""

    type: NotRequired[str]
    annotations: NotRequired[dict[str, str]]


class RouteTls(TypedDict):
    """How a route serves TLS: mode none, secret, self-signed or cert-manager."""

    mode: NotRequired[str]
    secret_name: NotRequired[str]
    cluster_issuer: NotRequired[str]


class IngressSpec(TypedDict):
    """How the app is exposed through an Ingress."""

    host: str
    ingress_class_name: NotRequired[str]
    tls: NotRequired[RouteTls]
    annotations: NotRequired[dict[str, str]]


class SharedGateway(TypedDict):
    """A Gateway run by someone else that the route attaches to."""

    name: str
    namespace: str
    section_name: NotRequired[str]


class GatewaySpec(TypedDict):
    """How the app is exposed through Gateway API."""

    host: str
    tls: NotRequired[RouteTls]
    gateway_class_name: NotRequired[str]
    shared_gateway: NotRequired[SharedGateway]
    max_body_bytes: NotRequired[int]


class SecuritySpec(TypedDict):
    """Pod security context."""

    run_as_user: NotRequired[int]
    read_only_root_filesystem: NotRequired[bool]


class TerminationSpec(TypedDict):
    """How pods stop without dropping requests."""

    pre_stop_sleep_seconds: NotRequired[int]
    grace_period_seconds: NotRequired[int]


class RolloutSpec(TypedDict):
    """Rolling update pace and deadline."""

    max_surge: NotRequired[int]
    max_unavailable: NotRequired[int]
    progress_deadline_seconds: NotRequired[int]
    timeout_seconds: NotRequired[int]


class AutoscalingSpec(TypedDict):
    """HorizontalPodAutoscaler."""

    min_replicas: int
    max_replicas: int
    cpu_utilization: int


class EgressRule(TypedDict):
    """An allowed egress destination."""

    cidr: str
    port: NotRequired[int]


class NetworkPolicySpec(TypedDict):
    """Which traffic the namespace admits."""

    ingress_namespaces: NotRequired[list[str]]
    egress: NotRequired[list[EgressRule]]


class FlaskAppInputs(TypedDict):
    """Inputs of FlaskApp (see flask_k8s_components.flask_app.FlaskAppArgs for each field's meaning).

    `service` and `networkPolicy` default to a ClusterIP Service and the default policies; there is no
    way to say "none" for them here yet (a worker without a Service needs the Python API)."""

    name: str
    namespace: str
    image: str
    version: str
    replicas: int
    container_port: int
    resources: ResourcesSpec
    quota: QuotaSpec
    limit_range: LimitRangeSpec
    env: dict[str, str]
    config_file: str
    database: NotRequired[DatabaseArgs]
    secret_key: NotRequired[pulumi.Input[str]]
    jwt_secret_key: NotRequired[pulumi.Input[str]]
    database_password: NotRequired[pulumi.Input[str]]
    service: NotRequired[ServiceSpec]
    ingress: NotRequired[IngressSpec]
    gateway: NotRequired[GatewaySpec]
    namespace_labels: NotRequired[dict[str, str]]
    image_pull_policy: NotRequired[str]
    security: NotRequired[SecuritySpec]
    termination: NotRequired[TerminationSpec]
    rollout: NotRequired[RolloutSpec]
    autoscaling: NotRequired[AutoscalingSpec]
    disruption_budget: NotRequired[bool]
    spread_zones: NotRequired[bool]
    network_policy: NotRequired[NetworkPolicySpec]


# Secrets arrive as plain strings or Outputs; FlaskAppArgs takes them as secret Outputs.
_SECRET_INPUTS = ("secret_key", "jwt_secret_key", "database_password")


class FlaskApp(pulumi.ComponentResource):
    """One Flask app on Kubernetes: namespace with quota and LimitRange, ConfigMap, generated secrets,
    Deployment, Service and, with `ingress` or `gateway`, a TLS route."""

    namespace_name: pulumi.Output[str]
    """The app's namespace."""
    deployment_name: pulumi.Output[str]
    """The Deployment's name."""
    service_name: pulumi.Output[str]
    """The Service's name."""
    url: pulumi.Output[str] | None
    """Where the app answers (from the route's host); absent without a route."""
    database_url: pulumi.Output[str]
    """DATABASE_URL (secret)."""

    def __init__(self, name: str, args: FlaskAppInputs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE_NAME}:index:FlaskApp", name, None, opts)
        app = PythonFlaskApp(f"{name}-app", flask_app_args(args), pulumi.ResourceOptions(parent=self))
        self.namespace_name = app.namespace_name
        self.deployment_name = app.deployment_name
        # FlaskAppInputs always has a Service (see its docstring).
        self.service_name = typing.cast(pulumi.Output[str], app.service_name)
        self.url = app.url
        self.database_url = app.database_url
        self.register_outputs(
            {
                "namespace_name": self.namespace_name,
                "deployment_name": self.deployment_name,
                "service_name": self.service_name,
                "url": self.url,
                "database_url": self.database_url,
            }
        )


def flask_app_args(inputs: Mapping[str, Any]) -> FlaskAppArgs:
    """FlaskAppArgs from the package's inputs (Python names, as the provider host passes them)."""
    values = dict(inputs)
    for key in _SECRET_INPUTS:
        if values.get(key) is not None:
            values[key] = pulumi.Output.secret(values[key])
    return _build(FlaskAppArgs, values)


def _build(cls: type[Any], values: Mapping[str, Any]) -> Any:
    """An instance of dataclass `cls` from a mapping, nested dataclasses (and lists of them) included;
    a key left out takes the dataclass's default."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown inputs {unknown}; known: {sorted(known)}")
    return cls(**{key: _convert(hints[key], value) for key, value in values.items()})


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    target = _without_none(hint)
    if dataclasses.is_dataclass(target) and isinstance(value, Mapping):
        return _build(typing.cast(type[Any], target), value)
    if typing.get_origin(target) is list:
        (item,) = typing.get_args(target)
        return [_convert(item, v) for v in value]
    return value


def _without_none(hint: Any) -> Any:
    """X for `X | None`; the hint itself otherwise."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return hint
