"""Runs Pulumi programs against mocks and records what they register, for plain assertions.

Why not `@pulumi.runtime.test`: a test that forgets that decorator, or forgets to return its
`Output.apply(...)`, passes without checking anything. Here a test calls `run(program)`, which runs
the program to completion (every registration and every apply awaited) and returns a `Deployment`
of plain Python values. Assertions then compare plain data; an `Output` that slips into an
assertion fails loudly (see tests/conftest.py, which makes `bool(Output)` raise).

The unit tests assert on what it returns; the benchmarks render a stack's objects as manifests and a
chart with `run_stack` (benchmarks/chart.py) and time it (benchmarks/mock_stacks.py).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import runpy
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "flask-k8s"

# How the SDK marks a secret value on the wire (pulumi/runtime/rpc.py).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

MOCK_KUBECONFIG = "apiVersion: v1\nkind: Config\n# mock kubeconfig\n"


@dataclass
class Registered:
    """One resource registration, as the engine received it."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    parent: str
    provider: str
    custom: bool
    secret_paths: set[str]
    """Dotted paths of inputs that were sent as secrets (e.g. "stringData.SECRET_KEY")."""
    additional_secret_outputs: list[str]
    dependencies: list[str]
    delete_before_replace: bool
    ignore_changes: list[str] = field(default_factory=list)
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """customTimeouts as sent ({"create": "600s", ...}; empty when none)."""
    aliases: list[str] = field(default_factory=list)
    """The aliases sent as full URNs (an alias given by name, type or parent is not listed)."""

    def get(self, path: str) -> Any:
        """A nested input by dotted path ("spec.template.spec"), or KeyError naming the resource."""
        value: Any = self.inputs
        for part in path.split("."):
            if isinstance(value, list):
                value = value[int(part)]
            elif isinstance(value, dict) and part in value:
                value = value[part]
            else:
                raise KeyError(f"{self.urn}: no input {path!r} (stopped at {part!r})")
        return value

    def is_secret(self, path: str) -> bool:
        """True if the input at `path`, or a value containing it, was sent as a secret."""
        return any(path == p or path.startswith(p + ".") for p in self.secret_paths)

    def secrets_within(self, path: str) -> set[str]:
        """The secret paths at, above or anywhere below the input at `path` (empty: all of it is plain)."""
        return {p for p in self.secret_paths if p == path or p.startswith(path + ".") or path.startswith(p + ".")}


@dataclass
class Deployment:
    """What a program registered, and its stack outputs (resolved)."""

    resources: list[Registered]
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    error: BaseException | None = None
    """The exception the program raised, when the run was told to expect one."""

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registered:
        """The single resource of a type (and logical name); fails listing what there is."""
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            have = sorted(f"{r.type}::{r.name}" for r in self.resources)
            raise AssertionError(f"expected one {type_} {name or ''}, found {len(found)}; registered: {have}")
        return found[0]

    def by_urn(self, urn: str) -> Registered:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def kubernetes_objects(self) -> list[Registered]:
        """Every Kubernetes object (not providers, not component resources)."""
        return [
            r for r in self.resources if r.custom and r.type.startswith("kubernetes:") and "providers" not in r.type
        ]


