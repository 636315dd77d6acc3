"""What the deployment benchmarks share: timing a command with its processes' peak memory, the
pinned tools, a kwok or Kind cluster with the tools ready on it (`bench_cluster`), a throwaway Pulumi
project (devtools/stacks.py's, as the tests run it), their command line and printing the figures.

Nothing here asserts a speed: the benchmarks print numbers and the reader judges them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml

from devtools.backends import StateBackend, file_backend
from devtools.cluster import IngressControllerStandIn, api_client
from devtools.stacks import PulumiCli, copy_project, throwaway_env

ROOT = Path(__file__).resolve().parents[1]
# Every command of a benchmark is bounded; a step that takes this long is broken, not slow.
STEP_TIMEOUT = 600.0
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# How often the memory of a command's processes is sampled: short enough to see a plugin that lives
# for a second, long enough not to cost a core on a 2-core machine.
SAMPLE_INTERVAL = 0.05


class StepError(RuntimeError):
    """A measured command exited non-zero (or timed out); the message carries the end of its output."""


@dataclass
class Measurement:
    seconds: float
    peak_rss: int
    """Largest sum of the resident memory of the command and all its descendants, in bytes."""


@dataclass
class Series:
    """Every round of one step of one tool."""

    runs: list[Measurement] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(m.seconds for m in self.runs)

    @property
    def low(self) -> float:
        return min(m.seconds for m in self.runs)

    @property
    def high(self) -> float:
        return max(m.seconds for m in self.runs)

    @property
    def peak_rss(self) -> int:
        return max(m.peak_rss for m in self.runs)

    def cell(self) -> str:
        if not self.runs:
            return "-"
        if len(self.runs) == 1:
            return f"{self.median:.2f}"
        return f"{self.median:.2f} ({self.low:.2f}-{self.high:.2f})"


def _descendants(root: int) -> list[int]:
    """`root` and every process below it, from /proc/<pid>/task/<tid>/children (one read per thread)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except OSError:
            continue  # gone meanwhile
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


class _TreeSampler(threading.Thread):
    """Samples the summed RSS of a process tree until stopped; keeps the peak."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, sum(_rss(pid) for pid in _descendants(self.root)))
            self._stop_event.wait(SAMPLE_INTERVAL)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def run_measured(
    commands: Sequence[Sequence[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    ok_codes: tuple[int, ...] = (0,),
    timeout: float = STEP_TIMEOUT,
) -> Measurement:
    """Runs `commands` one after the other (a step such as apply + rollout status) and returns their
    total wall time and the peak memory of any one of them with its descendants."""
    total, peak = 0.0, 0
    for argv in commands:
        with tempfile.TemporaryFile() as out:
            started = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=cwd, env=dict(env) if env else None, stdout=out, stderr=subprocess.STDOUT)
            sampler = _TreeSampler(proc.pid)
            sampler.start()
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                code = None
            finally:
                sampler.stop()
            total += time.perf_counter() - started
            peak = max(peak, sampler.peak)
            if code not in ok_codes:
                out.seek(0)
                tail = out.read().decode(errors="replace").splitlines()[-25:]
                why = f"timed out after {timeout:.0f} s" if code is None else f"exit {code}"
                raise StepError(f"{' '.join(argv[:4])} ... {why}\n" + "\n".join(tail))
    return Measurement(seconds=total, peak_rss=peak)


def run_quiet(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    """An unmeasured helper command (setup, config); its stdout, or StepError with its output."""
    result = subprocess.run(
        argv, cwd=cwd, env=dict(env) if env else None, capture_output=True, text=True, timeout=STEP_TIMEOUT
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).splitlines()[-25:]
        raise StepError(f"{' '.join(argv[:4])} ... exit {result.returncode}\n" + "\n".join(tail))
    return result.stdout.strip()


def pinned_tools() -> Path:
    """The folder holding the pinned pulumi, plugins, kube-*, kwok and helm (built once, cached)."""
    bin_dir = Path(run_quiet(["bash", "scripts/toolchain.sh"], cwd=ROOT).splitlines()[-1])
    run_quiet(["bash", "scripts/toolchain/helm.sh"], cwd=ROOT)
    return bin_dir


def wait_until(what: str, probe: Callable[[], bool], timeout: float = 180.0, interval: float = 0.25) -> None:
    """Polls `probe()` until true; raises naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(interval)
    raise StepError(f"timed out after {timeout:.0f} s waiting for {what}")


