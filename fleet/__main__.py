"""The fleet's command line: one operation on every stack of the fleet file (or some of them).

  python -m fleet preview [--parallel N]   what each stack would change (pull requests)
  python -m fleet up [--parallel N]        update every stack; exit 1 if any failed
  python -m fleet recover                  after a killed run: unlock, settle in-flight creates (README)
  python -m fleet refresh | destroy
  python -m fleet list                     the stacks' names, one a line
  python -m fleet matrix                   the stacks as a JSON list, for a CI job matrix
  --environment ENV / --stack NAME         only those stacks (repeatable)

The backend, secrets passphrase or provider and cluster credentials come from the environment, as
for the `pulumi` CLI (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, KUBECONFIG, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from fleet.spec import DEFAULT_FILE, ROOT, FleetError, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fleet", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("operation", choices=["preview", "up", "refresh", "recover", "destroy", "list", "matrix"])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the fleet file (default fleet/fleet.yaml)")
    parser.add_argument("--parallel", type=int, default=4, help="stacks at a time (default 4)")
    parser.add_argument("--stack", action="append", default=[], help="only this stack (repeatable)")
    parser.add_argument("--environment", action="append", default=[], help="only this environment's stacks")
    parser.add_argument(
        "--expect-no-changes", action="store_true", help="preview / up: a stack that would change fails"
    )
    parser.add_argument(
        "--work", type=Path, default=ROOT / ".fleet", help="the fleet's workspace folder (default .fleet/)"
    )
    args = parser.parse_args(argv)
    try:
        specs = load(args.file)
    except FleetError as invalid:
        print(f"invalid fleet file:\n{invalid}", file=sys.stderr)
        return 2
    if args.environment:
        specs = [s for s in specs if s.environment in args.environment]
    if args.stack:
        unknown = sorted(set(args.stack) - {s.name for s in specs})
        if unknown:
            print(f"no such stack in the fleet file: {', '.join(unknown)}", file=sys.stderr)
            return 2
        specs = [s for s in specs if s.name in args.stack]
    if args.operation == "list":
        print("\n".join(s.name for s in specs))
        return 0
    if args.operation == "matrix":
        print(json.dumps([s.name for s in specs]))
        return 0
    if args.parallel < 1:
        parser.error("--parallel must be at least 1")

    # Imported here: listing the stacks (what CI's first job does) needs no Pulumi SDK.
    from fleet.run import StackResult, run_fleet, summary

    started = time.perf_counter()

    def progress(result: StackResult) -> None:
        state = "failed" if result.error is not None else "done"
        print(f"  {state}: {result.stack} ({result.seconds:.1f} s)", file=sys.stderr, flush=True)

    results = run_fleet(
        specs,
        args.operation,
        args.parallel,
        args.work.resolve(),
        on_done=progress,
        expect_no_changes=args.expect_no_changes,
    )
    print(summary(results, time.perf_counter() - started))
    return 1 if any(r.error is not None for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
