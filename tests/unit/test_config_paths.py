"""Every config path the settings code names exists in the schema (settings/schema.py).

A check blames a path (`p.add("app.replicas", ...)`), asks whether one is wrong already
(`p.wrong("autoscaling.minReplicas")`), or tells the user where to look (`"... app.rejectLatestTag
refuses 'latest'"`, the RENAMED and MOVED tables' targets). A path renamed in the schema but not in
such a string still runs, and sends the user to a key that does not exist. So the strings are
collected from the source of every settings/*.py module (whichever module a rule lives in): each
dotted path that starts with a config group, in string constants and in the constant parts of
f-strings. An f-string hole after a path (`f"app.resources.requests.{resource}"`) is expanded when
a `for` loop of the same function gives it literal values; otherwise the path before it must be an
object that can hold keys. Each path is then walked through the groups' pydantic models by the
names a stack file uses (camelCase aliases); a map takes any key, written `<key>` or `<NAME>` in
prose.
"""

from __future__ import annotations

import ast
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel

from devtools.harness import ROOT
from settings.schema import GROUPS

SETTINGS = ROOT / "settings"
# Fewer distinct paths than this means the collector went blind (it found 95 when this was written).
FLOOR = 80
# Strings that read like a path of a group but are something else.
NOT_PATHS = {
    "app.py",  # DEFAULT_ENV's FLASK_APP: the app's module file
}
# The table of keys that left a group: its keys are the old paths, which must no longer exist.
MOVED_TABLE = "MOVED"

_SEGMENT = r"(?:[A-Za-z0-9_][A-Za-z0-9_-]*|<[A-Za-z_]+>)"
# A group name, then dotted segments; not inside a longer dotted name (nginx.ingress.kubernetes.io)
# or a label key (app.kubernetes.io/version).
# Possessive (++): the path is the whole dotted name or nothing, never a shorter part of it.
_PATH = re.compile(rf"(?<![\w./-])(?:{'|'.join(map(re.escape, GROUPS))})(?:\.{_SEGMENT})++(?![\w/])")
_PLACEHOLDER = re.compile(r"<[A-Za-z_]+>")
# A constant part that ends in a path and a dot, right before a hole: the hole is the next segment.
_HEAD = re.compile(rf"(?<![\w./-])((?:{'|'.join(map(re.escape, GROUPS))})(?:\.{_SEGMENT})*)\.$")


@dataclass(frozen=True)
class Named:
    """A path as the source names it."""

    path: str
    where: str
    """file:line, for the failure message."""
    prefix: bool = False
    """Only the part before an f-string hole that could not be expanded: must hold keys."""


# --- collecting the paths from the source --------------------------------------------------------------


def _literal_values(node: ast.expr, position: int | None) -> list[str] | None:
    """The string values a `for` target takes from a literal tuple or list, at `position` within
    each element (None: the element itself); None if any of them is not a string literal."""
    if not isinstance(node, ast.Tuple | ast.List):
        return None
    values: list[str] = []
    for element in node.elts:
        item = element
        if position is not None:
            if not (isinstance(element, ast.Tuple) and len(element.elts) > position):
                return None
            item = element.elts[position]
        if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
            return None
        values.append(item.value)
    return values


def _loop_values(scope: ast.AST, name: str) -> list[str] | None:
    """What `name` takes in a `for` loop of `scope` over literal values, if it is such a loop's target."""
    for loop in ast.walk(scope):
        if not isinstance(loop, ast.For):
            continue
        if isinstance(loop.target, ast.Name) and loop.target.id == name:
            return _literal_values(loop.iter, None)
        if isinstance(loop.target, ast.Tuple):
            for position, target in enumerate(loop.target.elts):
                if isinstance(target, ast.Name) and target.id == name:
                    return _literal_values(loop.iter, position)
    return None


def _string_parts(node: ast.JoinedStr) -> Iterator[tuple[str, ast.expr | None]]:
    """Each constant part of an f-string with the hole right after it (None at the end)."""
    values = node.values
    for index, value in enumerate(values):
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            following = values[index + 1] if index + 1 < len(values) else None
            hole = following.value if isinstance(following, ast.FormattedValue) else None
            yield value.value, hole


def _moved_keys(tree: ast.Module) -> set[int]:
    """ids of the key nodes of the MOVED table (old paths, not to be found in the schema)."""
    keys: set[int] = set()
    for statement in tree.body:
        target = statement.target if isinstance(statement, ast.AnnAssign) else None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
        value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == MOVED_TABLE and isinstance(value, ast.Dict):
            keys |= {id(k) for k in value.keys if k is not None}
    return keys


def _scopes(tree: ast.Module) -> Iterator[tuple[ast.AST, ast.AST]]:
    """Every node with the function it is in (the module for module-level code)."""
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    inner: dict[int, ast.AST] = {}
    for function in functions:  # outer functions first (ast.walk is breadth-first): inner ones win
        for node in ast.walk(function):
            inner[id(node)] = function
    for node in ast.walk(tree):
        yield node, inner.get(id(node), tree)


