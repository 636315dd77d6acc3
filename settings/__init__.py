"""The one place where a stack's configuration is read, validated and turned into components' Args.

`load_settings()` reads each config group of the `flask-k8s` namespace once (schema.py: types,
defaults, ranges), checks the relations between values (checks.py: requests within limits, a
rollout's peak within the quota, ...) and builds every component's Args (build.py). Components
never read `pulumi.Config`: they take what this package built.

Every problem found is reported at once, one line per value, naming its full path
(`flask-k8s:app.replicas`), the value and what is allowed. The error is a `pulumi.RunError`, so
`pulumi preview`/`up` print the message without a Python traceback, and nothing is registered
because validation runs before any resource exists.
"""

from __future__ import annotations

from typing import Any

import pulumi
from flask_k8s_components.vocabulary import secret_looking_word
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from settings import checks
from settings.build import ClusterSettings, Secrets, StackSettings, TlsSettings, build
from settings.decisions import Decisions, decide
from settings.migration import MOVED, RENAMED, check_renamed
from settings.problems import HIDDEN, PROJECT, ConfigError, Problems
from settings.schema import GROUPS, SECRET_KEYS


def load_settings(config: pulumi.Config | None = None) -> StackSettings:
    """Reads and validates the whole stack configuration; raises ConfigError listing every problem."""
    config = config or pulumi.Config(PROJECT)
    p = Problems()
    check_renamed(p, _undeclared_keys())
    groups = {key: _read_group(p, config, key, model) for key, model in GROUPS.items()}
    secrets = Secrets(**{_snake(key): _read_secret(p, config, key) for key in SECRET_KEYS})
    decided = decide(groups)
    _check_relations(p, groups, secrets, decided)
    if p.lines:
        raise ConfigError(p.lines)
    return build(groups, secrets, decided)


def _check_relations(p: Problems, groups: dict[str, Any], secrets: Secrets, decided: Decisions) -> None:
    """The rules between values, each run when the groups it reads are valid."""
    app, autoscaling = groups["app"], groups["autoscaling"]
    # A group is None only when it is not an object at all; its problem is reported already.
    if decided.pods is not None:
        checks.check_app(p, app, autoscaling)
        if groups["namespace"] is not None:
            checks.check_quota(p, decided.pods, app, groups["namespace"])
            checks.check_limit_range(p, app, groups["namespace"])
        if groups["cluster"] is not None and groups["service"] is not None:
            checks.check_cluster(p, groups["cluster"], app, groups["service"], secrets.kubeconfig is not None)
    if groups["tls"] is not None and groups["ingress"] is not None:
        checks.check_tls(p, groups["tls"], groups["ingress"])
    if decided.gateway_by_traefik is not None and groups["ingress"] is not None:
        checks.check_route(p, groups["ingress"], decided.gateway_by_traefik)
    if groups["database"] is not None:
        checks.check_database(p, groups["database"], secrets.database_password is not None)


def _read_group(p: Problems, config: pulumi.Config, key: str, model: type[BaseModel]) -> BaseModel | None:
    """One config object, validated, with a problem added for each wrong value.

    So that the rules between groups can still run (and every problem shows at once), the wrong
    values are then dropped and the rest validated again: the result holds the defaults in their
    place (a rule that compares with one of them stays silent: Problems.wrong). None only when the
    value is not an object at all.
    """
    try:
        raw = config.get_object(key)
    except pulumi.ConfigTypeError:
        raw = config.get(key)
    raw = {} if raw is None else raw
    for _ in range(10):
        try:
            return model.model_validate(raw)
        except ValidationError as error:
            errors = [(_where(e["loc"]), e) for e in error.errors()]
            for loc, e in errors:
                _report(p, key, model, loc, e)
            if not isinstance(raw, dict) or not all(_drop(raw, loc) for loc, _ in errors):
                return None
            _purge(raw)
    return None


