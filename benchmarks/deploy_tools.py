"""Benchmark: `pulumi` beside `kubectl` and Helm 4, deploying the same objects to the same cluster.

In one run, on a cluster of its own, each tool takes the stack's objects through the same life,
round after round (the tools' order turns each round, so no tool always runs on a warmer cluster):

  create -> Available    pulumi up       | kubectl apply + rollout status | helm upgrade --install --wait
  no-op preview          pulumi preview  | kubectl diff                   | helm upgrade --install --dry-run=server
  no-op up               pulumi up       | kubectl apply + rollout status | helm upgrade --install --wait
  config change rollout  app.env.LOG_LEVEL info->warning: a new ConfigMap, the Deployment rolls; each tool
                         returns once the new pods are Ready
  destroy                pulumi destroy  | kubectl delete --wait          | helm uninstall --wait

Helm is Helm 4 (scripts/toolchain/helm.sh) with its defaults: server-side apply, and a bare `--wait`
that is its `watcher` strategy (kstatus over a watch, no polling).

`pulumi up` runs with --skip-preview (kubectl and Helm preview nothing either); a no-op preview or up
runs with --expect-no-changes, so a no-op that is not one fails the run. kubectl and Helm get the
program's own objects (benchmarks/chart.py), and the run checks that what `pulumi up` created is
exactly that (kinds and names). Prints the median, min and max of each figure and the peak memory
(RSS, all processes of the command summed) of each tool; asserts no speed.

  --cluster kwok   (default) a kwok control plane (scripts/kwok-cluster.sh, KWOK_CLUSTER_NAME,
                   default flask-bench), the `local` stack; the run plays the ingress controller.
  --cluster kind   the real Kind cluster of tests/kind (scripts/kind-cluster.sh, KIND_CLUSTER_NAME,
                   default flask-ci), the `kind-ci` stack: real containers, a real ingress controller.

Usage: .venv/bin/python benchmarks/deploy_tools.py [--cluster kwok|kind] [--rounds N] [--json FILE]
       [--trace]   (also prints where the first pulumi up and preview spent their time, from their
                   OpenTelemetry traces; kept in the run's temporary folder: they hold the stack's secrets)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import chart, trace  # noqa: E402 (needs the project root on sys.path)
from benchmarks.support import (  # noqa: E402
    Measurement,
    PulumiProject,
    Series,
    StepError,
    bench_cluster,
    benchmark_parser,
    markdown_table,
    mib,
    print_results,
    run_main,
    run_measured,
    wait_until,
)

STEPS = ("create -> Available", "no-op preview", "no-op up", "config change rollout", "destroy")
STACKS = {"kwok": "local", "kind": "kind-ci"}
RELEASE = "flask-app"
# The config change every tool makes: the app's log level, which Pulumi.yaml defaults to "info".
CHANGE_KEY, BEFORE, AFTER = "app.env.LOG_LEVEL", "info", "warning"
WAIT = "300s"


class Tool:
    """One way of deploying the stack's objects; each step returns what it measured."""

    name = ""
    commands: ClassVar[dict[str, str]] = {}

    def create(self) -> Measurement:
        raise NotImplementedError

    def noop_preview(self) -> Measurement:
        raise NotImplementedError

    def noop_up(self) -> Measurement:
        raise NotImplementedError

    def change(self) -> Measurement:
        raise NotImplementedError

    def destroy(self) -> Measurement:
        raise NotImplementedError

    def cleanup(self) -> None:
        """Unmeasured: leaves nothing of this tool's objects on the cluster, whatever happened."""


