"""The component library's public API keeps its semantic-versioning promise, and its docs follow it.

components/api/<version>.json records the API of each release (devtools.release.surface()).
Within one major version the code may add optional things but never remove, rename or newly require
one: every record of the current major is compared with the code. The record of the current version
must equal the code exactly, so that any change of the API comes with a new version and record.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest
from flask_k8s_components import package
from flask_k8s_components.flask_app import FlaskAppArgs, IngressSpec, NetworkPolicySpec, ServiceSpec
from flask_k8s_components.namespace import LimitRangeSpec, QuotaSpec
from flask_k8s_components.network_policy import EgressRule
from flask_k8s_components.secrets import DatabaseArgs
from flask_k8s_components.tls import RouteTls
from flask_k8s_components.workload import AutoscalingSpec, ResourcesSpec, RolloutSpec, SecuritySpec, TerminationSpec

from devtools import release
from tests.harness import resolve
from tests.wheel import LIBRARY, declared_version

RECORDS = LIBRARY / "api"
FLASK_APP = "flask-k8s:index:FlaskApp"

HOW_TO_RECORD = (
    "To release a changed API: bump `version` in components/pyproject.toml (minor for additions, "
    "major for breaking changes), reinstall (.venv/bin/pip install --no-deps --no-build-isolation -e components), "
    "write the record with `.venv/bin/python -m devtools.release --json > components/api/<version>.json` "
    "and add a `## <version> - <date>` entry to components/CHANGELOG.md."
)


@pytest.fixture(scope="module")
def surface() -> dict[str, Any]:
    # Module scope: the schema analysis behind it takes a moment, and nothing here mutates it.
    return release.surface()


def _major(version: str) -> int:
    return int(version.split(".", 1)[0])


def semver_violations(records: Path, current: Mapping[str, Any]) -> list[str]:
    """Breaking changes from each record in `records` of the current major to `current`. Records of
    another major are skipped: a major version exists to break them."""
    found: list[str] = []
    for path in sorted(records.glob("*.json")):
        record = json.loads(path.read_text())
        if _major(record["version"]) != _major(current["version"]):
            continue
        found += [f"{path.name}: {change}" for change in release.breaking_changes(record, current)]
    return found


def check_records(records: Path, current: Mapping[str, Any]) -> None:
    """Fails, naming every breaking change, when the code breaks a record of its major version."""
    violations = semver_violations(records, current)
    if violations:
        pytest.fail(
            f"the API of {current['version']} breaks releases of the same major version:\n  "
            + "\n  ".join(violations)
            + "\nRestore what was removed, or make this a new major version: a major version bump in "
            + f"components/pyproject.toml is needed. {HOW_TO_RECORD}",
            pytrace=False,
        )


# --- the version and its records --------------------------------------------------------------------------


def test_the_installed_version_is_the_one_in_pyproject() -> None:
    declared = declared_version()
    assert declared == release.version(), (
        f"components/pyproject.toml says {declared}, the installed metadata {release.version()}; "
        "reinstall: .venv/bin/pip install --no-deps --no-build-isolation -e components"
    )


def test_no_record_of_this_major_is_broken(surface: dict[str, Any]) -> None:
    check_records(RECORDS, surface)


def test_the_current_version_is_recorded_exactly(surface: dict[str, Any]) -> None:
    path = RECORDS / f"{surface['version']}.json"
    assert path.is_file(), f"no record of version {surface['version']} ({path.name}). {HOW_TO_RECORD}"
    recorded = json.loads(path.read_text())
    assert recorded == surface, (
        f"the API differs from the record of {surface['version']}, which is released; "
        f"changes from it: {release.breaking_changes(recorded, surface) or 'additions only'}. {HOW_TO_RECORD}"
    )


def test_the_changelog_has_an_entry_for_the_current_version() -> None:
    changelog = (LIBRARY / "CHANGELOG.md").read_text()
    headings = [line for line in changelog.splitlines() if line.startswith(f"## {release.version()} ")]
    assert headings, f"components/CHANGELOG.md has no `## {release.version()} - <date>` heading"


def test_the_readme_reference_is_generated_from_the_code() -> None:
    readme = (LIBRARY / "README.md").read_text()
    # Raises, naming the missing marker, when components/README.md lost one.
    block = release.MARKERS.block(readme, "components/README.md")
    # On a mismatch: .venv/bin/python -m devtools.release --update-readme components/README.md
    assert block == release.reference_markdown()


def test_the_reference_starts_with_flask_app_and_covers_every_component() -> None:
    reference = release.reference_markdown()
    headings = [line.removeprefix("### ") for line in reference.splitlines() if line.startswith("### ")]
    assert headings[0] == "FlaskApp"
    assert set(release.components()) <= set(headings)
    for line in reference.splitlines():
        if line.startswith("| "):
            # Every row ends its last cell: an unescaped `|` would have split one.
            assert line.endswith(" |"), line


# --- breaking_changes -------------------------------------------------------------------------------------


def test_an_unchanged_surface_breaks_nothing(surface: dict[str, Any]) -> None:
    assert release.breaking_changes(surface, copy.deepcopy(surface)) == []


def test_a_removed_args_field_is_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    del new["components"]["FlaskApp"]["fields"]["replicas"]
    assert release.breaking_changes(surface, new) == ["FlaskApp: Args field `replicas` was removed or renamed"]


def test_a_renamed_args_field_is_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    fields = new["components"]["FlaskApp"]["fields"]
    fields["replica_count"] = fields.pop("replicas")
    # The new name is required, so it breaks callers twice.
    assert release.breaking_changes(surface, new) == [
        "FlaskApp: Args field `replicas` was removed or renamed",
        "FlaskApp: new Args field `replica_count` is required",
    ]


def test_an_optional_field_that_becomes_required_is_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    assert new["components"]["FlaskApp"]["fields"]["ingress"] == {"required": False}
    new["components"]["FlaskApp"]["fields"]["ingress"]["required"] = True
    assert release.breaking_changes(surface, new) == ["FlaskApp: Args field `ingress` became required"]


def test_a_removed_output_is_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    new["components"]["FlaskApp"]["outputs"].remove("url")
    assert release.breaking_changes(surface, new) == ["FlaskApp: output `url` was removed or renamed"]


def test_a_removed_package_input_is_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    del new["package"]["resources"][FLASK_APP]["inputs"]["containerPort"]
    assert release.breaking_changes(surface, new) == [
        f"package {FLASK_APP}: input `containerPort` was removed or renamed"
    ]


def test_removed_keyword_parameters_type_fields_and_package_outputs_are_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    del new["components"]["FlaskApp"]["keyword_parameters"]["certificate_aliases"]
    del new["types"]["ResourcesSpec"]["fields"]["cpu_limit"]
    del new["types"]["RouteTls"]
    del new["package"]["resources"][FLASK_APP]["outputs"]["url"]
    assert release.breaking_changes(surface, new) == [
        "FlaskApp: keyword parameter `certificate_aliases` was removed or renamed",
        "type ResourcesSpec: field `cpu_limit` was removed or renamed",
        "type `RouteTls` was removed or renamed",
        f"package {FLASK_APP}: output `url` was removed or renamed",
    ]


def test_added_optional_things_are_not_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    new["components"]["FlaskApp"]["fields"]["priority_class"] = {"required": False}
    new["components"]["FlaskApp"]["keyword_parameters"]["extra"] = {"required": False}
    new["components"]["FlaskApp"]["outputs"].append("extra_output")
    new["types"]["ResourcesSpec"]["fields"]["gpu_limit"] = {"required": False}
    new["package"]["resources"][FLASK_APP]["inputs"]["priorityClass"] = {"required": False}
    assert release.breaking_changes(surface, new) == []


def test_a_record_with_a_field_the_code_lacks_fails_the_check(surface: dict[str, Any], tmp_path: Path) -> None:
    record = copy.deepcopy(surface)
    record["components"]["FlaskApp"]["fields"]["legacy_field"] = {"required": False}
    (tmp_path / f"{surface['version']}.json").write_text(json.dumps(record))
    assert semver_violations(tmp_path, surface) == [
        f"{surface['version']}.json: FlaskApp: Args field `legacy_field` was removed or renamed"
    ]
    with pytest.raises(pytest.fail.Exception, match="major version bump"):
        check_records(tmp_path, surface)


def test_records_of_an_older_major_are_ignored(surface: dict[str, Any], tmp_path: Path) -> None:
    record = copy.deepcopy(surface)
    record["version"] = "0.9.0"
    record["components"]["FlaskApp"]["fields"]["legacy_field"] = {"required": False}
    del record["package"]["resources"][FLASK_APP]["inputs"]["containerPort"]
    record["types"]["GoneSpec"] = {"module": "flask_k8s_components.gone", "fields": {}}
    (tmp_path / "0.9.0.json").write_text(json.dumps(record))
    assert release.breaking_changes(record, surface) != []
    assert semver_violations(tmp_path, surface) == []


# --- package.py mirrors the dataclasses -------------------------------------------------------------------


def _package_dataclasses() -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = dict(release.spec_types())
    for component in release.components().values():
        args = release.args_class(component)
        found[args.__name__] = args
    return found


def _typed_dicts() -> dict[str, type[Any]]:
    return {
        name: obj
        for name, obj in vars(package).items()
        if isinstance(obj, type) and typing.is_typeddict(obj) and obj.__module__ == package.__name__
    }


def test_every_typed_dict_of_the_package_mirrors_its_dataclass() -> None:
    dataclasses_by_name = _package_dataclasses()
    typed_dicts = _typed_dicts()
    assert "FlaskAppInputs" in typed_dicts
    for name, typed_dict in typed_dicts.items():
        # By convention FlaskAppInputs mirrors FlaskAppArgs; every spec keeps its name.
        mirrored = name.removesuffix("Inputs") + "Args" if name.endswith("Inputs") else name
        assert mirrored in dataclasses_by_name, f"package.{name} mirrors no dataclass (looked for {mirrored})"
        fields = dataclasses.fields(dataclasses_by_name[mirrored])
        keys = set(typed_dict.__required_keys__ | typed_dict.__optional_keys__)
        assert keys == {f.name for f in fields}, f"package.{name} and {mirrored} differ in their keys"
        required = {
            f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        assert set(typed_dict.__required_keys__) == required, f"package.{name}: required keys differ from {mirrored}"


FULL_INPUTS: dict[str, Any] = {
    "name": "flask-app",
    "namespace": "flask-app",
    "image": "flask-app:1.0",
    "version": "1.0",
    "replicas": 3,
    "container_port": 5000,
    "resources": {
        "cpu_request": "250m",
        "memory_request": "256Mi",
        "cpu_limit": "500m",
        "memory_limit": "512Mi",
        "ephemeral_storage_request": "100Mi",
        "ephemeral_storage_limit": "1Gi",
    },
    "quota": {
        "requests_cpu": "4",
        "requests_memory": "8Gi",
        "limits_cpu": "8",
        "limits_memory": "16Gi",
        "pods": 20,
        "services": 10,
        "persistent_volume_claims": 5,
    },
    "limit_range": {
        "default_cpu": "500m",
        "default_memory": "512Mi",
        "default_request_cpu": "100m",
        "default_request_memory": "128Mi",
        "default_ephemeral_storage": "1Gi",
        "default_request_ephemeral_storage": "100Mi",
    },
    "env": {"FLASK_ENV": "production"},
    "config_file": "[database]\npool_size = 10\n",
    "database": {"user": "app", "host": "db.internal", "port": 5432, "name": "app"},
    "service": {"type": "LoadBalancer", "annotations": {"lb": "internal"}},
    "ingress": {
        "host": "flask-app.local",
        "ingress_class_name": "traefik",
        "tls": {"mode": "secret", "secret_name": "flask-app-tls"},
        "annotations": {"a": "b"},
    },
    "namespace_labels": {"team": "web"},
    "image_pull_policy": "Always",
    "security": {"run_as_user": 1001, "read_only_root_filesystem": False},
    "termination": {"pre_stop_sleep_seconds": 3, "grace_period_seconds": 20},
    "rollout": {"max_surge": 2, "max_unavailable": 1, "progress_deadline_seconds": 120, "timeout_seconds": 180},
    "autoscaling": {"min_replicas": 2, "max_replicas": 6, "cpu_utilization": 70},
    "disruption_budget": False,
    "spread_zones": True,
    "network_policy": {
        "ingress_namespaces": ["edge"],
        "egress": [{"cidr": "10.0.0.0/8", "port": 5432}, {"cidr": "192.168.0.0/16"}],
    },
}


def test_flask_app_args_builds_every_nested_spec() -> None:
    expected = FlaskAppArgs(
        name="flask-app",
        namespace="flask-app",
        image="flask-app:1.0",
        version="1.0",
        replicas=3,
        container_port=5000,
        resources=ResourcesSpec(
            cpu_request="250m",
            memory_request="256Mi",
            cpu_limit="500m",
            memory_limit="512Mi",
            ephemeral_storage_request="100Mi",
            ephemeral_storage_limit="1Gi",
        ),
        quota=QuotaSpec(
            requests_cpu="4",
            requests_memory="8Gi",
            limits_cpu="8",
            limits_memory="16Gi",
            pods=20,
            services=10,
            persistent_volume_claims=5,
        ),
        limit_range=LimitRangeSpec(
            default_cpu="500m",
            default_memory="512Mi",
            default_request_cpu="100m",
            default_request_memory="128Mi",
            default_ephemeral_storage="1Gi",
            default_request_ephemeral_storage="100Mi",
        ),
        env={"FLASK_ENV": "production"},
        config_file="[database]\npool_size = 10\n",
        database=DatabaseArgs(user="app", host="db.internal", port=5432, name="app"),
        service=ServiceSpec(type="LoadBalancer", annotations={"lb": "internal"}),
        ingress=IngressSpec(
            host="flask-app.local",
            ingress_class_name="traefik",
            tls=RouteTls(mode="secret", secret_name="flask-app-tls"),
            annotations={"a": "b"},
        ),
        namespace_labels={"team": "web"},
        image_pull_policy="Always",
        security=SecuritySpec(run_as_user=1001, read_only_root_filesystem=False),
        termination=TerminationSpec(pre_stop_sleep_seconds=3, grace_period_seconds=20),
        rollout=RolloutSpec(max_surge=2, max_unavailable=1, progress_deadline_seconds=120, timeout_seconds=180),
        autoscaling=AutoscalingSpec(min_replicas=2, max_replicas=6, cpu_utilization=70),
        disruption_budget=False,
        spread_zones=True,
        network_policy=NetworkPolicySpec(
            ingress_namespaces=["edge"],
            egress=[EgressRule(cidr="10.0.0.0/8", port=5432), EgressRule(cidr="192.168.0.0/16")],
        ),
    )
    assert package.flask_app_args(FULL_INPUTS) == expected


def test_flask_app_args_keeps_defaults_and_makes_given_secrets_secret() -> None:
    required = {key: FULL_INPUTS[key] for key in package.FlaskAppInputs.__required_keys__}
    args = package.flask_app_args({**required, "secret_key": "s3cret"})
    assert args.service == ServiceSpec() and args.network_policy == NetworkPolicySpec() and args.ingress is None
    assert args.jwt_secret_key is None
    assert isinstance(args.secret_key, pulumi.Output)
    assert resolve(args.secret_key) == ("s3cret", True)


@pytest.mark.parametrize(
    ("inputs", "unknown"),
    [
        ({**FULL_INPUTS, "replica_count": 3}, "replica_count"),
        ({**FULL_INPUTS, "resources": {**FULL_INPUTS["resources"], "gpu": "1"}}, "gpu"),
    ],
)
def test_flask_app_args_names_an_unknown_key(inputs: dict[str, Any], unknown: str) -> None:
    with pytest.raises(ValueError, match=unknown):
        package.flask_app_args(inputs)