def _report(p: Problems, key: str, model: type[BaseModel], loc: tuple[Any, ...], e: ErrorDetails) -> None:
    """One wrong value of group `key` as a problem line, its value shown unless there is none or its
    (undeclared) name looks secret."""
    if e["type"] == "missing":
        shown: str | None = "(unset)"  # pydantic's input is then the object around it
    elif loc == e["loc"] and _secret_name(model, loc):
        shown = HIDDEN
    else:
        shown = None
    message = _message(e["type"], e["msg"], model, loc)
    if not loc and key in RENAMED:
        message += f"; the flat layout's {key} is now {RENAMED[key]}"
    path = ".".join([key, *map(str, loc)])
    if e["type"] == "extra_forbidden" and path in MOVED:
        # Each old key the stack sets, with where it went.
        old = e.get("input")
        for sub in sorted(old) if isinstance(old, dict) else [None]:
            where = f"{path}.{sub}" if sub is not None else path
            moved = MOVED.get(where, MOVED[path])
            value = old[sub] if isinstance(old, dict) and sub is not None else old
            new = moved.split(" ")[0]
            p.add(where, value, f"was renamed: set `pulumi config set --path {new} ...` instead; {moved}")
        return
    p.add(".".join([key, *map(str, loc)]), e.get("input"), message, shown=shown)


def _secret_name(model: type[BaseModel], loc: tuple[Any, ...]) -> bool:
    """Whether `loc` ends in a name the schema does not declare (an unknown key, a key of app.env)
    that looks secret: its value is then not echoed."""
    name = str(loc[-1]) if loc else ""
    return secret_looking_word(name) is not None and name not in _known_keys(model, loc[:-1])


def _where(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic places an error in a map's key under that key plus "[key]"; its input is the key.
    return loc[:-1] if loc[-1:] == ("[key]",) else loc


# Stands for a wrong item of a list until _purge removes it: removing it at once would shift the
# indexes the other errors of the same list name.
_DROPPED = object()


def _drop(raw: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    """Removes the value at `loc` from a nested config object, or the whole item of a list that holds
    it; False if it is not there."""
    node: Any = raw
    for index, part in enumerate(loc):
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node[part] = _DROPPED
            return True
        if not isinstance(node, dict) or part not in node:
            return False
        if index == len(loc) - 1:
            del node[part]
            return True
        node = node[part]
    return False


def _purge(node: Any) -> None:
    """Removes the items _drop marked from every list of a config object."""
    if isinstance(node, dict):
        for value in node.values():
            _purge(value)
    elif isinstance(node, list):
        node[:] = [item for item in node if item is not _DROPPED]
        for item in node:
            _purge(item)


def _message(kind: str, message: str, model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    if kind == "extra_forbidden":
        return f"is not a key here; known: {', '.join(_known_keys(model, loc[:-1]))}"
    if kind in ("dict_type", "model_type"):
        return "must be an object (set its fields with `pulumi config set --path`)"
    if kind == "missing":
        return "is required"
    # pydantic's own messages are sentences ("Input should be ..."); ours continue the line already.
    return message if kind == "flask_k8s" else message[0].lower() + message[1:]


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    for part in loc:
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [f.alias or n for n, f in model.model_fields.items()]


def _read_secret(p: Problems, config: pulumi.Config, key: str) -> pulumi.Output[str] | None:
    """A value that must come from encrypted stack config; empty means "generate one" (or none)."""
    if not config.get(key):
        return None
    if not pulumi.runtime.is_config_secret(f"{PROJECT}:{key}"):
        # Never echo the value itself: it was meant to be secret.
        p.note(
            f"{PROJECT}:{key} is stored in plain text: set it with `pulumi config set --secret {key} ...` "
            "or leave it empty"
        )
        return None
    return config.require_secret(key)


def _undeclared_keys() -> list[str]:
    """Keys of this project's namespace that are neither a group nor a secret (old or mistyped)."""
    prefix = f"{PROJECT}:"
    known = set(GROUPS) | set(SECRET_KEYS)
    names = (k[len(prefix) :] for k in pulumi.runtime.config.CONFIG.get() if k.startswith(prefix))
    return sorted(n for n in names if n not in known)


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


__all__ = ["PROJECT", "ClusterSettings", "ConfigError", "StackSettings", "TlsSettings", "load_settings"]
