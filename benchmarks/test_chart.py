"""The chart and manifests the deployment benchmark gives kubectl and Helm (benchmarks/chart.py) hold
the objects the program creates: the same kinds and names, so the comparison with `pulumi up` is
of like with like, and a component change that the rendering missed fails here, not silently."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchmarks import chart
from devtools.harness import run_stack


def program_identities(stack: str) -> set[tuple[str, str, str]]:
    """(kind, namespace, name-or-logical-name) of each Kubernetes object the stack registers."""
    found = set()
    for obj in run_stack(stack).kubernetes_objects():
        meta = obj.inputs.get("metadata") or {}
        found.add((obj.inputs["kind"], meta.get("namespace", ""), meta.get("name", obj.name)))
    return found


def test_the_rendering_holds_every_object_of_the_local_stack() -> None:
    rendered = chart.render("local")
    names = {}
    for kind, namespace, name in map(chart.identity, rendered.all()):
        base = name.rsplit("-", 1)[0]
        names[(kind, namespace, base if (kind, base) in rendered.autonamed else name)] = name
    assert set(names) == program_identities("local")
    # Only the namespace's default ServiceAccount is kubectl's alone (Helm cannot own it).
    assert [chart.identity(p) for p in rendered.patches] == [("ServiceAccount", "flask-app", "default")]
    assert {kind for kind, _ in rendered.autonamed} == {"ConfigMap", "Secret"}


def test_the_deployment_refers_to_the_renamed_config_and_a_config_change_rolls_it() -> None:
    before, after = chart.render("local"), chart.render("local", {"app.env.LOG_LEVEL": "warning"})

    def config_names(rendered: chart.Rendered) -> tuple[str, str]:
        config_map = next(o for o in rendered.objects if o["kind"] == "ConfigMap")
        deployment = next(o for o in rendered.objects if o["kind"] == "Deployment")
        env_from = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        return config_map["metadata"]["name"], env_from[0]["configMapRef"]["name"]

    (old_name, old_ref), (new_name, new_ref) = config_names(before), config_names(after)
    assert old_name == old_ref and new_name == new_ref
    assert old_name != new_name, "a changed value must give a new ConfigMap, so the Deployment rolls"


def test_pulumi_only_annotations_are_dropped(tmp_path: Path) -> None:
    rendered = chart.render("local")
    service = next(o for o in rendered.objects if o["kind"] == "Service")
    assert "pulumi.com/skipAwait" not in (service["metadata"].get("annotations") or {})
    deployment = next(o for o in rendered.objects if o["kind"] == "Deployment")
    assert "annotations" not in deployment["metadata"]
    # The chart is the objects verbatim: one template each, parseable as plain YAML.
    chart_dir = chart.write_chart(rendered, tmp_path / "chart", "flask-app", "0.1.0")
    templates = [yaml.safe_load(p.read_text()) for p in sorted((chart_dir / "templates").iterdir())]
    assert templates == rendered.objects
    assert yaml.safe_load((chart_dir / "Chart.yaml").read_text())["apiVersion"] == "v2"
