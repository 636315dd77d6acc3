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
from flask_k8s_components.app_config import ConfigSpec
from flask_k8s_components.flask_app import FlaskAppArgs
from flask_k8s_components.namespace import LimitRangeSpec, NamespaceSpec, QuotaSpec
from flask_k8s_components.network_policy import EgressRule, NetworkPolicySpec
from flask_k8s_components.route import IngressSpec, RouteSpec
from flask_k8s_components.secrets import DatabaseSpec, SecretsSpec
from flask_k8s_components.service import ServiceSpec
from flask_k8s_components.tls import RouteTls
from flask_k8s_components.workload import (
    AutoscalingSpec,
    ResourcesSpec,
    RolloutSpec,
    ScaleSpec,
    SecuritySpec,
    TerminationSpec,
    WorkloadSpec,
)

from devtools import release
from devtools.harness import resolve
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
    del new["components"]["FlaskApp"]["fields"]["workload"]
    assert release.breaking_changes(surface, new) == ["FlaskApp: Args field `workload` was removed or renamed"]


def test_a_renamed_args_field_is_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    fields = new["components"]["FlaskApp"]["fields"]
    fields["deployment"] = fields.pop("workload")
    # The new name is required, so it breaks callers twice.
    assert release.breaking_changes(surface, new) == [
        "FlaskApp: Args field `workload` was removed or renamed",
        "FlaskApp: new Args field `deployment` is required",
    ]


def test_an_optional_field_that_becomes_required_is_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    assert new["components"]["FlaskApp"]["fields"]["route"] == {"required": False}
    new["components"]["FlaskApp"]["fields"]["route"]["required"] = True
    assert release.breaking_changes(surface, new) == ["FlaskApp: Args field `route` became required"]


def test_a_removed_output_is_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    new["components"]["FlaskApp"]["outputs"].remove("url")
    assert release.breaking_changes(surface, new) == ["FlaskApp: output `url` was removed or renamed"]


def test_a_removed_package_input_is_breaking(surface: dict[str, Any]) -> None:
    new = copy.deepcopy(surface)
    del new["package"]["resources"][FLASK_APP]["inputs"]["workload"]
    assert release.breaking_changes(surface, new) == [f"package {FLASK_APP}: input `workload` was removed or renamed"]


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
    del record["package"]["resources"][FLASK_APP]["inputs"]["workload"]
    record["types"]["GoneSpec"] = {"module": "flask_k8s_components.gone", "fields": {}}
    (tmp_path / "0.9.0.json").write_text(json.dumps(record))
    assert release.breaking_changes(record, surface) != []
    assert semver_violations(tmp_path, surface) == []


# --- package.py derives its inputs from the dataclasses ------------------------------------------------


def _derived_pairs(cls: type[Any]) -> dict[type[Any], type[Any]]:
    """Each dataclass reachable from `cls` (itself included) and the TypedDict the package derived."""
    pairs: dict[type[Any], type[Any]] = {}

    def walk(dc: type[Any]) -> None:
        if dc in pairs:
            return
        pairs[dc] = package.inputs_of(dc)
        for hint in typing.get_type_hints(dc).values():
            for arg in (hint, *typing.get_args(hint), *(a for h in typing.get_args(hint) for a in typing.get_args(h))):
                if dataclasses.is_dataclass(arg):
                    walk(typing.cast(type[Any], arg))

    walk(cls)
    return pairs


