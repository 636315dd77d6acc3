"""The component library's public API, read from its code: a record for semantic versioning, and a reference.

Release tooling of this project, not part of the library (its wheel ships only the components).
`surface()` is what a caller depends on: each component's Args fields, keyword-only parameters and
outputs, the spec dataclasses those reach, and the schema of the Pulumi package `flask-k8s` (what
programs in other languages depend on). `components/api/<version>.json` keeps it for each release,
and tests/unit/test_library_api.py fails when `breaking_changes()` finds a removal, a rename or a
newly required input within one major version. `reference_markdown()` renders the docstrings of the
same classes for components/README.md, so the reference cannot drift from the code either.

    python -m devtools.release                       the reference (Markdown)
    python -m devtools.release --json                the surface, as recorded under components/api/
    python -m devtools.release --update-readme FILE  rewrites FILE's reference block
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import flask_k8s_components
import pulumi
from flask_k8s_components import package
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.schema import generate_schema

from devtools.generated import Markers

DISTRIBUTION = "flask-k8s-components"
"""The distribution's name on PyPI, whose installed metadata gives the version."""
MARKERS = Markers("<!-- api-reference:start -->", "<!-- api-reference:end -->")
"""Open and close the generated reference in components/README.md."""

# The component most callers want comes first in the reference; the rest follow by name.
_FIRST = "FlaskApp"


def version() -> str:
    """The installed distribution's version (the one in pyproject.toml once reinstalled)."""
    return installed_version(DISTRIBUTION)


# --- what the package defines ---------------------------------------------------------------------


def _hints(obj: Any) -> dict[str, Any]:
    """typing.get_type_hints, able to resolve `pulumi.Input[...]`: that alias holds the forward
    reference "Output[T]", whose names are pulumi.output's, not those of the modules that use it."""
    return typing.get_type_hints(obj, localns={name: vars(pulumi.output)[name] for name in ("Output", "T")})


def _modules() -> list[types.ModuleType]:
    names = sorted(m.name for m in pkgutil.iter_modules(flask_k8s_components.__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"{flask_k8s_components.__name__}.{name}") for name in names]


def components() -> dict[str, type[pulumi.ComponentResource]]:
    """Every ComponentResource class the package's modules define, by class name.

    package.FlaskApp is left out: it is the cross-language face of flask_app.FlaskApp (same name),
    and its API is the package schema, recorded under "package"."""
    found: dict[str, type[pulumi.ComponentResource]] = {}
    for module in _modules():
        for obj in vars(module).values():
            if not (isinstance(obj, type) and issubclass(obj, pulumi.ComponentResource)):
                continue
            if obj.__module__ != module.__name__ or obj is package.FlaskApp:
                continue  # imported from elsewhere, or recorded via the schema
            if obj.__name__ in found:
                # Callers and records name components by class name alone, which must stay unambiguous.
                raise ValueError(
                    f"two components named {obj.__name__}: {found[obj.__name__].__module__}, {module.__name__}"
                )
            found[obj.__name__] = obj
    return found


def args_class(component: type[pulumi.ComponentResource]) -> type[Any]:
    """The Args dataclass of a component's `__init__(self, name, args, opts=None, *, ...)`."""
    hint = _hints(component.__init__).get("args")
    if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
        raise TypeError(f"{component.__name__}.__init__ takes no `args` dataclass (annotation: {hint!r})")
    return hint