class Pulumi(Tool):
    name = "pulumi"
    commands: ClassVar[dict[str, str]] = {
        "create -> Available": "up",
        "no-op preview": "preview",
        "no-op up": "up",
        "config change rollout": "up",
        "destroy": "destroy",
    }

    def __init__(self, project: PulumiProject, trace_dir: Path | None) -> None:
        self.project = project
        self.trace_dir = trace_dir
        if trace_dir is not None:
            trace_dir.mkdir(parents=True, exist_ok=True)
        self.traced: list[Path] = []

    def _run(self, step: str, *args: str) -> Measurement:
        if self.trace_dir is not None:
            path = self.trace_dir / f"pulumi-{len(self.traced):02d}-{step.split()[0]}.json"
            self.traced.append(path)
            args = (*args, "--otel-traces", path.as_uri())
        return self.project.measure(*args)

    def create(self) -> Measurement:
        return self._run("create", "up", "--yes", "--skip-preview")

    def noop_preview(self) -> Measurement:
        return self._run("preview", "preview", "--expect-no-changes")

    def noop_up(self) -> Measurement:
        return self._run("noop-up", "up", "--yes", "--skip-preview", "--expect-no-changes")

    def change(self) -> Measurement:
        self.project.set_config(f"flask-k8s:{CHANGE_KEY}", AFTER)
        return self._run("change", "up", "--yes", "--skip-preview")

    def destroy(self) -> Measurement:
        measured = self._run("destroy", "destroy", "--yes", "--skip-preview")
        self.project.remove_config(f"flask-k8s:{CHANGE_KEY}")
        return measured

    def cleanup(self) -> None:
        self.project.destroy_quietly()

    def live_identities(self) -> set[tuple[str, str, str]]:
        """(kind, namespace, name) of every Kubernetes object in the stack's state."""
        exported = json.loads(self.project.cli("stack", "export"))
        found = set()
        for resource in exported["deployment"].get("resources") or []:
            if resource["type"].startswith("kubernetes:") and resource.get("custom"):
                outputs = resource.get("outputs") or {}
                if "kind" in outputs:
                    meta = outputs.get("metadata") or {}
                    found.add((outputs["kind"], meta.get("namespace", ""), meta["name"]))
        return found


class Kubectl(Tool):
    name = "kubectl"
    commands: ClassVar[dict[str, str]] = {
        "create -> Available": "apply + rollout status",
        "no-op preview": "diff",
        "no-op up": "apply + rollout status",
        "config change rollout": "apply + rollout status",
        "destroy": "delete --wait",
    }

    def __init__(self, bin_dir: Path, env: dict[str, str], scratch: Path, before: Path, after: Path) -> None:
        self.base = [str(bin_dir / "kubectl"), "--cache-dir", str(scratch / "kubectl-cache")]
        self.env, self.before, self.after = env, before, after
        self.deployment, self.namespace = "", ""

    def target(self, deployment: str, namespace: str) -> None:
        self.deployment, self.namespace = deployment, namespace

    def _apply(self, manifests: Path) -> Measurement:
        rollout = ["rollout", "status", f"deployment/{self.deployment}", "-n", self.namespace, f"--timeout={WAIT}"]
        return run_measured([[*self.base, "apply", "-f", str(manifests)], [*self.base, *rollout]], env=self.env)

    def create(self) -> Measurement:
        return self._apply(self.before)

    def noop_preview(self) -> Measurement:
        # Exit 1 would mean a difference: then the objects did not survive a round trip unchanged.
        return run_measured([[*self.base, "diff", "-f", str(self.before)]], env=self.env)

    def noop_up(self) -> Measurement:
        return self._apply(self.before)

    def change(self) -> Measurement:
        return self._apply(self.after)

    def destroy(self) -> Measurement:
        return run_measured(
            [[*self.base, "delete", "-f", str(self.after), "--wait=true", f"--timeout={WAIT}", "--ignore-not-found"]],
            env=self.env,
        )

    def cleanup(self) -> None:
        for manifests in (self.after, self.before):
            subprocess.run(
                [*self.base, "delete", "-f", str(manifests), "--wait=true", f"--timeout={WAIT}", "--ignore-not-found"],
                env=self.env,
                capture_output=True,
                timeout=400,
                check=False,
            )


