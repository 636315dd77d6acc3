"""Benchmark: N apps three ways on one kwok cluster, for N in 1 -> 10 -> 50.

  fleet      `python -m fleet up`: one small stack per app, --parallel P stacks at a time (Automation API)
  one stack  `pulumi up` of benchmarks/scale_program.py: the N apps in one stack
  Helm 4     `helm upgrade --install --wait` of one release per app, P at a time (xargs -P)

Every app is the `local` stack's app in its own namespace (the fleet's stack config, the same objects
rendered as a chart for Helm: benchmarks/chart.py). For each N, from an empty cluster: create, then
(fleet only) a no-op preview, then destroy / uninstall; each timed, with the peak memory (RSS) of all
the command's processes summed. Checkpoints stay on. Prints a table; asserts no speed.

Usage: .venv/bin/python benchmarks/fleet.py [--apps 1,10,50] [--parallel 10] [--rounds N]
       [--one-stack-apps 1,10]  (the one-stack column only for these counts: it grows ~quadratically)
       [--json FILE]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import chart  # noqa: E402 (needs the project root on sys.path)
from benchmarks.support import (  # noqa: E402
    PulumiProject,
    Series,
    app_counts,
    at_least_one,
    bench_cluster,
    benchmark_parser,
    current_context,
    markdown_table,
    mib,
    print_results,
    pulumi_env,
    run_main,
    run_measured,
)
from fleet.spec import load  # noqa: E402

WAIT = "300s"
COLUMNS = (
    "fleet up",
    "fleet no-op preview",
    "fleet destroy",
    "one stack up",
    "one stack destroy",
    "Helm 4 install",
    "Helm 4 uninstall",
)


def write_fleet_file(path: Path, count: int, context: str) -> Path:
    """`count` apps in one environment: the `local` stack's config, on this cluster's context."""
    content = {
        "environments": {
            "local": {"base": "local", "domain": "apps.bench.test", "config": {"cluster": {"context": context}}}
        },
        "apps": [{"name": f"app-{index:02d}"} for index in range(count)],
    }
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def helm_charts(fleet_file: Path, directory: Path) -> list[tuple[str, Path]]:
    """One chart per app of the fleet file: the objects its stack would create."""
    charts = []
    for spec in load(fleet_file):
        rendered = chart.render(spec.base, dict(spec.config))
        charts.append((spec.app, chart.write_chart(rendered, directory / spec.app, spec.app, "0.1.0")))
    return charts


def xargs(parallel: int, items: list[str], command: list[str]) -> list[str]:
    """`command` once per item, `parallel` at a time, as one measured process tree."""
    return ["sh", "-c", 'printf "%s\\n" "$@" | xargs -P "$0" -I{} ' + " ".join(command), str(parallel), *items]


def run(counts: list[int], one_stack_counts: set[int], parallel: int, rounds: int) -> dict[int, dict[str, Series]]:
    results: dict[int, dict[str, Series]] = {}
    started = time.perf_counter()
    with bench_cluster("flask-fleet-") as bench:
        scratch, tool_bin, kubeconfig = bench.scratch, bench.tool_bin, bench.kubeconfig
        context = current_context(kubeconfig)
        env = {**pulumi_env(scratch / "fleet", tool_bin, kubeconfig), "PYTHONPATH": str(ROOT)}
        python = str(ROOT / ".venv" / "bin" / "python")
        project = PulumiProject(
            scratch / "one-stack", "local", tool_bin, kubeconfig, main=ROOT / "benchmarks" / "scale_program.py"
        )
        helm_env = {
            **os.environ,
            "KUBECONFIG": kubeconfig,
            "HELM_CACHE_HOME": str(scratch / "helm-cache"),
            "HELM_CONFIG_HOME": str(scratch / "helm-config"),
            "HELM_DATA_HOME": str(scratch / "helm-data"),
        }
        helm = str(tool_bin / "helm4")
        for count in counts:
            series = results.setdefault(count, {column: Series() for column in COLUMNS})
            fleet_file = write_fleet_file(scratch / f"fleet-{count}.yaml", count, context)
            work = scratch / f"fleet-work-{count}"
            fleet = [python, "-m", "fleet", "--file", str(fleet_file), "--parallel", str(parallel), "--work", str(work)]
            charts = helm_charts(fleet_file, scratch / f"charts-{count}")
            names = [name for name, _ in charts]
            for round_index in range(rounds):
                for column, operation in (
                    ("fleet up", ["up"]),
                    ("fleet no-op preview", ["preview", "--expect-no-changes"]),
                    ("fleet destroy", ["destroy"]),
                ):
                    series[column].runs.append(run_measured([[*fleet, *operation]], env=env, cwd=ROOT))
                if count in one_stack_counts:
                    project.set_config("flask-bench:apps", str(count))
                    series["one stack up"].runs.append(project.measure("up", "--yes", "--skip-preview"))
                    series["one stack destroy"].runs.append(project.measure("destroy", "--yes", "--skip-preview"))
                install = [
                    helm,
                    "--namespace",
                    "default",
                    "upgrade",
                    "--install",
                    "{}",
                    str(scratch / f"charts-{count}") + "/{}",
                ]
                series["Helm 4 install"].runs.append(
                    run_measured([xargs(parallel, names, [*install, "--wait", f"--timeout={WAIT}"])], env=helm_env)
                )
                uninstall = [helm, "--namespace", "default", "uninstall", "{}", "--wait", f"--timeout={WAIT}"]
                series["Helm 4 uninstall"].runs.append(run_measured([xargs(parallel, names, uninstall)], env=helm_env))
                print(
                    f"{count} app(s), round {round_index + 1} done ({time.perf_counter() - started:.0f} s)", flush=True
                )
    print(f"whole run: {time.perf_counter() - started:.0f} s")
    return results


def report(results: dict[int, dict[str, Series]], parallel: int, rounds: int) -> str:
    stat = "median (min-max)" if rounds > 1 else "one round"
    rows = []
    for count, series in results.items():
        rows.append(
            [str(count)]
            + [f"{series[c].cell()} / {mib(series[c].peak_rss)}" if series[c].runs else "-" for c in COLUMNS]
        )
    lines = [
        f"kwok, {rounds} round(s), parallelism {parallel}: seconds ({stat}) / peak RSS of all the "
        "command's processes summed (MiB)",
        "",
        markdown_table(["apps", *COLUMNS], rows),
    ]
    counts = sorted(results)
    if len(counts) > 1:
        first, last = counts[0], counts[-1]
        for column in ("fleet up", "one stack up", "Helm 4 install"):
            if results[first][column].runs and results[last][column].runs:
                ratio = results[last][column].median / results[first][column].median
                lines.append(f"- {column}: {last} apps took {ratio:.1f}x {first} app(s)")
        lines.append("  (goal for the fleet path, 50 apps vs 1: <= 10x)")
    return "\n".join(lines)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--apps", type=app_counts, default=[1, 10, 50], help="comma-separated app counts")
    parser.add_argument(
        "--one-stack-apps", type=app_counts, help="app counts the one-stack column runs for (default: all)"
    )
    parser.add_argument("--parallel", type=at_least_one, default=10, help="stacks / releases at a time")
    args = parser.parse_args()
    one_stack = set(args.one_stack_apps or args.apps)
    results = run(args.apps, one_stack, args.parallel, args.rounds)
    print_results(report(results, args.parallel, args.rounds), results, args.json)


if __name__ == "__main__":
    run_main(main)