def named_paths(source: str, filename: str) -> tuple[list[Named], list[Named]]:
    """The config paths a module's source names, and the old paths its MOVED table lists."""
    tree = ast.parse(source, filename)
    moved = _moved_keys(tree)
    found: list[Named] = []
    old: list[Named] = []
    in_f_string = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node, scope in _scopes(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_f_string:
            paths = [Named(m.group(0), where) for m in _PATH.finditer(node.value) if m.group(0) not in NOT_PATHS]
            (old if id(node) in moved else found).extend(paths)
        elif isinstance(node, ast.JoinedStr):
            for text, hole in _string_parts(node):
                head = _HEAD.search(text) if hole is not None else None
                mentions = text if head is None else text[: head.start(1)]
                found += [Named(m.group(0), where) for m in _PATH.finditer(mentions) if m.group(0) not in NOT_PATHS]
                if head is None:
                    continue
                values = _loop_values(scope, hole.id) if isinstance(hole, ast.Name) else None
                if values is None:
                    found.append(Named(head.group(1), where, prefix=True))
                else:
                    found += [Named(f"{head.group(1)}.{value}", where) for value in values]
    return found, old


def collect() -> tuple[list[Named], list[Named]]:
    found: list[Named] = []
    old: list[Named] = []
    for path in sorted(SETTINGS.glob("*.py")):
        named, moved = named_paths(path.read_text(), path.relative_to(ROOT).as_posix())
        found += named
        old += moved
    return found, old


# --- walking the schema ------------------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """The type under `Annotated[...]` and `X | None`."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) == 1:
                annotation = options[0]
                continue
        return annotation


def _model(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def problem(path: str, *, prefix: bool = False) -> str | None:
    """Why `path` is not a config path of the schema (or, with `prefix`, not one that holds keys)."""
    group, *segments = path.split(".")
    current: Any = GROUPS[group]
    walked = group
    for segment in segments:
        model = _model(current)
        origin = typing.get_origin(current)
        if model is not None:
            fields = {field.alias or name: field for name, field in model.model_fields.items()}
            if segment not in fields:
                return f"{walked} has no key {segment!r} (it has: {', '.join(fields)})"
            current = _unwrap(fields[segment].annotation)
        elif origin is dict:
            current = _unwrap(typing.get_args(current)[1])  # any key, a placeholder included
        elif origin is list:
            if not (segment.isdigit() or _PLACEHOLDER.fullmatch(segment)):
                return f"{walked} is a list: {segment!r} is no index"
            current = _unwrap(typing.get_args(current)[0])
        else:
            return f"{walked} is a single value: it has no key {segment!r}"
        walked = f"{walked}.{segment}"
    if prefix and _model(current) is None and typing.get_origin(current) not in (dict, list):
        return f"{walked} is a single value, yet a key is put after it"
    return None


# --- the tests ---------------------------------------------------------------------------------------


def test_every_config_path_the_settings_name_exists_in_the_schema() -> None:
    found, _ = collect()
    wrong = [
        f"{n.where}: {n.path}{'.{...}' if n.prefix else ''}: {why}"
        for n in found
        if (why := problem(n.path, prefix=n.prefix))
    ]
    assert not wrong, "config paths named in settings/*.py that settings/schema.py lacks:\n  " + "\n  ".join(wrong)
    distinct = {(n.path, n.prefix) for n in found}
    print(f"\n{len(found)} config path mentions in settings/*.py, {len(distinct)} distinct, all in the schema")
    assert len(distinct) > FLOOR, f"only {len(distinct)} distinct paths found (floor {FLOOR}): the collector went blind"


def test_the_moved_table_lists_only_paths_that_are_gone() -> None:
    _, old = collect()
    assert old, f"no {MOVED_TABLE} table found in settings/*.py"
    present = [f"{n.where}: {n.path}" for n in old if problem(n.path) is None]
    assert not present, f"{MOVED_TABLE} lists paths the schema still has:\n  " + "\n  ".join(present)


def test_the_collector_sees_each_kind_of_mention() -> None:
    source = """
def check(p, resources):
    p.add("app.replicas", 1, "and app.rollout.maxUnavailable cannot both be 0")
    for resource, attr in (("cpu", "cpu"), ("ephemeral-storage", "ephemeral_storage")):
        p.add(f"app.resources.requests.{resource}", 1, f"{PROJECT}:namespace.quota.{resource} = 2")
    for key in resources:
        p.add(f"app.env.{key}", 1, "see nginx.ingress.kubernetes.io/proxy-body-size and app.kubernetes.io/name")
MOVED = {"cluster.ingressNginx": "cluster.ingressController (Traefik)"}
"""
    found, old = named_paths(source, "example.py")
    assert [(n.path, n.prefix) for n in found] == [
        ("cluster.ingressController", False),
        ("app.replicas", False),
        ("app.rollout.maxUnavailable", False),
        ("app.resources.requests.cpu", False),
        ("app.resources.requests.ephemeral-storage", False),
        ("namespace.quota.cpu", False),
        ("namespace.quota.ephemeral-storage", False),
        ("app.env", True),
    ]
    assert [n.path for n in old] == ["cluster.ingressNginx"]


@pytest.mark.parametrize(
    ("path", "prefix", "expected"),
    [
        ("app.resources.limits.ephemeral-storage", False, None),
        ("app.env.<NAME>", False, None),
        ("service.annotations.<key>", False, None),
        ("namespace.networkPolicy.egress.0.cidr", False, None),
        ("app.env", True, None),
        ("app.replicas", True, "app.replicas is a single value, yet a key is put after it"),
        ("app.resources.limits.ephemeral_storage", False, "app.resources.limits has no key 'ephemeral_storage'"),
        ("autoscaling.min_replicas", False, "autoscaling has no key 'min_replicas'"),
        ("app.replicas.count", False, "app.replicas is a single value: it has no key 'count'"),
        ("namespace.quota.cpu", False, "namespace.quota has no key 'cpu'"),
    ],
)
def test_the_schema_walk(path: str, prefix: bool, expected: str | None) -> None:
    found = problem(path, prefix=prefix)
    assert (found if expected is None else (found or "").split(" (it has")[0]) == expected