class Helm(Tool):
    name = "helm"
    commands: ClassVar[dict[str, str]] = {
        "create -> Available": "upgrade --install --wait",
        "no-op preview": "upgrade --install --dry-run=server",
        "no-op up": "upgrade --install --wait",
        "config change rollout": "upgrade --install --wait",
        "destroy": "uninstall --wait",
    }

    def __init__(self, bin_dir: Path, env: dict[str, str], scratch: Path, before: Path, after: Path) -> None:
        # Helm's caches and settings in the run's scratch folder, never in the home folder. The release
        # record lives in `default`: the chart creates the app's namespace itself (with its labels).
        self.env = {
            **env,
            "HELM_CACHE_HOME": str(scratch / "helm-cache"),
            "HELM_CONFIG_HOME": str(scratch / "helm-config"),
            "HELM_DATA_HOME": str(scratch / "helm-data"),
        }
        self.helm = [str(bin_dir / "helm4"), "--namespace", "default"]
        self.before, self.after = before, after

    def _upgrade(self, chart_dir: Path, *flags: str) -> Measurement:
        return run_measured([[*self.helm, "upgrade", "--install", RELEASE, str(chart_dir), *flags]], env=self.env)

    def create(self) -> Measurement:
        return self._upgrade(self.before, "--wait", f"--timeout={WAIT}")

    def noop_preview(self) -> Measurement:
        return self._upgrade(self.before, "--dry-run=server")

    def noop_up(self) -> Measurement:
        return self._upgrade(self.before, "--wait", f"--timeout={WAIT}")

    def change(self) -> Measurement:
        return self._upgrade(self.after, "--wait", f"--timeout={WAIT}")

    def destroy(self) -> Measurement:
        return run_measured([[*self.helm, "uninstall", RELEASE, "--wait", f"--timeout={WAIT}"]], env=self.env)

    def cleanup(self) -> None:
        subprocess.run(
            [*self.helm, "uninstall", RELEASE, "--wait", f"--timeout={WAIT}", "--ignore-not-found"],
            env=self.env,
            capture_output=True,
            timeout=400,
            check=False,
        )


