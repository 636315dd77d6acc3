"""The fleet file (fleet/fleet.yaml): apps x environments, validated, turned into one stack per pair.

Each stack's config is its environment's base stack file (Pulumi.<base>.yaml), with the
environment's then the app's config groups merged over it, key by key, and the app's identity set:
its Deployment name and namespace are the app's name, its Ingress host `<app>.<domain>`. The
program (settings/) validates the result as it validates any stack; this module only checks the
fleet file's own shape, naming the path of every problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "flask-k8s"
DEFAULT_FILE = Path(__file__).resolve().with_name("fleet.yaml")
_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def _label(value: str) -> str:
    # App and environment names become a stack name, a namespace and a DNS label: <= 63 together.
    if not _LABEL.match(value) or len(value) > 30:
        raise ValueError(f"{value!r} is not a lower-case DNS label of at most 30 characters")
    return value


Label = Annotated[str, AfterValidator(_label)]
ConfigGroups = dict[str, dict[str, Any]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Environment(_Strict):
    base: str = Field(description="The stack whose file (Pulumi.<base>.yaml) every stack of it starts from.")
    domain: str = Field(description="Each app's Ingress host is <app>.<domain>.")
    config: ConfigGroups = Field(default_factory=dict, description="Config groups merged over the base.")


class App(_Strict):
    name: Label
    environments: list[Label] | None = Field(default=None, description="Where it runs; None: everywhere.")
    config: ConfigGroups = Field(default_factory=dict, description="Config groups merged over its environment's.")


class FleetFile(_Strict):
    environments: dict[Label, Environment]
    apps: list[App]


class FleetError(ValueError):
    """The fleet file is not valid; one line per problem, each naming its path."""


@dataclass(frozen=True)
class StackSpec:
    """One stack of the fleet: its name, where it came from and its whole config."""

    name: str
    app: str
    environment: str
    base: str
    """The stack whose file the config starts from."""
    config: Mapping[str, Any]
    """The stack file's `config:` mapping (`flask-k8s:<group>` -> object)."""

    def stack_file(self, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The stack file's content; `previous`'s encryption salt (the stack's secrets key) is kept."""
        content: dict[str, Any] = {}
        for key in ("secretsprovider", "encryptedkey", "encryptionsalt"):
            if previous and key in previous:
                content[key] = previous[key]
        content["config"] = dict(self.config)
        return content


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` merged into `base`: mappings key by key, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def load(path: Path = DEFAULT_FILE, root: Path = ROOT) -> list[StackSpec]:
    """Every stack of the fleet file, in file order (apps, then their environments)."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as failed:
        raise FleetError(f"{path.name}: cannot read: {failed}") from failed
    try:
        fleet = FleetFile.model_validate(raw)
    except ValidationError as invalid:
        lines = [f"{path.name}: {'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in invalid.errors()]
        raise FleetError("\n".join(lines)) from invalid
    return stacks_of(fleet, root, path.name)


def stacks_of(fleet: FleetFile, root: Path = ROOT, source: str = "fleet") -> list[StackSpec]:
    problems: list[str] = []
    bases: dict[str, dict[str, Any]] = {}
    for env_name, env in fleet.environments.items():
        stack_file = root / f"Pulumi.{env.base}.yaml"
        if not stack_file.is_file():
            problems.append(f"{source}: environments.{env_name}.base: no stack file Pulumi.{env.base}.yaml")
            continue
        base_config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
        secure = sorted(key for key, value in base_config.items() if _has_secure(value))
        if secure:
            # Encrypted with that stack's own key: no other stack can read them. Set them per stack.
            problems.append(
                f"{source}: environments.{env_name}.base: Pulumi.{env.base}.yaml holds encrypted values "
                f"({', '.join(secure)}), which no other stack can decrypt"
            )
        bases[env_name] = base_config
    specs: list[StackSpec] = []
    seen: set[str] = set()
    for index, app in enumerate(fleet.apps):
        for env_name in app.environments or list(fleet.environments):
            if env_name not in fleet.environments:
                problems.append(f"{source}: apps.{index}.environments: no environment {env_name!r}")
                continue
            name = f"{app.name}-{env_name}"
            if name in seen:
                problems.append(f"{source}: apps.{index}.name: stack {name!r} listed twice")
                continue
            seen.add(name)
            if env_name not in bases:
                continue
            env = fleet.environments[env_name]
            config: dict[str, Any] = dict(bases[env_name])
            identity = {
                "app": {"name": app.name},
                "namespace": {"name": app.name},
                "ingress": {"host": f"{app.name}.{env.domain}"},
            }
            for layer in (env.config, app.config, identity):
                for group, value in layer.items():
                    key = f"{PROJECT}:{group}"
                    config[key] = merged(config.get(key) or {}, value)
            specs.append(StackSpec(name=name, app=app.name, environment=env_name, base=env.base, config=config))
    if problems:
        raise FleetError("\n".join(problems))
    return specs


def _has_secure(value: Any) -> bool:
    if isinstance(value, Mapping):
        return "secure" in value or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False