def test_the_package_inputs_are_the_dataclasses_as_typed_dicts() -> None:
    pairs = _derived_pairs(FlaskAppArgs)
    assert package.FlaskAppInputs is pairs[FlaskAppArgs]
    # Every spec FlaskAppArgs reaches, down to the leaves: a spec added to the Args reaches the package.
    assert {ScaleSpec, AutoscalingSpec, RouteSpec, IngressSpec, RouteTls, EgressRule, DatabaseSpec} <= set(pairs)
    for dc, typed_dict in pairs.items():
        assert typing.is_typeddict(typed_dict), dc
        # Its name and module, so that the SDK reads the field docstrings from the dataclass's source.
        assert (typed_dict.__name__, typed_dict.__module__) == (dc.__name__, dc.__module__)
        fields = dataclasses.fields(dc)
        keys = set(typed_dict.__required_keys__ | typed_dict.__optional_keys__)
        assert keys == {f.name for f in fields}, f"{dc.__name__}: keys differ"
        required = {
            f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        assert set(typed_dict.__required_keys__) == required, f"{dc.__name__}: required keys differ"
    # The annotations as the SDK's analyzer reads them (not evaluated again: pulumi.Input holds a
    # forward reference to Output).
    workload = pairs[WorkloadSpec].__annotations__
    assert workload["scale"] == typing.NotRequired[pairs[ScaleSpec]] and workload["port"] is int
    assert pairs[SecretsSpec].__annotations__["secret_key"] == typing.NotRequired[pulumi.Input[str]]
    assert pairs[RouteTls].__annotations__["mode"] == typing.NotRequired[str]  # a Literal of strings
    assert pairs[NetworkPolicySpec].__annotations__["egress"] == typing.NotRequired[list[pairs[EgressRule]]]


def test_the_package_schema_carries_the_dataclasses_docstrings(surface: dict[str, Any]) -> None:
    schema = release.package_schema()
    workload = schema["types"]["flask-k8s:index:WorkloadSpec"]["properties"]
    assert workload["port"]["description"] == 'Port the app listens on inside the container (named "http").'
    assert set(schema["resources"][FLASK_APP]["requiredInputs"]) == {"name", "namespace", "workload", "config"}


FULL_INPUTS: dict[str, Any] = {
    "name": "flask-app",
    "namespace": {
        "name": "flask-app",
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
        "labels": {"team": "web"},
    },
    "workload": {
        "image": "flask-app:1.0",
        "version": "1.0",
        "port": 5000,
        "resources": {
            "cpu_request": "250m",
            "memory_request": "256Mi",
            "cpu_limit": "500m",
            "memory_limit": "512Mi",
            "ephemeral_storage_request": "100Mi",
            "ephemeral_storage_limit": "1Gi",
        },
        "scale": {"replicas": 3, "autoscaling": {"min_replicas": 2, "max_replicas": 6, "cpu_utilization": 70}},
        "image_pull_policy": "Always",
        "security": {"run_as_user": 1001, "read_only_root_filesystem": False},
        "termination": {"pre_stop_sleep_seconds": 3, "grace_period_seconds": 20},
        "rollout": {"max_surge": 2, "max_unavailable": 1, "progress_deadline_seconds": 120, "timeout_seconds": 180},
        "disruption_budget": False,
        "spread_zones": True,
    },
    "config": {"env": {"FLASK_ENV": "production"}, "config_file": "[database]\npool_size = 10\n"},
    "secrets": {"database": {"user": "app", "host": "db.internal", "port": 5432, "name": "app"}},
    "service": {"type": "LoadBalancer", "annotations": {"lb": "internal"}},
    "route": {
        "host": "flask-app.local",
        "tls": {"mode": "secret", "secret_name": "flask-app-tls"},
        "ingress": {"class_name": "traefik", "annotations": {"a": "b"}},
    },
    "network_policy": {
        "ingress_namespaces": ["edge"],
        "egress": [{"cidr": "10.0.0.0/8", "port": 5432}, {"cidr": "192.168.0.0/16"}],
    },
}


def test_flask_app_args_builds_every_nested_spec() -> None:
    expected = FlaskAppArgs(
        name="flask-app",
        namespace=NamespaceSpec(
            name="flask-app",
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
            labels={"team": "web"},
        ),
        workload=WorkloadSpec(
            image="flask-app:1.0",
            version="1.0",
            port=5000,
            resources=ResourcesSpec(
                cpu_request="250m",
                memory_request="256Mi",
                cpu_limit="500m",
                memory_limit="512Mi",
                ephemeral_storage_request="100Mi",
                ephemeral_storage_limit="1Gi",
            ),
            scale=ScaleSpec(
                replicas=3, autoscaling=AutoscalingSpec(min_replicas=2, max_replicas=6, cpu_utilization=70)
            ),
            image_pull_policy="Always",
            security=SecuritySpec(run_as_user=1001, read_only_root_filesystem=False),
            termination=TerminationSpec(pre_stop_sleep_seconds=3, grace_period_seconds=20),
            rollout=RolloutSpec(max_surge=2, max_unavailable=1, progress_deadline_seconds=120, timeout_seconds=180),
            disruption_budget=False,
            spread_zones=True,
        ),
        config=ConfigSpec(env={"FLASK_ENV": "production"}, config_file="[database]\npool_size = 10\n"),
        secrets=SecretsSpec(database=DatabaseSpec(user="app", host="db.internal", port=5432, name="app")),
        service=ServiceSpec(type="LoadBalancer", annotations={"lb": "internal"}),
        route=RouteSpec(
            host="flask-app.local",
            tls=RouteTls(mode="secret", secret_name="flask-app-tls"),
            ingress=IngressSpec(class_name="traefik", annotations={"a": "b"}),
        ),
        network_policy=NetworkPolicySpec(
            ingress_namespaces=["edge"],
            egress=[EgressRule(cidr="10.0.0.0/8", port=5432), EgressRule(cidr="192.168.0.0/16")],
        ),
    )
    assert package.flask_app_args(FULL_INPUTS) == expected


def test_flask_app_args_keeps_defaults_and_makes_given_secrets_secret() -> None:
    required = {key: FULL_INPUTS[key] for key in package.FlaskAppInputs.__required_keys__}
    args = package.flask_app_args({**required, "secrets": {"secret_key": "s3cret"}})
    assert args.service == ServiceSpec() and args.network_policy == NetworkPolicySpec() and args.route is None
    assert args.secrets.jwt_secret_key is None and args.secrets.database is None
    assert isinstance(args.secrets.secret_key, pulumi.Output)
    assert resolve(args.secrets.secret_key) == ("s3cret", True)


@pytest.mark.parametrize(
    ("inputs", "unknown"),
    [
        ({**FULL_INPUTS, "replica_count": 3}, "replica_count"),
        (
            {
                **FULL_INPUTS,
                "workload": {
                    **FULL_INPUTS["workload"],
                    "resources": {**FULL_INPUTS["workload"]["resources"], "gpu": "1"},
                },
            },
            "gpu",
        ),
    ],
)
def test_flask_app_args_names_an_unknown_key(inputs: dict[str, Any], unknown: str) -> None:
    with pytest.raises(ValueError, match=unknown):
        package.flask_app_args(inputs)
