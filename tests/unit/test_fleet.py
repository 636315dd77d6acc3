"""The fleet file: its validation, the stacks and config it derives, and each stack's program under mocks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from devtools.harness import run_stack
from fleet.__main__ import main
from fleet.run import error_text, kubernetes_id, pending_creates
from fleet.spec import DEFAULT_FILE, PROJECT, FleetError, StackSpec, load, merged


def write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


def test_merged_keeps_base_fields_and_replaces_leaves() -> None:
    base = {"env": {"A": "1", "B": "2"}, "replicas": 3}
    assert merged(base, {"env": {"B": "x"}, "replicas": 5}) == {"env": {"A": "1", "B": "x"}, "replicas": 5}
    assert base == {"env": {"A": "1", "B": "2"}, "replicas": 3}


def test_every_app_in_every_environment_is_one_stack_with_its_own_identity(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "environments": {
                "local": {"base": "local", "domain": "apps.test"},
                "prod": {"base": "prod", "domain": "x.io"},
            },
            "apps": [
                {"name": "shop", "config": {"app": {"env": {"LOG_LEVEL": "warning"}}}},
                {"name": "blog", "environments": ["prod"]},
            ],
        },
    )
    specs = {s.name: s for s in load(path)}
    assert list(specs) == ["shop-local", "shop-prod", "blog-prod"]
    shop = specs["shop-local"].config
    assert shop[f"{PROJECT}:app"]["name"] == "shop"
    assert shop[f"{PROJECT}:app"]["env"] == {"LOG_LEVEL": "warning"}
    assert shop[f"{PROJECT}:namespace"]["name"] == "shop"
    assert shop[f"{PROJECT}:ingress"]["host"] == "shop.apps.test"
    # The base stack file's values stay: local's cluster, prod's image and resources.
    assert shop[f"{PROJECT}:cluster"]["target"] == "existing"
    blog = specs["blog-prod"].config
    assert blog[f"{PROJECT}:app"]["resources"]["limits"]["memory"] == "512Mi"
    assert blog[f"{PROJECT}:app"]["env"] == {"LOG_LEVEL": "warning"}  # prod's own


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"environments": {}, "apps": [{"name": "Shop"}]}, "apps.0.name"),
        (
            {
                "environments": {"local": {"base": "local", "domain": "d"}},
                "apps": [{"name": "a", "environments": ["qa"]}],
            },
            "no environment 'qa'",
        ),
        ({"environments": {"local": {"base": "nope", "domain": "d"}}, "apps": []}, "no stack file Pulumi.nope.yaml"),
        (
            {"environments": {"local": {"base": "local", "domain": "d"}}, "apps": [{"name": "a"}, {"name": "a"}]},
            "listed twice",
        ),
        (
            {"environments": {"local": {"base": "local", "domain": "d", "colour": 1}}, "apps": []},
            "environments.local.colour",
        ),
    ],
)
def test_a_bad_fleet_file_names_the_path_of_the_problem(tmp_path: Path, content: object, expected: str) -> None:
    with pytest.raises(FleetError, match=expected.replace(".", r"\.")):
        load(write(tmp_path, content))


def test_the_workflow_matrix_is_the_fleet_files_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix"]) == 0
    assert json.loads(capsys.readouterr().out) == [s.name for s in load(DEFAULT_FILE)]


def test_a_stack_files_salt_is_kept_and_its_config_rewritten() -> None:
    spec = StackSpec(
        name="a-local", app="a", environment="local", base="local", config={f"{PROJECT}:app": {"name": "a"}}
    )
    content = spec.stack_file({"encryptionsalt": "v1:abc", "config": {"old": 1}})
    assert content == {"encryptionsalt": "v1:abc", "config": {f"{PROJECT}:app": {"name": "a"}}}


@pytest.mark.parametrize("spec", load(DEFAULT_FILE), ids=lambda s: s.name)
def test_each_stack_of_the_fleet_file_deploys_its_app_in_its_own_namespace(spec: StackSpec) -> None:
    deployment = run_stack(spec.base, overrides=dict(spec.config))
    assert deployment.one("kubernetes:core/v1:Namespace").get("metadata.name") == spec.app
    dep = deployment.one("kubernetes:apps/v1:Deployment")
    assert (dep.get("metadata.name"), dep.get("metadata.namespace")) == (spec.app, spec.app)


def test_a_failed_stacks_error_is_the_clis_error_lines_with_their_details() -> None:
    output = """Previewing update (shop-local):
 +  pulumi:pulumi:Stack flask-k8s-shop-local create 2 errors
Diagnostics:
  pulumi:pulumi:Stack (flask-k8s-shop-local):
    error: invalid stack configuration (1 problem(s)):
      - flask-k8s:app.replicas: -1 must be at least 1
    error: an unhandled error occurred: Program exited with non-zero exit code: 1
Resources:
    1 errored
"""
    failed = auto.CommandError(auto.CommandResult(stdout=output, stderr="", code=255))
    assert error_text(failed) == (
        "invalid stack configuration (1 problem(s)): | - flask-k8s:app.replicas: -1 must be at least 1"
    )


def test_an_in_flight_kubernetes_create_is_looked_up_under_the_name_its_inputs_give() -> None:
    deployment = {
        "pending_operations": [
            {
                "type": "creating",
                "resource": {
                    "urn": "urn:cm",
                    "type": "kubernetes:core/v1:ConfigMap",
                    "custom": True,
                    "inputs": {"metadata": {"name": "shop-config-x1y2", "namespace": "shop"}},
                },
            },
            {
                "type": "creating",
                "resource": {
                    "urn": "urn:ns",
                    "type": "kubernetes:core/v1:Namespace",
                    "custom": True,
                    "inputs": {"metadata": {"name": "shop"}},
                },
            },
            {
                "type": "creating",
                "resource": {"urn": "urn:pw", "type": "random:index/randomPassword:RandomPassword", "custom": True},
            },
            {
                "type": "updating",
                "resource": {"urn": "urn:dep", "type": "kubernetes:apps/v1:Deployment", "custom": True},
            },
        ]
    }
    creates = pending_creates(deployment)
    assert [r["urn"] for r in creates] == ["urn:cm", "urn:ns", "urn:pw"]
    assert [kubernetes_id(r) for r in creates] == ["shop/shop-config-x1y2", "shop", None]
