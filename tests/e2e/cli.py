"""The `pulumi` and `kubectl` command lines, run the way an operator runs them.

The operations tests need what the Automation API hides: the exact commands of the runbook, their
JSON output, a process to SIGKILL, two updates at once, and hand edits whose field manager is
kubectl's own (pulumi-kubernetes treats fields written by `kubectl*` managers differently from
those of other clients, so editing through the Python client would test something else). The
`pulumi` wrapper itself is devtools/stacks.py's `PulumiCli`, which the benchmarks run too; here it
is bound to a test's stack, beside the process and kubectl helpers only the tests need.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.stacks import PulumiCli
from tests.engine import ProjectStack


def pulumi_cli(stack: ProjectStack, tool_bin: Path) -> PulumiCli:
    """The pinned `pulumi` command line on `stack`, with its environment, backend and passphrase."""
    return PulumiCli(
        binary=tool_bin / "pulumi",
        project_dir=stack.project_dir,
        stack_name=stack.stack.name,
        env={**os.environ, **stack.stack.workspace.env_vars},
        backend=stack.backend,
    )


def pending_operations(deployment: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(type, URN) of each pending operation of a deployment (a checkpoint or `stack export`'s)."""
    return [(op["type"], op["resource"]["urn"]) for op in (deployment or {}).get("pending_operations") or []]


def resource_type(urn: str) -> str:
    """The resource type at the end of a URN's type chain (urn:...::parent$child$TYPE::name)."""
    return urn.split("::")[-2].split("$")[-1]


def summary_event(events: list[dict[str, Any]]) -> dict[str, Any]:
    (summary,) = [e["summaryEvent"] for e in events if "summaryEvent" in e]
    return summary


def live_processes() -> dict[int, int]:
    """PID -> parent PID of every live (not zombie) process; `ps`, not /proc, as laptops run these tests too."""
    listing = subprocess.run(["ps", "-A", "-o", "pid=,ppid=,stat="], capture_output=True, text=True, check=True)
    table = {}
    for line in listing.stdout.splitlines():
        pid, ppid, stat = line.split(maxsplit=2)
        if not stat.startswith("Z"):
            table[int(pid)] = int(ppid)
    return table


def descendants(pid: int) -> set[int]:
    table = live_processes()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in table.items() if parent in frontier} - found
        found |= frontier
    return found


def kill_process_group(leader: subprocess.Popen[str]) -> list[int]:
    """SIGKILLs the process group of `leader` (started by `PulumiCli.start`), as `kill -9 -PGID`
    would, and returns the PIDs of its descendants that outlived it.

    Pulumi starts every plugin (language host, providers) in a process group of its own, so killing
    the CLI's group leaves them running; the caller ends those, by PID.
    """
    family = descendants(leader.pid)
    if leader.poll() is None:
        os.killpg(leader.pid, signal.SIGKILL)
    leader.wait(timeout=30)
    return sorted(family & set(live_processes()))


def end_processes(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # ended since it was listed
            os.kill(pid, signal.SIGKILL)


@dataclass
class Kubectl:
    """The pinned kubectl on the session's cluster; its discovery cache stays out of ~/.kube."""

    binary: Path
    kubeconfig: str
    cache_dir: Path

    def __call__(self, *args: str) -> str:
        argv = [str(self.binary), "--kubeconfig", self.kubeconfig, "--cache-dir", str(self.cache_dir), *args]
        result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed (exit {result.returncode}): {result.stderr}")
        return result.stdout