@contextmanager
def kwok_cluster(scratch: Path) -> Iterator[str]:
    """A kwok control plane of its own (KWOK_CLUSTER_NAME, default flask-bench, so a benchmark never
    recreates the end-to-end tests' cluster); always deleted afterwards. Yields the kubeconfig."""
    with _script_cluster("scripts/kwok-cluster.sh", "KWOK_CLUSTER_NAME", "flask-bench", scratch, 120) as kubeconfig:
        yield kubeconfig


@contextmanager
def kind_cluster(scratch: Path) -> Iterator[str]:
    """The Kind cluster of the real-cluster tests (scripts/kind-cluster.sh: real nodes, containers and
    an ingress controller), under KIND_CLUSTER_NAME (default flask-ci); always deleted afterwards."""
    with _script_cluster("scripts/kind-cluster.sh", "KIND_CLUSTER_NAME", "flask-ci", scratch, 600) as kubeconfig:
        yield kubeconfig


@contextmanager
def _script_cluster(
    script: str, name_variable: str, default_name: str, scratch: Path, down_timeout: float
) -> Iterator[str]:
    """`script up KUBECONFIG` under the cluster name from `name_variable` (or `default_name`), then
    always `script down`. Yields the kubeconfig."""
    env = {**os.environ, name_variable: os.environ.get(name_variable, default_name)}
    kubeconfig = scratch / "kubeconfig"
    try:
        run_quiet(["bash", script, "up", str(kubeconfig)], env=env, cwd=ROOT)
        yield str(kubeconfig)
    finally:
        subprocess.run(
            ["bash", script, "down"], cwd=ROOT, env=env, capture_output=True, timeout=down_timeout, check=False
        )


def warm_up(tool_bin: Path, kubeconfig: str) -> None:
    """Untimed: a fresh API server builds its OpenAPI documents on the first request (0.8 s on kwok),
    which whichever tool came first would pay. Every tool here reads them (pulumi-kubernetes' Configure
    fetches /openapi/v2, kubectl's validation and diff /openapi/v3), so ask once before measuring."""
    for path in ("/openapi/v2", "/openapi/v3", "/apis"):
        run_quiet([str(tool_bin / "kubectl"), "--kubeconfig", kubeconfig, "get", "--raw", path])


@dataclass
class Bench:
    """What a benchmark runs on: its scratch folder (removed afterwards), the pinned tools, a cluster
    of its own, and the cleanups to run before the cluster goes (last registered, first run)."""

    scratch: Path
    tool_bin: Path
    kubeconfig: str
    cleanups: ExitStack


@contextmanager
def bench_cluster(prefix: str, cluster: str = "kwok", *, stand_in: bool = True) -> Iterator[Bench]:
    """The pinned tools and a warmed-up kwok (or Kind) cluster of the benchmark's own, in a scratch
    folder named after `prefix`; on kwok, with `stand_in`, the ingress controller played as the
    end-to-end tests play it (devtools/cluster.py). Everything is removed afterwards."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, ExitStack() as cleanups:
        scratch = Path(tmp)
        tool_bin = pinned_tools()
        kubeconfig = cleanups.enter_context(kwok_cluster(scratch) if cluster == "kwok" else kind_cluster(scratch))
        warm_up(tool_bin, kubeconfig)
        if cluster == "kwok" and stand_in:
            # Nothing publishes Ingress addresses on kwok: play the controller, polling often so that
            # Pulumi's Ingress await is not held up by the stand-in.
            cleanups.enter_context(IngressControllerStandIn(api_client(kubeconfig), interval=0.1))
        print(f"tools and {cluster} cluster ready ({time.perf_counter() - started:.0f} s)", flush=True)
        yield Bench(scratch=scratch, tool_bin=tool_bin, kubeconfig=kubeconfig, cleanups=cleanups)


def at_least_one(text: str) -> int:
    """An argparse type: a whole number, 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def app_counts(text: str) -> list[int]:
    """An argparse type: comma-separated app counts (`1,10,50`), each 1 or more."""
    return [at_least_one(item) for item in text.split(",")]


