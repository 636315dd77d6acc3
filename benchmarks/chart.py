"""The Kubernetes objects of a stack as plain manifests and as a Helm chart, for `kubectl apply` and
`helm upgrade --install` to deploy what `pulumi up` deploys (benchmarks/deploy_tools.py).

Generated, not written by hand and not committed: the objects are the program's own, rendered by a
mock run of `__main__.py` with the stack's config (the unit tests' harness), so the chart cannot
drift from the program. A committed copy would go stale with every component change; the benchmark
also checks, after each `pulumi up`, that the stack's live objects are the chart's (kinds and names).

What differs from a real `pulumi up`, and why:
- Objects Pulumi auto-names (the immutable ConfigMap and Secret) get `<logical name>-<hash of their
  content>`, as kustomize's generators do, so a changed value gives a new object and the Deployment
  rolls, as it does under Pulumi.
- Generated secrets and the TLS certificate are the harness's placeholders, not random values.
- `pulumi.com/*` annotations are dropped: they only tell the Pulumi provider how to apply.
- The namespace's `default` ServiceAccount (a patch of an object the cluster creates) is kubectl's
  only: Helm can only own objects it creates, and the cluster creates that one with the namespace.

Usage: .venv/bin/python benchmarks/chart.py [--stack local] [--set key=value ...] OUT_DIR
(writes OUT_DIR/manifests.yaml and the chart OUT_DIR/chart, to look at).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools.harness import run_stack  # noqa: E402 (needs the project root on sys.path)

# The harness names auto-named objects `<logical name>-abcd1234` (devtools/harness.py).
MOCK_SUFFIX = "-abcd1234"


@dataclass(frozen=True)
class Rendered:
    """A stack's Kubernetes objects, ready to apply."""

    objects: list[dict[str, Any]]
    """Every object Helm can own as well (the chart's templates)."""
    patches: list[dict[str, Any]]
    """Changes to objects the cluster creates (kubectl applies them; Helm cannot)."""
    autonamed: frozenset[tuple[str, str]]
    """(kind, name prefix) of the objects Pulumi auto-names: their names end in a random suffix there."""

    def all(self) -> list[dict[str, Any]]:
        return [*self.objects, *self.patches]


def identity(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) of a manifest."""
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def _content_hash(obj: Mapping[str, Any]) -> str:
    content = {k: v for k, v in obj.items() if k != "metadata"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:8]


def _replace_strings(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_replace_strings(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _replace_strings(v, names) for k, v in value.items()}
    return value


def render(stack: str, overrides: Mapping[str, Any] | None = None) -> Rendered:
    """The Kubernetes objects `pulumi up` of `stack` (with config `overrides`) would create."""
    deployment = run_stack(stack, overrides)
    objects, patches, renamed, autonamed = [], [], {}, set()
    for registered in deployment.kubernetes_objects():
        manifest = json.loads(json.dumps(registered.inputs))  # a deep, plain copy
        meta = manifest.setdefault("metadata", {})
        annotations = {
            k: v for k, v in (meta.pop("annotations", None) or {}).items() if not k.startswith("pulumi.com/")
        }
        if annotations:
            meta["annotations"] = annotations
        if "name" not in meta:
            meta["name"] = f"{registered.name}-{_content_hash(manifest)}"
            renamed[f"{registered.name}{MOCK_SUFFIX}"] = meta["name"]
            autonamed.add((manifest["kind"], registered.name))
        (patches if registered.type.endswith("Patch") else objects).append(manifest)
    # References to auto-named objects (the Deployment's envFrom and volumes) follow the new names.
    objects = [_replace_strings(o, renamed) for o in objects]
    patches = [_replace_strings(o, renamed) for o in patches]
    return Rendered(objects=objects, patches=patches, autonamed=frozenset(autonamed))


def manifests_yaml(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


def write_chart(rendered: Rendered, directory: Path, name: str, version: str) -> Path:
    """A chart whose templates are the rendered objects, verbatim (no values: a new configuration is
    a new rendering, which `helm upgrade` moves the release to)."""
    templates = directory / "templates"
    templates.mkdir(parents=True)
    (directory / "Chart.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v2",
                "name": name,
                "description": "The objects of the Pulumi program, rendered for the benchmark",
                "type": "application",
                "version": version,
            },
            sort_keys=False,
        )
    )
    for index, obj in enumerate(rendered.objects):
        text = yaml.safe_dump(obj, sort_keys=False)
        if "{{" in text:
            # Helm would read it as a template; nothing the program renders has one today.
            raise ValueError(f"{identity(obj)} contains '{{{{', which Helm would treat as a template")
        kind, _, obj_name = identity(obj)
        (templates / f"{index:02d}-{kind.lower()}-{obj_name}.yaml").write_text(text)
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="local")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.set)
    rendered = render(args.stack, overrides)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "manifests.yaml").write_text(manifests_yaml(rendered.all()))
    write_chart(rendered, args.out / "chart", "flask-app", "0.1.0")
    print(f"{len(rendered.objects)} objects in {args.out / 'chart'}, {len(rendered.all())} in manifests.yaml")


if __name__ == "__main__":
    main()
