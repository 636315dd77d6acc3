"""The benchmarks' measuring tool (benchmarks/support.py): it sees the memory of a command's
descendants (Pulumi's plugins and program are the CLI's children), and a failed step fails loudly;
and the command line every benchmark shares."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks.support import (
    Measurement,
    Series,
    StepError,
    app_counts,
    benchmark_parser,
    run_measured,
    write_json,
)

# Holds 64 MiB, every page touched so that it is resident, for long enough to be sampled.
ALLOCATE = "import time; b = bytearray(64 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.4)"


def test_the_peak_memory_counts_a_grandchild() -> None:
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {ALLOCATE!r}], check=True)"
    measured = run_measured([[sys.executable, "-c", parent]])
    assert measured.peak_rss >= 64 * 2**20, measured
    assert measured.seconds >= 0.4, measured


def test_a_step_of_several_commands_adds_their_times() -> None:
    nap = [sys.executable, "-c", "import time; time.sleep(0.2)"]
    assert run_measured([nap, nap]).seconds >= 0.4


def test_a_failed_command_raises_with_the_end_of_its_output() -> None:
    failing = [sys.executable, "-c", "print('what went wrong'); raise SystemExit(3)"]
    with pytest.raises(StepError, match="exit 3") as raised:
        run_measured([failing])
    assert "what went wrong" in str(raised.value)


def test_the_json_holds_every_round_by_column_and_step(tmp_path: Path) -> None:
    rounds = Series([Measurement(1.5, 100), Measurement(2.5, 200)])
    expected = {"no-op up": [{"seconds": 1.5, "peak_rss": 100}, {"seconds": 2.5, "peak_rss": 200}]}
    write_json(tmp_path / "tools.json", {"pulumi": {"no-op up": rounds}})
    assert json.loads((tmp_path / "tools.json").read_text()) == {"pulumi": expected}
    # App counts (scale.py) become JSON keys as strings.
    write_json(tmp_path / "scale.json", {10: {"no-op up": rounds}})
    assert json.loads((tmp_path / "scale.json").read_text()) == {"10": expected}


def test_the_shared_command_line_takes_rounds_and_app_counts_of_at_least_one(tmp_path: Path) -> None:
    parser = benchmark_parser("doc", rounds=5)
    parser.add_argument("--apps", type=app_counts, default=[1, 10, 50])
    args = parser.parse_args(["--apps", "1,2", "--json", str(tmp_path / "out.json")])
    assert (args.rounds, args.apps, args.json) == (5, [1, 2], tmp_path / "out.json")
    for wrong in (["--rounds", "0"], ["--apps", "1,0"]):
        with pytest.raises(SystemExit):
            parser.parse_args(wrong)
    # A benchmark that writes no JSON offers no --json.
    assert not hasattr(benchmark_parser("doc", json_file=False).parse_args([]), "json")
