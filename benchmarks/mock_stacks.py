"""Benchmark: how long a mock run of each stack takes, and the unit suite's wall time and memory.

Prints numbers, asserts nothing: speed goals live here, not in timed unit tests.
Usage: .venv/bin/python benchmarks/mock_stacks.py [--rounds N] [--suite]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.harness import run_stack  # noqa: E402 (needs the project root on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="mock runs per stack")
    parser.add_argument("--suite", action="store_true", help="also time `pytest tests/unit` (a subprocess)")
    args = parser.parse_args()

    started = time.perf_counter()
    import pulumi_kubernetes  # noqa: F401 (the import itself is what is measured)

    print(f"import pulumi_kubernetes: {time.perf_counter() - started:.2f} s")
    for stack in ("dev", "prod", "local"):
        times = []
        deployment = run_stack(stack)  # warm-up; also what the resource count is read from
        for _ in range(args.rounds):
            started = time.perf_counter()
            run_stack(stack)
            times.append(time.perf_counter() - started)
        print(
            f"mock run of {stack:5}: {statistics.median(times) * 1000:6.0f} ms median of {args.rounds} "
            f"({len(deployment.resources)} resources)"
        )
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

    if args.suite:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/unit"], cwd=ROOT, check=True, capture_output=True)
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"pytest tests/unit: {wall:.1f} s wall, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
