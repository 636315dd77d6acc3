"""The fleet path on kwok: `python -m fleet up` of a few app stacks, SIGKILLed midway, then the
README's recovery (`python -m fleet recover`, then `up` again): every stack converges, and the cluster
holds no object that no stack's state knows (an orphan a killed create could leave).

The kill is a machine's crash: every process of the run, the CLI's plugins included (they sit in
process groups of their own), dies at once while at least one stack has an operation in flight.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from devtools.cluster import IngressControllerStandIn, wait_for
from devtools.harness import ROOT
from tests.e2e.cli import descendants, end_processes, live_processes, pending_operations

APPS = ["fleet-a", "fleet-b", "fleet-c", "fleet-d"]
STACKS = [f"{app}-local" for app in APPS]
# Namespaced kinds a stack creates in its app's namespace, and what the cluster adds there itself.
CHECKED = {
    "ConfigMap": ("list_namespaced_config_map", client.CoreV1Api, {"kube-root-ca.crt"}),
    "Secret": ("list_namespaced_secret", client.CoreV1Api, set()),
    "Deployment": ("list_namespaced_deployment", client.AppsV1Api, set()),
    "Service": ("list_namespaced_service", client.CoreV1Api, set()),
}


class Fleet:
    """`python -m fleet` on a fleet file of APPS, with its own backend and workspace folder."""

    def __init__(self, scratch: Path, tool_bin: Path, kubeconfig: str) -> None:
        context = yaml.safe_load(Path(kubeconfig).read_text())["current-context"]
        self.file = scratch / "fleet.yaml"
        self.file.write_text(
            yaml.safe_dump(
                {
                    "environments": {
                        "local": {"base": "local", "domain": "fleet.test", "config": {"cluster": {"context": context}}}
                    },
                    "apps": [{"name": app} for app in APPS],
                }
            )
        )
        self.backend = scratch / "backend"
        self.work = scratch / "work"
        for folder in (self.backend, scratch / "pulumi-home", scratch / "tmp"):
            folder.mkdir()
        self.env = {
            **os.environ,
            "PATH": f"{tool_bin}{os.pathsep}{os.environ['PATH']}",
            "PULUMI_HOME": str(scratch / "pulumi-home"),
            "PULUMI_BACKEND_URL": self.backend.as_uri(),
            # A throwaway passphrase for a throwaway backend, never written anywhere.
            "PULUMI_CONFIG_PASSPHRASE": secrets.token_urlsafe(24),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "KUBECONFIG": kubeconfig,
            "TMPDIR": str(scratch / "tmp"),
        }

    def argv(self, operation: str, *flags: str) -> list[str]:
        return [sys.executable, "-m", "fleet", operation, "--file", str(self.file), "--work", str(self.work), *flags]

    def run(self, operation: str, *flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(operation, *flags), cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=600
        )

    def checkpoint(self, stack: str) -> dict[str, Any] | None:
        try:
            path = self.backend / ".pulumi" / "stacks" / "flask-k8s" / f"{stack}.json"
            return json.loads(path.read_text())["checkpoint"]["latest"]
        except (OSError, json.JSONDecodeError, KeyError):
            return None

    def state_objects(self, stack: str) -> set[tuple[str, str, str]]:
        """(kind, namespace, name) of every Kubernetes object in the stack's state."""
        found = set()
        for resource in (self.checkpoint(stack) or {}).get("resources") or []:
            outputs = resource.get("outputs") or {}
            if resource["type"].startswith("kubernetes:") and "kind" in outputs:
                meta = outputs.get("metadata") or {}
                found.add((outputs["kind"], meta.get("namespace", ""), meta["name"]))
        return found


@pytest.fixture
def fleet(tool_bin: Path, kubeconfig: str, ingress_controller: IngressControllerStandIn) -> Iterator[Fleet]:
    with tempfile.TemporaryDirectory(prefix="flask-fleet-") as tmp:
        made = Fleet(Path(tmp), tool_bin, kubeconfig)
        try:
            yield made
        finally:
            # Whatever happened, nothing of the fleet stays on the cluster.
            made.run("recover")
            made.run("destroy")


def cluster_objects(kube: client.ApiClient, namespace: str) -> set[tuple[str, str, str]]:
    found = set()
    for kind, (method, api, cluster_made) in CHECKED.items():
        for item in getattr(api(kube), method)(namespace).items:
            if item.metadata.name not in cluster_made and not (
                kind == "Secret" and item.type == "kubernetes.io/service-account-token"
            ):
                found.add((kind, namespace, item.metadata.name))
    return found


