"""The example program under Pulumi's mocks: no engine, no cluster, only the library and pytest.

Run from this folder's virtualenv: `venv/bin/pip install -r requirements.txt pytest` then
`venv/bin/python -m pytest`.
"""

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

PROGRAM = Path(__file__).with_name("__main__.py")


class Recorder(pulumi.runtime.Mocks):
    """Records every resource the program registers; each resource's state is its inputs."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def kubernetes(self, kind: str) -> dict[str, dict[str, Any]]:
        """The Kubernetes objects of one kind, by `<namespace>/<name>` (an object Kubernetes names
        itself, as the immutable ConfigMap and Secret are, by its Pulumi name)."""
        return {
            f"{r.inputs['metadata'].get('namespace', '')}/{r.inputs['metadata'].get('name', r.name)}": r.inputs
            for r in self.resources
            if r.typ.rsplit(":", 1)[-1] == kind
        }


@pulumi.runtime.test
def run_program() -> None:
    runpy.run_path(str(PROGRAM), run_name="__main__")


@pytest.fixture(scope="module")
def registered() -> Recorder:
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="flask-two-apps", stack="test", preview=False)
    run_program()  # returns once every registration has completed
    return mocks


def test_each_app_gets_its_own_namespace_quota_limits_config_secrets_and_deployment(registered: Recorder) -> None:
    assert set(registered.kubernetes("Namespace")) == {"/flask-web", "/flask-worker"}
    assert set(registered.kubernetes("Deployment")) == {"flask-web/flask-web", "flask-worker/flask-worker"}
    assert set(registered.kubernetes("ResourceQuota")) == {
        "flask-web/flask-web-quota",
        "flask-worker/flask-worker-quota",
    }
    assert len(registered.kubernetes("LimitRange")) == 2
    assert len(registered.kubernetes("ConfigMap")) == 2
    assert len(registered.kubernetes("Secret")) == 2


def test_the_worker_has_no_service_no_ingress_and_admits_no_caller(registered: Recorder) -> None:
    assert set(registered.kubernetes("Service")) == {"flask-web/flask-web-service"}
    assert set(registered.kubernetes("Ingress")) == {"flask-web/flask-web-ingress"}
    worker_policy = registered.kubernetes("NetworkPolicy")["flask-worker/flask-worker-app"]
    assert worker_policy["spec"]["ingress"] == []
    worker = registered.kubernetes("Deployment")["flask-worker/flask-worker"]["spec"]
    assert worker["replicas"] == 1
    config = registered.kubernetes("ConfigMap")
    assert [c["data"]["ROLE"] for c in config.values() if c["metadata"]["namespace"] == "flask-worker"] == ["worker"]


def test_the_quota_holds_a_rolling_update(registered: Recorder) -> None:
    # web: 3 pods + 1 surge + 1 stopping; worker: 1 + 1 + 1.
    quotas = registered.kubernetes("ResourceQuota")
    assert quotas["flask-web/flask-web-quota"]["spec"]["hard"]["pods"] == "5"
    assert quotas["flask-worker/flask-worker-quota"]["spec"]["hard"]["pods"] == "3"


def test_both_are_the_same_component(registered: Recorder) -> None:
    apps = [r.name for r in registered.resources if r.typ == "flask-k8s:components:FlaskApp"]
    assert sorted(apps) == ["web", "worker"]
