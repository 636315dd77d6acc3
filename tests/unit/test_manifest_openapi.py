"""Every Kubernetes object each stack produces validates against the Kubernetes OpenAPI schema.

Strict mode: an unknown field (a typo such as `readinesProbe`, or a field of a newer API than the
cluster serves) fails, as `kubectl apply --validate=strict` would. Checked for every Kubernetes
minor version we support, so an object valid only on the newest server is caught too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate import utils as kv_utils

from devtools.harness import Deployment, run_stack

# The cluster versions this project supports (the kwok control plane of the end-to-end tests runs 1.34).
SUPPORTED_VERSIONS = ["1.33.0", "1.34.0", "1.35.0"]
# Objects from outside the core schema: third-party CRDs and manifests applied by the provider.
# Gateway API and Traefik kinds are CRDs too: the kwok layer applies them to an API server that has
# their CRDs installed, which validates them (tests/e2e).
NOT_IN_CORE_SCHEMA = (
    "kubernetes:yaml/",
    "kubernetes:cert-manager.io/",
    "kubernetes:gateway.networking.k8s.io/",
    "kubernetes:traefik.io/",
)


@pytest.fixture(scope="module", autouse=True)
def _parse_each_schema_once() -> Iterator[None]:
    """kubernetes-validate re-reads and re-parses the (multi-megabyte) definitions file on every call;
    memoizing its loader for this module keeps the suite fast without changing what is validated."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kv_utils, "schema_contents", functools.cache(kv_utils.schema_contents))
        yield


def manifests(d: Deployment) -> list[tuple[str, dict[str, Any]]]:
    return [(r.urn, r.inputs) for r in d.kubernetes_objects() if not r.type.startswith(NOT_IN_CORE_SCHEMA)]


@pytest.fixture(scope="module", params=["dev", "prod", "local", "prod-with-cert-manager"])
def stack_manifests(request: pytest.FixtureRequest) -> list[tuple[str, dict[str, Any]]]:
    if request.param == "prod-with-cert-manager":
        return manifests(
            run_stack("prod", {"tls.certManager.install": True, "tls.certManager.acmeEmail": "ops@example.com"})
        )
    return manifests(run_stack(request.param))


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_objects_validate_strictly(stack_manifests: list[tuple[str, dict[str, Any]]], version: str) -> None:
    assert len(stack_manifests) >= 10
    failures = []
    for urn, manifest in stack_manifests:
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{urn}: {exc.message} at {'.'.join(map(str, exc.path))}")
    assert not failures, "\n".join(failures)


def test_the_check_catches_an_unknown_field() -> None:
    (_, deployment) = next(m for m in manifests(run_stack("dev")) if m[1]["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 3}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, SUPPORTED_VERSIONS[0], strict=True)
