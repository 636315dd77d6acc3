"""Benchmark: the same stacks with their state on a file backend and in PostgreSQL, side by side.

In one run, on one kwok cluster of its own, for each backend (a folder, then a database on a private
PostgreSQL server: devtools/postgres.py): `pulumi up` of the `local` stack (create, until the
Deployment is Available), a no-op `pulumi preview` of it, `pulumi destroy`; then `pulumi up` of 10
apps in one stack (benchmarks/scale_program.py) and its destroy (unmeasured). Each step timed; the
table prints both backends and their ratio. Asserts no speed.

Usage: .venv/bin/python benchmarks/state_backends.py [--rounds N] [--apps 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.support import (  # noqa: E402 (needs the project root on sys.path)
    PulumiProject,
    Series,
    StepError,
    kwok_cluster,
    markdown_table,
    pinned_tools,
    warm_up,
    write_json,
)
from devtools.backends import BACKENDS, FILE, FileBackend, StateBackend, postgres_backend  # noqa: E402
from devtools.postgres import PostgresServer, postgres_server  # noqa: E402

STACK = "local"


def steps(apps: int) -> tuple[str, str, str]:
    return ("`up` (create)", "no-op `preview`", f"`up` of {apps} apps (create)")


def new_backend(kind: str, name: str, scratch: Path, server: PostgresServer) -> StateBackend:
    if kind == FILE:
        backend = FileBackend(scratch / f"{name}-state")
        backend.root.mkdir(parents=True)
        return backend
    return postgres_backend(server, name)


def run(rounds: int, apps: int) -> dict[str, dict[str, Series]]:
    from devtools.cluster import IngressControllerStandIn, api_client

    names = steps(apps)
    results = {kind: {step: Series() for step in names} for kind in BACKENDS}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flask-state-") as tmp, ExitStack() as cleanups:
        scratch = Path(tmp)
        tool_bin = pinned_tools()
        kubeconfig = cleanups.enter_context(kwok_cluster(scratch))
        server = cleanups.enter_context(postgres_server())
        warm_up(tool_bin, kubeconfig)
        cleanups.enter_context(IngressControllerStandIn(api_client(kubeconfig), interval=0.1))
        print(f"tools, cluster and database ready ({time.perf_counter() - started:.0f} s)", flush=True)
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--apps", type=int, default=10, help="apps in the stack of the last step")
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    args = parser.parse_args()
    if args.rounds < 1 or args.apps < 1:
        parser.error("--rounds and --apps must be at least 1")
    results = run(args.rounds, args.apps)
    print()
    print(report(results, args.rounds))
    if args.json is not None:
        write_json(args.json, results)


if __name__ == "__main__":
    try:
        main()
    except StepError as failed:
        sys.exit(f"benchmark failed: {failed}")