def _keyword_parameters(component: type[pulumi.ComponentResource]) -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(component.__init__).parameters.values()
    return {p.name: p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _outputs(component: type[pulumi.ComponentResource]) -> list[str]:
    # The class's own annotations (not the base class's): each one is an attribute __init__ sets.
    return sorted(name for name in inspect.get_annotations(component) if not name.startswith("_"))


def _is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _dataclasses_in(hint: Any) -> Iterator[type[Any]]:
    """The package's dataclasses a type hint mentions, through any nesting (`X | None`, `list[X]`,
    `dict[str, X]`, `Mapping[str, pulumi.Input[X]]`, ...)."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        # Dataclasses of other libraries are their API, not this one's.
        if hint.__module__.startswith(f"{flask_k8s_components.__name__}."):
            yield hint
        return
    for arg in typing.get_args(hint):
        yield from _dataclasses_in(arg)


def spec_types() -> dict[str, type[Any]]:
    """Every dataclass reachable from the components' Args fields and keyword parameters, by name."""
    found: dict[str, type[Any]] = {}
    pending: list[Any] = []
    for component in components().values():
        pending += _hints(args_class(component)).values()
        hints = _hints(component.__init__)
        pending += [hints[name] for name in _keyword_parameters(component) if name in hints]
    while pending:
        for cls in _dataclasses_in(pending.pop()):
            known = found.get(cls.__name__)
            if known is cls:
                continue
            if known is not None:
                raise ValueError(f"two spec types named {cls.__name__}: {known.__module__}, {cls.__module__}")
            found[cls.__name__] = cls
            pending += _hints(cls).values()
    return dict(sorted(found.items()))


def _fields_record(cls: type[Any]) -> dict[str, dict[str, bool]]:
    return {f.name: {"required": _is_required(f)} for f in sorted(dataclasses.fields(cls), key=lambda f: f.name)}


def package_schema() -> dict[str, Any]:
    """The Pulumi package schema of `flask-k8s`, as `pulumi package add` infers it."""
    analysis = Analyzer(package.PACKAGE_NAME).analyze([package.FlaskApp])
    schema = generate_schema(
        package.PACKAGE_NAME,
        version(),
        None,
        analysis["component_definitions"],
        analysis["type_definitions"],
        list(analysis["dependencies"]),
    )
    return schema.to_json()


def _required_map(names: Iterable[str], required: Iterable[str]) -> dict[str, dict[str, bool]]:
    needed = set(required)
    return {name: {"required": name in needed} for name in sorted(names)}


def _package_record(schema: Mapping[str, Any]) -> dict[str, Any]:
    resources = {
        token: {
            "inputs": _required_map(spec.get("inputProperties", {}), spec.get("requiredInputs", [])),
            "outputs": _required_map(spec.get("properties", {}), spec.get("required", [])),
        }
        for token, spec in sorted(schema.get("resources", {}).items())
    }
    schema_types = {
        token: {"properties": _required_map(spec.get("properties", {}), spec.get("required", []))}
        for token, spec in sorted(schema.get("types", {}).items())
    }
    return {"name": schema["name"], "resources": resources, "types": schema_types}


def surface() -> dict[str, Any]:
    """The public API as JSON-able data: what components/api/<version>.json records for a release."""
    recorded: dict[str, Any] = {}
    for name, component in sorted(components().items()):
        args = args_class(component)
        recorded[name] = {
            "module": component.__module__,
            "args": args.__name__,
            "fields": _fields_record(args),
            "keyword_parameters": {
                p.name: {"required": p.default is inspect.Parameter.empty}
                for p in sorted(_keyword_parameters(component).values(), key=lambda p: p.name)
            },
            "outputs": _outputs(component),
        }
    return {
        "version": version(),
        "components": recorded,
        "types": {
            name: {"module": cls.__module__, "fields": _fields_record(cls)} for name, cls in spec_types().items()
        },
        "package": _package_record(package_schema()),
    }


# --- what breaks a caller -------------------------------------------------------------------------


def _entry_changes(where: str, what: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Removed entries, entries that became required and new required entries: each breaks a caller
    that passed what the old version accepted."""
    changes: list[str] = []
    for name in sorted(old):
        if name not in new:
            changes.append(f"{where}: {what} `{name}` was removed or renamed")
        elif new[name]["required"] and not old[name]["required"]:
            changes.append(f"{where}: {what} `{name}` became required")
    changes += [
        f"{where}: new {what} `{name}` is required" for name in sorted(set(new) - set(old)) if new[name]["required"]
    ]
    return changes


def _moved(where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    # The modules are the import paths (the package's __init__ re-exports nothing).
    if old["module"] != new["module"]:
        return [f"{where}: moved from `{old['module']}` to `{new['module']}`, so its import path changed"]
    return []


def _kept_changes(
    what: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    changed: Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]],
) -> list[str]:
    """For each entry of `old` by name: its removal, or what `changed` finds between it and the
    entry of the same name in `new`."""
    changes: list[str] = []
    for name in sorted(old):
        if name in new:
            changes += changed(name, old[name], new[name])
        else:
            changes.append(f"{what} `{name}` was removed or renamed")
    return changes


def _component_change(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    changes = _moved(name, before, after)
    if before["args"] != after["args"]:
        changes.append(f"{name}: Args class `{before['args']}` was renamed to `{after['args']}`")
    changes += _entry_changes(name, "Args field", before["fields"], after["fields"])
    changes += _entry_changes(name, "keyword parameter", before["keyword_parameters"], after["keyword_parameters"])
    gone = [output for output in before["outputs"] if output not in after["outputs"]]
    changes += [f"{name}: output `{output}` was removed or renamed" for output in gone]
    return changes


def _type_change(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [
        *_moved(f"type {name}", before, after),
        *_entry_changes(f"type {name}", "field", before["fields"], after["fields"]),
    ]


def _package_resource_change(token: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    where = f"package {token}"
    changes = _entry_changes(where, "input", before["inputs"], after["inputs"])
    for output, spec in sorted(before["outputs"].items()):
        if output not in after["outputs"]:
            changes.append(f"{where}: output `{output}` was removed or renamed")
        elif spec["required"] and not after["outputs"][output]["required"]:
            # An SDK types it as optional now: callers that used it as always set no longer compile.
            changes.append(f"{where}: output `{output}` is no longer always set")
    return changes


def _package_type_change(token: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return _entry_changes(f"package type {token}", "property", before["properties"], after["properties"])


def _package_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    changes: list[str] = []
    if old["name"] != new["name"]:
        changes.append(f"package: renamed from `{old['name']}` to `{new['name']}`")
    changes += _kept_changes("package component", old["resources"], new["resources"], _package_resource_change)
    changes += _kept_changes("package type", old["types"], new["types"], _package_type_change)
    return changes


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Every change from surface `old` to surface `new` that breaks a caller of `old`, one sentence
    each. Additions of optional things are not breaking; neither are changes of a field's type,
    which this record does not hold."""
    return [
        *_kept_changes("component", old["components"], new["components"], _component_change),
        *_kept_changes("type", old["types"], new["types"], _type_change),
        *_package_changes(old["package"], new["package"]),
    ]


# --- the reference --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Documented:
    """An annotated name in a class body, as written in the source."""

    annotation: str
    """The annotation's source text."""
    doc: str
    """The attribute docstring (the string literal right after it), or empty."""


def _class_node(cls: type[Any]) -> tuple[ast.ClassDef, str]:
    source = textwrap.dedent(inspect.getsource(cls))
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.ClassDef):
        raise TypeError(f"the source of {cls.__qualname__} is not a class definition")
    return node, source


def _docstring_of(statement: ast.stmt | None) -> str:
    if (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    ):
        return inspect.cleandoc(statement.value.value)
    return ""


def _source_of(node: ast.expr, source: str) -> str:
    return ast.get_source_segment(source, node) or ast.unparse(node)


def attributes(cls: type[Any]) -> dict[str, _Documented]:
    """The class body's annotated names with their annotations and attribute docstrings. Read from
    the source: Python keeps no docstring for an attribute."""
    node, source = _class_node(cls)
    found: dict[str, _Documented] = {}
    for index, statement in enumerate(node.body):
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            following = node.body[index + 1] if index + 1 < len(node.body) else None
            found[statement.target.id] = _Documented(_source_of(statement.annotation, source), _docstring_of(following))
    return found


def _keyword_annotations(cls: type[Any]) -> dict[str, str]:
    node, source = _class_node(cls)
    for statement in node.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == "__init__":
            return {a.arg: _source_of(a.annotation, source) for a in statement.args.kwonlyargs if a.annotation}
    return {}


def _prose(text: str, *, cell: bool = False) -> str:
    """Docstring text as Markdown: `<` outside code spans escaped (`kind-<name>` is no HTML tag, and
    PyPI's renderer would drop it as one). In a table cell also on one line, with `|` escaped (it
    would end the cell)."""
    parts = text.split("`")
    text = "`".join(part if odd else part.replace("<", "&lt;") for odd, part in zip(_alternate(), parts, strict=False))
    return " ".join(text.split()).replace("|", "\\|") if cell else text


def _alternate() -> Iterator[bool]:
    # Segments between backticks: even ones are prose, odd ones code spans.
    while True:
        yield False
        yield True


def _code(text: str) -> str:
    """A code span in a table cell (GFM tables need `\\|` even inside code spans)."""
    return "`" + " ".join(text.split()).replace("|", "\\|") + "`"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table of already formatted cells, and the blank line that ends it."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _default(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        return _code(repr(f.default))
    factory = f.default_factory
    if factory is dataclasses.MISSING:
        return "required"
    # A spec class as its own factory reads better as its call than as the repr of its instance.
    if isinstance(factory, type) and dataclasses.is_dataclass(factory):
        return _code(f"{factory.__name__}()")
    return _code(repr(factory()))


def _fields_table(cls: type[Any]) -> list[str]:
    docs = attributes(cls)
    rows = [
        (_code(f.name), _code(docs[f.name].annotation), _default(f), _prose(docs[f.name].doc, cell=True))
        for f in dataclasses.fields(cls)
    ]
    return _table(("Field", "Type", "Default", "Description"), rows)


def _parameter_doc(init_doc: str, name: str) -> str:
    """What `__init__`'s docstring says of keyword `name`: its "`name`: text", a list item or prose."""
    match = re.search(rf"`{re.escape(name)}`:\s*(.*?)(?=\n\s*- `|\Z)", init_doc, re.DOTALL)
    if match is None:
        return ""
    text = match.group(1).strip().rstrip(";.")
    # List items there run on with ";" and a lower-case start; a table cell reads as a sentence.
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def _component_section(cls: type[pulumi.ComponentResource]) -> list[str]:
    args = args_class(cls)
    lines = [f"### {cls.__name__}", "", f"`from {cls.__module__} import {cls.__name__}, {args.__name__}`", ""]
    lines += [_prose(inspect.getdoc(cls) or ""), ""]
    lines += [f"**Args** `{args.__name__}`: {_prose(inspect.getdoc(args) or '')}", "", *_fields_table(args)]
    keywords = _keyword_parameters(cls)
    if keywords:
        annotations = _keyword_annotations(cls)
        init_doc = inspect.getdoc(cls.__init__) or ""
        rows = [
            (
                _code(name),
                _code(annotations.get(name, "")),
                "required" if p.default is inspect.Parameter.empty else _code(repr(p.default)),
                _prose(_parameter_doc(init_doc, name), cell=True),
            )
            for name, p in keywords.items()
        ]
        lines += ["**Keyword-only parameters**", "", *_table(("Parameter", "Type", "Default", "Description"), rows)]
    docs = attributes(cls)
    rows = [
        (_code(name), _code(doc.annotation), _prose(doc.doc, cell=True))
        for name, doc in docs.items()
        if not name.startswith("_")
    ]
    lines += ["**Outputs**", "", *_table(("Output", "Type", "Description"), rows)]
    return lines


def _schema_type(prop: Mapping[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit(":", 1)[-1]
    kind = str(prop.get("type", "any"))
    if kind == "array" and "items" in prop:
        return f"list of {_schema_type(prop['items'])}"
    if kind == "object" and "additionalProperties" in prop:
        return f"map of {_schema_type(prop['additionalProperties'])}"
    return kind


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _package_resource(token: str, spec: Mapping[str, Any]) -> list[str]:
    name = token.rsplit(":", 1)[-1]
    lines = [f"#### `{token}`", "", _prose(inspect.cleandoc(spec.get("description", ""))), ""]
    if name == package.FlaskApp.__name__:
        # The inputs' own docstring says where they differ from the Python Args.
        lines += [_prose(inspect.getdoc(package.FlaskAppInputs) or ""), ""]
    # A package component wraps the Python component of the same name: its inputs are that
    # component's Args fields in camelCase, whose docstrings say what they mean.
    python = components().get(name)
    field_docs = attributes(args_class(python)) if python is not None else {}
    required = set(spec.get("requiredInputs", []))
    rows = [
        (
            _code(input_name),
            _schema_type(prop),
            "yes" if input_name in required else "no",
            _prose(
                prop.get("description") or getattr(field_docs.get(_snake(input_name)), "doc", ""),
                cell=True,
            ),
        )
        for input_name, prop in spec.get("inputProperties", {}).items()
    ]
    lines += _table(("Input", "Type", "Required", "Description"), rows)
    always = set(spec.get("required", []))
    rows = [
        (
            _code(output),
            _schema_type(prop),
            "yes" if output in always else "no",
            _prose(prop.get("description", ""), cell=True),
        )
        for output, prop in spec.get("properties", {}).items()
    ]
    return [*lines, *_table(("Output", "Type", "Always set", "Description"), rows)]


def _package_section(schema: Mapping[str, Any]) -> list[str]:
    lines = [
        f"### Pulumi package `{schema['name']}`",
        "",
        "For programs in any language (`pulumi package add`): property names are camelCase, and each",
        "type has the fields of the Python spec type of the same name (above).",
        "",
    ]
    for token, spec in sorted(schema.get("resources", {}).items()):
        lines += _package_resource(token, spec)
    rows = []
    for token, spec in sorted(schema.get("types", {}).items()):
        needed = set(spec.get("required", []))
        names = list(spec.get("properties", {}))
        rows.append(
            (
                _code(token.rsplit(":", 1)[-1]),
                ", ".join(n for n in names if n in needed),
                ", ".join(n for n in names if n not in needed),
            )
        )
    return [*lines, *_table(("Type", "Required properties", "Optional properties"), rows)]


def reference_markdown() -> str:
    """The API reference, from the docstrings: components (FlaskApp first), spec types, package."""
    found = components()
    lines = [
        "Generated from the docstrings by `python -m devtools.release` (release tooling of the project",
        "this library comes from; it does not ship); edit those, not this.",
        "",
    ]
    for name in sorted(found, key=lambda n: (n != _FIRST, n)):
        lines += _component_section(found[name])
    lines += ["### Spec types", "", "Dataclasses the Args fields above take.", ""]
    for name, cls in spec_types().items():
        lines += [f"#### {name}", "", f"`from {cls.__module__} import {name}`: {_prose(inspect.getdoc(cls) or '')}", ""]
        lines += _fields_table(cls)
    lines += _package_section(package_schema())
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.release", description="The public API of flask-k8s-components."
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--json", action="store_true", help="print surface() as JSON (a components/api/<version>.json record)"
    )
    group.add_argument("--update-readme", metavar="FILE", type=Path, help="rewrite FILE's reference block")
    options = parser.parse_args(argv)
    if options.json:
        print(json.dumps(surface(), indent=2, sort_keys=True))
    elif options.update_readme:
        path: Path = options.update_readme
        path.write_text(MARKERS.replace(path.read_text(), reference_markdown(), where=str(path)))
    else:
        print(reference_markdown(), end="")


if __name__ == "__main__":
    main()