def benchmark_parser(doc: str | None, rounds: int = 1, *, json_file: bool = True) -> argparse.ArgumentParser:
    """The options of a benchmark: --rounds and (with `json_file`) --json; its module docstring as its help."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=at_least_one, default=rounds)
    if json_file:
        parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    return parser


def current_context(kubeconfig: str) -> str:
    return str(yaml.safe_load(Path(kubeconfig).read_text())["current-context"])


def pulumi_env(scratch: Path, tool_bin: Path, kubeconfig: str, state: StateBackend | None = None) -> dict[str, str]:
    """The environment of a throwaway Pulumi run in `scratch` (devtools/stacks.py): the pinned tools
    first on PATH, `state` (default: a new file backend in `scratch`), a throwaway passphrase, no
    update checks or plugin downloads, PULUMI_HOME and TMPDIR under `scratch`."""
    backend = state if state is not None else file_backend(scratch / "backend")
    return {
        **os.environ,
        **throwaway_env(scratch, tool_bin, kubeconfig, backend),
        # --otel-traces is a debug-level flag of the CLI.
        "PULUMI_DEBUG_COMMANDS": "true",
    }


class PulumiProject:
    """A copy of the project (or of a benchmark program with the project's sources, or of a standalone
    program folder) with one stack, a file backend (or `state`, e.g. a PostgreSQL database) and a
    throwaway passphrase: no Pulumi account, nothing left behind. The CLI is run directly (not through
    the Automation API), so what is measured is what a person types."""

    def __init__(
        self,
        scratch: Path,
        stack: str,
        tool_bin: Path,
        kubeconfig: str,
        main: Path | None = None,
        standalone: Path | None = None,
        state: StateBackend | None = None,
    ) -> None:
        """`main` replaces the project's __main__.py; `standalone` is a whole other program folder."""
        self.dir = scratch / "project"
        if standalone is not None:
            shutil.copytree(standalone, self.dir, ignore=shutil.ignore_patterns("__pycache__"))
            (self.dir / ".venv").symlink_to(ROOT / ".venv")
        else:
            copy_project(stack, self.dir, main=main)
        self.stack = stack
        self.pulumi = PulumiCli(tool_bin / "pulumi", self.dir, stack, pulumi_env(scratch, tool_bin, kubeconfig, state))
        run_quiet([str(tool_bin / "pulumi"), "stack", "init", stack, "--non-interactive"], env=self.env, cwd=self.dir)
        if standalone is None:
            # The stack file names the default cluster's context; point the copy at this cluster's.
            self.set_config("flask-k8s:cluster.context", current_context(kubeconfig))

    @property
    def env(self) -> dict[str, str]:
        return self.pulumi.env

    def cli(self, *args: str) -> str:
        """An unmeasured command; its stdout, or StepError with the end of its output."""
        run = self.pulumi.run(*args, timeout=STEP_TIMEOUT)
        if run.returncode != 0:
            raise StepError(f"pulumi {' '.join(args[:3])} ... exit {run.returncode}\n{run.tail(25)}")
        return run.stdout.strip()

    def measure(self, *args: str) -> Measurement:
        return run_measured([self.pulumi.command(*args)], env=self.env, cwd=self.dir)

    def set_config(self, key: str, value: str) -> None:
        """Sets one value; a dotted key is a path into a config object (`flask-k8s:app.env.LOG_LEVEL`)."""
        self.cli("config", "set", "--path", key, value)

    def remove_config(self, key: str) -> None:
        self.cli("config", "rm", "--path", key)

    def destroy_quietly(self) -> None:
        """Whatever happened, leave nothing of this stack on the cluster (unmeasured)."""
        self.pulumi.run("destroy", "--yes", "--skip-preview", timeout=STEP_TIMEOUT)


def mib(size: int) -> str:
    return f"{size / 2**20:.0f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# A results table's column: a tool's name (deploy_tools.py) or an app count (scale.py).
Column = TypeVar("Column", str, int)


def write_json(path: Path, results: Mapping[Column, Mapping[str, Series]]) -> None:
    """Every round's measurements, by column (tool or app count) and step, for later comparison."""
    path.write_text(
        json.dumps(
            {
                str(column): {step: [vars(m) for m in series.runs] for step, series in steps.items()}
                for column, steps in results.items()
            },
            indent=2,
        )
    )


def print_results(report: str, results: Mapping[Column, Mapping[str, Series]], json_path: Path | None) -> None:
    """The report after the run's progress lines, and every measurement in `json_path` if given."""
    print()
    print(report)
    if json_path is not None:
        write_json(json_path, results)


def run_main(main: Callable[[], None], what: str = "benchmark") -> None:
    """Runs a benchmark's `main`; a failed step ends it with its message, not a traceback."""
    try:
        main()
    except StepError as failed:
        sys.exit(f"{what} failed: {failed}")