def _secret_paths(value: Any, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return {prefix.rstrip(".")} | _secret_paths(value.get("value"), prefix)
        for key, item in value.items():
            found |= _secret_paths(item, f"{prefix}{key}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found |= _secret_paths(item, f"{prefix}{index}.")
    return found


def _unwrap_secrets(value: Any) -> Any:
    """Plain values for assertions; which paths were secret is kept in Registered.secret_paths."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return _unwrap_secrets(value.get("value"))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


class _Monitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also recording parent, provider and secrecy of every registration."""

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            raw = json_format.MessageToDict(request.object)
            self.registered.append(
                Registered(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    inputs=_unwrap_secrets(pulumi.runtime.rpc.deserialize_properties(request.object)),
                    parent=request.parent,
                    provider=request.provider,
                    custom=request.custom,
                    secret_paths=_secret_paths(raw),
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    dependencies=list(request.dependencies),
                    delete_before_replace=request.deleteBeforeReplace,
                    ignore_changes=list(request.ignoreChanges),
                    custom_timeouts={k: v for k, v in json_format.MessageToDict(request.customTimeouts).items() if v},
                    aliases=[alias.urn for alias in request.aliases if alias.urn],
                )
            )
        return response


class _Mocks(pulumi_mocks.Mocks):
    """Echo inputs as outputs, and fill in what providers compute (in camelCase, as they do)."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        typ = args.typ
        if typ.startswith("kubernetes:") and "metadata" in state:
            metadata = dict(state["metadata"] or {})
            # Auto-naming: the provider appends a random suffix to the logical name.
            metadata.setdefault("name", f"{args.name}-abcd1234")
            state["metadata"] = metadata
        if typ == "random:index/randomPassword:RandomPassword":
            state["result"] = f"mock-{args.name}"
        elif typ == "tls:index/privateKey:PrivateKey":
            state["privateKeyPem"] = f"-----BEGIN PRIVATE KEY-----\nmock-{args.name}\n"
        elif typ in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"):
            state["certPem"] = f"-----BEGIN CERTIFICATE-----\nmock-{args.name}\n"
        elif typ == "tls:index/certRequest:CertRequest":
            state["certRequestPem"] = f"-----BEGIN CERTIFICATE REQUEST-----\nmock-{args.name}\n"
        elif typ == "command:local:Command":
            state["stdout"] = MOCK_KUBECONFIG if "kubeconfig" in str(state.get("create", "")) else ""
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def _config_value(value: Any) -> str:
    # The CLI hands every config value to the program as a string; structured values as JSON.
    return value if isinstance(value, str) else json.dumps(value)


@functools.cache
def _yaml_file(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text())


def stack_config(stack: str | None, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Config as `pulumi up` would pass it: Pulumi.yaml defaults, then the stack file, then overrides.

    An override's key is a path, as `pulumi config set --path` takes it: `app.rollout.maxSurge` sets
    one field of the `app` object and keeps the stack file's others; a key without a dot replaces
    the whole value (a secret key, or an object).
    """
    project = _yaml_file("Pulumi.yaml")
    values: dict[str, Any] = {f"{PROJECT}:{k}": v["default"] for k, v in project["config"].items()}
    if stack is not None:
        values.update(_yaml_file(f"Pulumi.{stack}.yaml").get("config") or {})
    values = copy.deepcopy(values)
    for path, value in (overrides or {}).items():
        key, *fields = path.split(".")
        key = key if ":" in key else f"{PROJECT}:{key}"
        if not fields:
            values[key] = value
            continue
        node = values.setdefault(key, {})
        for name in fields[:-1]:
            node = node.setdefault(name, {})
        node[fields[-1]] = value
    return {k: _config_value(v) for k, v in values.items()}


@contextmanager
def _in_project_dir() -> Iterator[None]:
    # `pulumi up` runs the program from the project folder; relative paths (app/) depend on it.
    before = Path.cwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(before)


def resolve(output: Any) -> tuple[Any, bool]:
    """The value of an Output (or plain value) after a run, and whether it is secret."""
    out = pulumi.Output.from_input(output)
    return _sync_await(out.future()), bool(_sync_await(out.is_secret()))


def run(
    program: Callable[[], Any],
    *,
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    stack: str = "test",
    preview: bool = False,
    expect_error: type[BaseException] | None = None,
) -> Deployment:
    """Runs `program` to completion under mocks and returns what it registered and exported.

    With `expect_error`, the program must raise that exception: it is returned in `.error`, with
    whatever was registered before it (so a test can show that nothing was).
    """
    mocks = _Mocks()
    monitor = _Monitor(mocks)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config or {}), [k for k in secret_keys or []])
    error: BaseException | None = None
    with _in_project_dir():
        try:
            _sync_await(run_pulumi_func(program))
        except Exception as exc:
            if expect_error is None or not isinstance(exc, expect_error):
                raise
            error = exc
    if expect_error is not None and error is None:
        raise AssertionError(f"the program did not raise {expect_error.__name__}")
    deployment = Deployment(resources=list(monitor.registered), error=error)
    if error is not None:
        return deployment
    root = pulumi_settings.get_root_resource()
    for name, value in (getattr(root, "outputs", None) or {}).items():
        resolved, secret = resolve(value)
        deployment.outputs[name] = resolved
        if secret:
            deployment.secret_outputs.add(name)
    return deployment


def run_stack(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    expect_error: type[BaseException] | None = None,
) -> Deployment:
    """Runs __main__.py as `pulumi up` would for the given stack file."""
    return run(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        config=stack_config(stack, overrides),
        secret_keys=[k if ":" in k else f"{PROJECT}:{k}" for k in secret_keys or []],
        stack=stack,
        expect_error=expect_error,
    )
