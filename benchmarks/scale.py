"""Benchmark: how `pulumi up` and a no-op `pulumi preview` grow with the number of apps in a stack.

benchmarks/scale_program.py composes N FlaskApps (the `local` stack's app, each in its own
namespace, with its own certificate) on a kwok cluster of its own. For each N, from an empty stack:
`pulumi up` (create, until every Deployment is Available), a no-op `pulumi preview`, then
`pulumi destroy`; each timed, with the peak memory (RSS) of all the command's processes summed.
Prints a table; asserts no speed.

Usage: .venv/bin/python benchmarks/scale.py [--apps 1,10,50] [--rounds N] [--json FILE]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import trace  # noqa: E402 (needs the project root on sys.path)
from benchmarks.support import (  # noqa: E402
    PulumiProject,
    Series,
    app_counts,
    bench_cluster,
    benchmark_parser,
    markdown_table,
    mib,
    print_results,
    run_main,
)

STACK = "local"
STEPS = ("up (create)", "no-op preview", "destroy")


def run(
    counts: list[int], rounds: int, parallel: int | None, skip_checkpoints: bool, traced: bool
) -> dict[int, dict[str, Series]]:
    results: dict[int, dict[str, Series]] = {}
    started = time.perf_counter()
    with bench_cluster("flask-scale-") as bench:
        scratch = bench.scratch
        project = PulumiProject(
            scratch / "pulumi", STACK, bench.tool_bin, bench.kubeconfig, main=ROOT / "benchmarks" / "scale_program.py"
        )
        bench.cleanups.callback(project.destroy_quietly)
        if skip_checkpoints:
            # Diagnosis only: the state is then written once at the end, and lost if the run dies.
            project.env["PULUMI_SKIP_CHECKPOINTS"] = "true"
        flags = [f"--parallel={parallel}"] if parallel else []
        for count in counts:
            project.set_config("flask-bench:apps", str(count))
            series = results.setdefault(count, {step: Series() for step in STEPS})
            for round_index in range(rounds):
                # A trace holds the stack's secrets (the providers' requests): it stays in the scratch folder.
                path = scratch / f"up-{count}-apps-{round_index}.json"
                tracing = ["--otel-traces", path.as_uri()] if traced else []
                series[STEPS[0]].runs.append(project.measure("up", "--yes", "--skip-preview", *flags, *tracing))
                if traced:
                    print(f"\n`pulumi up` of {count} app(s):")
                    print("\n".join(trace.summarize(path, by="duration", limit=12)), flush=True)
                series[STEPS[1]].runs.append(project.measure("preview", "--expect-no-changes", *flags))
                series[STEPS[2]].runs.append(project.measure("destroy", "--yes", "--skip-preview", *flags))
            print(f"{count} app(s) done ({time.perf_counter() - started:.0f} s)", flush=True)
    print(f"whole run: {time.perf_counter() - started:.0f} s")
    return results


def report(results: dict[int, dict[str, Series]], rounds: int) -> str:
    stat = "median (min-max)" if rounds > 1 else "one round"
    rows = []
    for count, series in results.items():
        row = [str(count)]
        for step in STEPS:
            row += [series[step].cell(), mib(series[step].peak_rss)]
        rows.append(row)
    header = ["apps"]
    for step in STEPS:
        header += [f"{step} s", f"{step} MiB"]
    lines = [
        f"kwok, {rounds} round(s): seconds ({stat}) and peak RSS of all the command's processes (MiB)",
        "",
        markdown_table(header, rows),
    ]
    counts = sorted(results)
    if len(counts) > 1:
        first, last = counts[0], counts[-1]
        ratio = results[last][STEPS[0]].median / results[first][STEPS[0]].median
        lines += ["", f"`pulumi up` of {last} apps took {ratio:.1f}x that of {first} (goal for 50 vs 1: <= 10x)"]
    return "\n".join(lines)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--apps", type=app_counts, default=[1, 10, 50], help="comma-separated app counts")
    parser.add_argument("--parallel", type=int, help="pulumi's --parallel (default: the CLI's own)")
    parser.add_argument(
        "--skip-checkpoints",
        action="store_true",
        help="diagnosis: PULUMI_SKIP_CHECKPOINTS=true, the state written once instead of after every step",
    )
    parser.add_argument("--trace", action="store_true", help="print where each `pulumi up` spent its time")
    args = parser.parse_args()
    results = run(args.apps, args.rounds, args.parallel, args.skip_checkpoints, args.trace)
    print_results(report(results, args.rounds), results, args.json)


if __name__ == "__main__":
    run_main(main)