def kill_midway(fleet: Fleet) -> list[str]:
    """Starts `fleet up` and SIGKILLs it (and every process it started) once a stack has finished
    and another has an operation in flight; returns the stacks the kill left with pending operations."""
    with tempfile.TemporaryFile("w+") as log:
        run = subprocess.Popen(
            fleet.argv("up", "--parallel", "2"),
            cwd=ROOT,
            env=fleet.env,
            stdout=log,
            stderr=log,
            text=True,
            start_new_session=True,
        )
        try:
            # Midway: a stack finished and another has an operation in flight.
            def midway() -> bool | None:
                log.seek(0)
                finished = "done:" in log.read()
                in_flight = any(pending_operations(fleet.checkpoint(stack)) for stack in STACKS)
                return (finished and in_flight) or None

            wait_for("a finished stack and another with an operation in flight", midway, timeout=300, interval=0.1)
        finally:
            family = descendants(run.pid)
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=30)
            # The CLI's plugins run in process groups of their own: a crash takes them too.
            end_processes(sorted(family & set(live_processes())))
        log.seek(0)
        assert run.returncode == -signal.SIGKILL, log.read()[-3000:]
    return [stack for stack in STACKS if pending_operations(fleet.checkpoint(stack))]


def test_a_killed_fleet_run_is_recovered_by_the_runbook(fleet: Fleet, kube: client.ApiClient) -> None:
    interrupted: list[str] = []
    for _ in range(3):
        interrupted = kill_midway(fleet)
        if interrupted:
            break
        # The operation seen in flight finished before the kill landed (a busy machine): start over
        # from nothing, so the next run has creates to interrupt.
        destroyed = fleet.run("destroy", "--parallel", "4")
        assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert interrupted, "no stack was left midway in 3 tries: the kill came too late to test anything"

    # Rerun as is: the interrupted stacks are locked by the dead update; the others go through.
    rerun = fleet.run("up", "--parallel", "4")
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    for stack in interrupted:
        assert f"{stack}" in rerun.stdout and "locked by another update" in rerun.stdout, rerun.stdout

    # The runbook: nothing of the killed run is alive any more, so its locks go and its in-flight
    # creates are settled; then `up` again.
    recovered = fleet.run("recover")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    print(recovered.stdout)  # what was adopted or dropped, shown with -s
    for stack in interrupted:
        (line,) = [line for line in recovered.stdout.splitlines() if line.startswith(f"{stack} ")]
        assert "unlocked" in line, recovered.stdout
    converge = fleet.run("up", "--parallel", "4")
    assert converge.returncode == 0, converge.stdout + converge.stderr
    assert "0 failed" in converge.stdout, converge.stdout
    check = fleet.run("preview", "--expect-no-changes", "--parallel", "4")
    assert check.returncode == 0, check.stdout + check.stderr

    for app, stack in zip(APPS, STACKS, strict=True):
        assert pending_operations(fleet.checkpoint(stack)) == [], stack
        known = {o for o in fleet.state_objects(stack) if o[0] in CHECKED}
        live = cluster_objects(kube, app)
        assert live == known, f"{stack}: orphans {sorted(live - known)}, missing {sorted(known - live)}"

    # A stack's workspace folder is rebuilt from the fleet file (as on a CI runner): same stacks, no change.
    for generated in fleet.work.glob("Pulumi.*.yaml"):
        generated.unlink()
    fresh = fleet.run("preview", "--expect-no-changes", "--parallel", "4")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr


def test_the_summary_names_each_failed_stack_and_its_error(fleet: Fleet) -> None:
    # An invalid replica count for one app: settings/ refuses it; the other stacks are unaffected.
    content = yaml.safe_load(fleet.file.read_text())
    content["apps"][1]["config"] = {"app": {"replicas": -1}}
    fleet.file.write_text(yaml.safe_dump(content))
    result = fleet.run("preview", "--parallel", "4")
    assert result.returncode == 1
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "FAILED" in lines[STACKS[1]] and "app.replicas" in lines[STACKS[1]], result.stdout
    for stack in (STACKS[0], *STACKS[2:]):
        assert "changed" in lines[stack] and "FAILED" not in lines[stack], result.stdout
    assert f"preview: {len(STACKS)} stack(s)" in result.stdout and "1 failed" in result.stdout