def check_same_objects(rendered: chart.Rendered, live: set[tuple[str, str, str]]) -> None:
    """What `pulumi up` created must be what kubectl and Helm apply: same kinds, namespaces, names
    (auto-named objects compared by the name Pulumi starts them with)."""

    def normalized(items: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        out = set()
        for kind, namespace, name in items:
            base = name.rsplit("-", 1)[0]
            out.add((kind, namespace, base if (kind, base) in rendered.autonamed else name))
        return out

    expected = normalized({chart.identity(o) for o in rendered.all()})
    actual = normalized(live)
    if expected != actual:
        raise StepError(
            "the chart's objects are not the stack's: "
            f"only in the chart {sorted(expected - actual)}, only in the stack {sorted(actual - expected)}"
        )


def namespace_gone(kubectl: list[str], env: dict[str, str], namespace: str) -> Callable[[], bool]:
    def probe() -> bool:
        result = subprocess.run(
            [*kubectl, "get", "namespace", namespace, "--ignore-not-found", "-o", "name"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.returncode == 0 and not result.stdout.strip()

    return probe


def rotated(tools: list[Tool], round_index: int) -> Iterator[Tool]:
    for offset in range(len(tools)):
        yield tools[(round_index + offset) % len(tools)]


def run(cluster: str, rounds: int, traced: bool) -> dict[str, dict[str, Series]]:
    stack = STACKS[cluster]
    results: dict[str, dict[str, Series]] = {}
    started = time.perf_counter()
    # On kwok the run plays the ingress controller; Kind runs a real one.
    with bench_cluster("flask-bench-", cluster) as bench:
        scratch, tool_bin, kubeconfig = bench.scratch, bench.tool_bin, bench.kubeconfig

        # The objects of the stack before and after the config change, as manifests and as charts.
        before = chart.render(stack)
        after = chart.render(stack, {CHANGE_KEY: AFTER})
        deployment = next(o for o in before.objects if o["kind"] == "Deployment")
        namespace = deployment["metadata"]["namespace"]
        files: dict[str, Path] = {}
        for label, rendered, version in (("before", before, "0.1.0"), ("after", after, "0.1.1")):
            files[f"{label}.yaml"] = scratch / f"{label}.yaml"
            files[f"{label}.yaml"].write_text(chart.manifests_yaml(rendered.all()))
            files[f"{label}-chart"] = chart.write_chart(rendered, scratch / f"chart-{label}", RELEASE, version)

        env = {**os.environ, "KUBECONFIG": kubeconfig}
        project = PulumiProject(scratch / "pulumi", stack, tool_bin, kubeconfig)
        # The traces log the providers' requests, secrets included: they stay in the scratch folder.
        pulumi = Pulumi(project, scratch / "traces" if traced else None)
        kubectl = Kubectl(tool_bin, env, scratch, files["before.yaml"], files["after.yaml"])
        kubectl.target(deployment["metadata"]["name"], namespace)
        helm = Helm(tool_bin, env, scratch, files["before-chart"], files["after-chart"])
        tools: list[Tool] = [pulumi, kubectl, helm]
        for tool in tools:
            bench.cleanups.callback(tool.cleanup)
        ns_gone = namespace_gone(kubectl.base, env, namespace)

        for round_index in range(rounds):
            for tool in rotated(tools, round_index):
                wait_until(f"namespace {namespace} to be gone before {tool.name}", ns_gone)
                steps = (tool.create, tool.noop_preview, tool.noop_up, tool.change, tool.destroy)
                for step_name, step in zip(STEPS, steps, strict=True):
                    measured = step()
                    results.setdefault(tool.name, {}).setdefault(step_name, Series()).runs.append(measured)
                    if tool is pulumi and step_name == STEPS[0] and round_index == 0:
                        check_same_objects(before, pulumi.live_identities())
            print(f"round {round_index + 1}/{rounds} done ({time.perf_counter() - started:.0f} s)", flush=True)
        if pulumi.traced:
            for path, what in zip(pulumi.traced, ("`pulumi up` (create)", "no-op `pulumi preview`"), strict=False):
                print(f"\nWhere the first {what} spent its time:")
                print("\n".join(trace.summarize(path)))
    print(f"whole run: {time.perf_counter() - started:.0f} s")
    return results


def report(results: dict[str, dict[str, Series]], cluster: str, rounds: int) -> str:
    tools = [name for name in ("pulumi", "kubectl", "helm") if name in results]
    titles = {"pulumi": "pulumi", "kubectl": "kubectl", "helm": "Helm 4"}
    commands = {tool.name: tool.commands for tool in (Pulumi, Kubectl, Helm)}
    stat = "median (min-max)" if rounds > 1 else "one round"
    time_rows = []
    for step in STEPS:
        row = [step]
        for tool in tools:
            row.append(f"{results[tool][step].cell()} `{commands[tool][step]}`")
        time_rows.append(row)
    memory_rows = [[step, *(mib(results[tool][step].peak_rss) for tool in tools)] for step in STEPS]
    lines = [
        f"{cluster}, stack `{STACKS[cluster]}`, {rounds} round(s): seconds, {stat}",
        "",
        markdown_table(["seconds", *(titles[tool] for tool in tools)], time_rows),
        "",
        "Peak RSS of each command's processes, summed (MiB, largest of the rounds):",
        "",
        markdown_table(["MiB", *(titles[tool] for tool in tools)], memory_rows),
        "",
        "Goals (issue 23: on kwok, medians of 5 rounds), read from the medians:",
    ]

    def median(tool: str, step: str) -> float:
        return results[tool][step].median

    if {"pulumi", "helm"} <= set(results):
        for step, limit, helm_command in (
            (STEPS[0], 3.0, "--wait"),
            (STEPS[1], 2.0, "--dry-run=server"),
            (STEPS[3], 2.0, "--wait"),
        ):
            ratio = median("pulumi", step) / median("helm", step)
            lines.append(
                f"- {step}: pulumi {median('pulumi', step):.2f} s vs Helm 4 {helm_command} "
                f"{median('helm', step):.2f} s = {ratio:.1f}x (goal <= {limit:g}x: "
                f"{'holds' if ratio <= limit else 'misses'})"
            )
    return "\n".join(lines)


def main() -> None:
    parser = benchmark_parser(__doc__, rounds=5)
    parser.add_argument("--cluster", choices=sorted(STACKS), default="kwok")
    parser.add_argument("--trace", action="store_true", help="print where pulumi's first up and preview spent time")
    args = parser.parse_args()
    results = run(args.cluster, args.rounds, args.trace)
    print_results(report(results, args.cluster, args.rounds), results, args.json)


if __name__ == "__main__":
    run_main(main)
