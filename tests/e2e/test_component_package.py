# Every field of the kubernetes client's models is Optional; a missing one fails the test anyway.
# pyright: reportOptionalMemberAccess=false, reportOptionalSubscript=false
"""The component library used by programs other than this project's, deployed on kwok.

As an outside user would, from the library's built wheel (never this work tree):
- a Pulumi YAML program, through the component package: `pulumi package add` of the plugin folder
  creates the plugin's virtualenv, installs the wheel there and records the package in the
  program's Pulumi.yaml; `pulumi up` creates the app through `flask-k8s:index:FlaskApp`;
- the Python example (two apps from one FlaskApp), in a virtualenv with the wheel installed.
Each `pulumi destroy` leaves nothing on the cluster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from devtools.cluster import STAND_IN_ADDRESS, IngressControllerStandIn, not_found, wait_for
from tests.engine import pinned_tool_bin, project_stack
from tests.wheel import LIBRARY, build_wheel, lock_constraints, new_venv, pip_install

pytestmark = pytest.mark.e2e

PROGRAM = LIBRARY / "examples" / "yaml"
NAMESPACE = APP = "flask-yaml"


def namespace_gone(core: client.CoreV1Api, name: str) -> Callable[[], bool]:
    return lambda: not_found(lambda: core.read_namespace(name))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The library's wheel, and the lock's pins as constraints for its dependencies."""
    scratch = tmp_path_factory.mktemp("wheel")
    return build_wheel(scratch / "dist"), lock_constraints(scratch)


def plugin_using_wheel(scratch: Path, wheel: Path, constraints: Path) -> Path:
    """A copy of components/plugin whose virtualenv is new and whose requirements are the wheel."""
    plugin = scratch / "plugin"
    shutil.copytree(LIBRARY / "plugin", plugin, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    manifest = yaml.safe_load((plugin / "PulumiPlugin.yaml").read_text())
    manifest["runtime"]["options"]["virtualenv"] = str(scratch / "plugin-venv")
    (plugin / "PulumiPlugin.yaml").write_text(yaml.safe_dump(manifest))
    (plugin / "requirements.txt").write_text(f"-c {constraints}\n{wheel}\n")
    return plugin


def test_a_yaml_program_deploys_and_destroys_the_app_through_the_package(
    kubeconfig: str,
    kube: client.ApiClient,
    ingress_controller: IngressControllerStandIn,
    wheel: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    tool_bin = pinned_tool_bin(tools=("pulumi", "pulumi-language-yaml", "pulumi-language-python"))
    plugin = plugin_using_wheel(tmp_path, *wheel)
    program = tmp_path / "program"
    shutil.copytree(PROGRAM, program)

    (tmp_path / "stack").mkdir()
    with project_stack("test", kubeconfig, tool_bin, tmp_path / "stack", project=program) as ps:
        added = subprocess.run(
            ["pulumi", "package", "add", str(plugin)],
            cwd=program,
            env={**os.environ, **ps.stack.workspace.env_vars},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert added.returncode == 0, added.stdout[-3000:] + added.stderr[-3000:]
        packages = yaml.safe_load((program / "Pulumi.yaml").read_text())["packages"]
        assert packages == {"flask-k8s": str(plugin)} or packages == {"flask-k8s": os.path.relpath(plugin, program)}
        # The plugin runs the wheel's copy of the library, never this work tree's.
        venv_lib = next((tmp_path / "plugin-venv" / "lib").glob("python3*/site-packages"))
        assert (venv_lib / "flask_k8s_components" / "package.py").is_file()

        up = ps.stack.up(on_output=lambda _: None)
        assert up.summary.result == "succeeded"
        outputs = {key: value.value for key, value in up.outputs.items()}
        assert outputs == {
            "url": "http://flask-yaml.local/",
            "namespace": NAMESPACE,
            "deployment": APP,
            "service": f"{APP}-service",
        }

        apps, core, net = client.AppsV1Api(kube), client.CoreV1Api(kube), client.NetworkingV1Api(kube)
        deployment = apps.read_namespaced_deployment(APP, NAMESPACE)
        assert deployment.spec.replicas == 2
        assert deployment.spec.template.spec.containers[0].image == "flask-app:1.0"
        assert core.read_namespaced_resource_quota(f"{APP}-quota", NAMESPACE).spec.hard["pods"] == "4"
        assert core.read_namespaced_service(f"{APP}-service", NAMESPACE).spec.type == "ClusterIP"
        ingress = net.read_namespaced_ingress(f"{APP}-ingress", NAMESPACE)
        assert ingress.spec.rules[0].host == "flask-yaml.local"
        assert f"{NAMESPACE}/{APP}-ingress" in ingress_controller.published
        assert ingress.status.load_balancer.ingress[0].ip == STAND_IN_ADDRESS

        # The package's component, with the Python FlaskApp as its one child.
        types = {r["type"] for r in ps.stack.export_stack().deployment["resources"]}
        assert {"flask-k8s:index:FlaskApp", "flask-k8s:components:FlaskApp"} <= types

        destroyed = ps.stack.destroy(on_output=lambda _: None)
        assert destroyed.summary.result == "succeeded"
        wait_for("the namespace to be gone", namespace_gone(core, NAMESPACE))


def test_the_python_example_deploys_two_apps_from_the_wheel_and_destroys_them(
    kubeconfig: str,
    kube: client.ApiClient,
    ingress_controller: IngressControllerStandIn,
    wheel: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    tool_bin = pinned_tool_bin(tools=("pulumi", "pulumi-language-python"))
    program = tmp_path / "program"
    shutil.copytree(LIBRARY / "examples" / "python", program, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    # The example's Pulumi.yaml names the virtualenv `venv`: there, the wheel and nothing else.
    pip_install(new_venv(program / "venv"), wheel[1], str(wheel[0]))

    (tmp_path / "stack").mkdir()
    with project_stack("test", kubeconfig, tool_bin, tmp_path / "stack", project=program) as ps:
        up = ps.stack.up(on_output=lambda _: None)
        assert up.summary.result == "succeeded"
        outputs = {key: value.value for key, value in up.outputs.items()}
        assert outputs == {
            "url": "http://flask.example.com/",
            "webNamespace": "flask-web",
            "workerNamespace": "flask-worker",
            "workerDeployment": "flask-worker",
        }

        apps, core, net = client.AppsV1Api(kube), client.CoreV1Api(kube), client.NetworkingV1Api(kube)
        assert apps.read_namespaced_deployment("flask-web", "flask-web").status.available_replicas == 3
        assert apps.read_namespaced_deployment("flask-worker", "flask-worker").status.available_replicas == 1
        assert [s.metadata.name for s in core.list_namespaced_service("flask-web").items] == ["flask-web-service"]
        assert core.list_namespaced_service("flask-worker").items == []
        assert net.list_namespaced_ingress("flask-worker").items == []
        assert "flask-web/flask-web-ingress" in ingress_controller.published
        # Ingress rules: none, so the policy (of type Ingress) admits no caller.
        assert not net.read_namespaced_network_policy("flask-worker-app", "flask-worker").spec.ingress

        destroyed = ps.stack.destroy(on_output=lambda _: None)
        assert destroyed.summary.result == "succeeded"
        for namespace in ("flask-web", "flask-worker"):
            wait_for(f"namespace {namespace} to be gone", namespace_gone(core, namespace))
