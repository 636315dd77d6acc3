"""Benchmark: the same stacks with their state on a file backend and in PostgreSQL, side by side.

In one run, on one kwok cluster of its own, for each backend (a folder, then a database on a private
PostgreSQL server: devtools/postgres.py): `pulumi up` of the `local` stack (create, until the
Deployment is Available), a no-op `pulumi preview` of it, `pulumi destroy`; then `pulumi up` of 10
apps in one stack (benchmarks/scale_program.py) and its destroy (unmeasured). Each step timed; the
table prints both backends and their ratio. Asserts no speed.

Usage: .venv/bin/python benchmarks/state_backends.py [--rounds N] [--apps 10] [--json FILE]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.support import (  # noqa: E402 (needs the project root on sys.path)
    PulumiProject,
    Series,
    at_least_one,
    bench_cluster,
    benchmark_parser,
    markdown_table,
    print_results,
    run_main,
)
from devtools.backends import BACKENDS, FILE, StateBackend, file_backend, postgres_backend  # noqa: E402
from devtools.postgres import PostgresServer, postgres_server  # noqa: E402

STACK = "local"


def steps(apps: int) -> tuple[str, str, str]:
    return ("`up` (create)", "no-op `preview`", f"`up` of {apps} apps (create)")


def new_backend(kind: str, name: str, scratch: Path, server: PostgresServer) -> StateBackend:
    if kind == FILE:
        return file_backend(scratch / f"{name}-state")
    return postgres_backend(server, name)


def run(rounds: int, apps: int) -> dict[str, dict[str, Series]]:
    names = steps(apps)
    results = {kind: {step: Series() for step in names} for kind in BACKENDS}
    started = time.perf_counter()
    with bench_cluster("flask-state-") as bench:
        scratch, tool_bin, kubeconfig, cleanups = bench.scratch, bench.tool_bin, bench.kubeconfig, bench.cleanups
        server = cleanups.enter_context(postgres_server())
        print(f"database ready ({time.perf_counter() - started:.0f} s)", flush=True)
        for round_index in range(rounds):
            # Backends alternate within a round, so a slower moment of the machine hits both alike.
            for kind in BACKENDS:
                series = results[kind]
                where = scratch / f"{kind}-{round_index}"
                state = new_backend(kind, f"local{round_index}", where, server)
                single = PulumiProject(where / "local", STACK, tool_bin, kubeconfig, state=state)
                cleanups.callback(single.destroy_quietly)
                series[names[0]].runs.append(single.measure("up", "--yes", "--skip-preview"))
                series[names[1]].runs.append(single.measure("preview", "--expect-no-changes"))
                single.cli("destroy", "--yes", "--skip-preview")
                many = PulumiProject(
                    where / "apps",
                    STACK,
                    tool_bin,
                    kubeconfig,
                    main=ROOT / "benchmarks" / "scale_program.py",
                    state=new_backend(kind, f"apps{round_index}", where, server),
                )
                cleanups.callback(many.destroy_quietly)
                many.set_config("flask-bench:apps", str(apps))
                series[names[2]].runs.append(many.measure("up", "--yes", "--skip-preview"))
                many.cli("destroy", "--yes", "--skip-preview")
                print(f"round {round_index + 1}, {kind} done ({time.perf_counter() - started:.0f} s)", flush=True)
    print(f"whole run: {time.perf_counter() - started:.0f} s")
    return results


def report(results: dict[str, dict[str, Series]], rounds: int) -> str:
    stat = "median (min-max)" if rounds > 1 else "one round"
    file, postgres = BACKENDS
    rows = []
    for step in results[file]:
        ratio = results[postgres][step].median / results[file][step].median
        rows.append([step, results[file][step].cell(), results[postgres][step].cell(), f"{ratio:.2f}"])
    header = ["seconds", "file backend", "PostgreSQL", "PostgreSQL / file"]
    return "\n".join([f"kwok, {rounds} round(s), {stat}", "", markdown_table(header, rows)])


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--apps", type=at_least_one, default=10, help="apps in the stack of the last step")
    args = parser.parse_args()
    results = run(args.rounds, args.apps)
    print_results(report(results, args.rounds), results, args.json)


if __name__ == "__main__":
    run_main(main)
