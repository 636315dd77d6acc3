"""FlaskApp as a Pulumi component package, for programs in any Pulumi language.

`plugin/` (next to this package's sources) hosts the class below with the Python SDK's component
provider host; `pulumi package add` of that folder lets a YAML, TypeScript or Go program create a
`flask-k8s:index:FlaskApp`. The SDK infers the package's schema from the annotations of the
component's inputs, which must be real types (this module does not use `from __future__ import
annotations`) and TypedDicts, so that a key may be left out.

The inputs are derived from FlaskAppArgs and its specs, not written out again: `inputs_of` makes a
TypedDict of each dataclass with the same field names (camelCase on the wire, `containerPort`) and
types, a field with a default being NotRequired (the dataclass's default then applies). Each derived
TypedDict takes its dataclass's name and module, so the SDK reads the field docstrings from the
dataclass's own source. Everything is built by the Python FlaskApp, created here as this
component's one child, so both faces behave the same.
"""

import dataclasses
import sys
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

import pulumi

from flask_k8s_components.flask_app import FlaskApp as PythonFlaskApp
from flask_k8s_components.flask_app import FlaskAppArgs

PACKAGE_NAME = "flask-k8s"
"""The package's name: its type tokens are `flask-k8s:index:<Component>`."""

_derived: dict[type[Any], type[Any]] = {}


def inputs_of(cls: type[Any]) -> type[Any]:
    """The TypedDict a package input of dataclass `cls` has: the same keys and types, nested
    dataclasses as their own derived TypedDicts, a field with a default NotRequired, a secret
    `Output[str]` as `Input[str]` (a plain string or an output; FlaskApp makes it secret)."""
    if cls not in _derived:
        hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
        fields: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            hint = _input_type(hints[f.name])
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            fields[f.name] = NotRequired[hint] if has_default else hint
        derived = TypedDict(cls.__name__, fields)  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
        derived.__module__, derived.__qualname__, derived.__doc__ = cls.__module__, cls.__qualname__, cls.__doc__
        _derived[cls] = derived
    return _derived[cls]


def _without_none(hint: Any) -> Any:
    """X for `X | None`; the hint itself otherwise."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return hint


def _input_type(hint: Any) -> Any:
    hint = _without_none(hint)
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return inputs_of(typing.cast(type[Any], hint))
    if origin is list:
        return list[_input_type(typing.get_args(hint)[0])]
    if origin is dict:
        key, value = typing.get_args(hint)
        return dict[key, _input_type(value)]
    if origin is Literal:
        # The schema has no literal types: the dataclass's own check refuses other values.
        return type(typing.get_args(hint)[0])
    if origin is pulumi.Output:
        return pulumi.Input[typing.get_args(hint)[0]]
    return hint


FlaskAppInputs = inputs_of(FlaskAppArgs)
"""Inputs of FlaskApp: FlaskAppArgs as a TypedDict (see flask_k8s_components.flask_app for each
field's meaning). `service` and `networkPolicy` default to a ClusterIP Service and the default
policies; there is no way to say "none" for them here yet (a worker without a Service needs the
Python API)."""

# Secrets arrive as plain strings or Outputs; SecretsSpec takes them as secret Outputs.
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

    def __init__(
        self,
        name: str,
        args: FlaskAppInputs,  # pyright: ignore[reportInvalidTypeForm]  (derived at import: inputs_of)
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
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
    secrets = dict(values.get("secrets") or {})
    for key in _SECRET_INPUTS:
        if secrets.get(key) is not None:
            secrets[key] = pulumi.Output.secret(secrets[key])
    if secrets:
        values["secrets"] = secrets
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
