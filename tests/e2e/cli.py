"""The `pulumi` and `kubectl` command lines, run the way an operator runs them.

The operations tests need what the Automation API hides: the exact commands of the runbook, their
JSON output, a process to SIGKILL, two updates at once, and hand edits whose field manager is
kubectl's own (pulumi-kubernetes treats fields written by `kubectl*` managers differently from
those of other clients, so editing through the Python client would test something else).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tests.backends import LOCKS, StateBackend, checkpoint_key
from tests.engine import ProjectStack


@dataclass
class Run:
    """One finished command."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


@dataclass
class PulumiCli:
    """The pinned `pulumi` CLI on one stack of a project copy, with that stack's backend and passphrase."""

    binary: Path
    project_dir: Path
    stack_name: str
    # Out of the repr, which pytest prints with --showlocals: it holds the stack's passphrase.
    env: dict[str, str] = field(repr=False)
    backend: StateBackend
    # (command, what it printed) of every command run, kept for the test that looks for leaked secrets.
    transcript: list[tuple[str, str]] = field(default_factory=list, repr=False)

    @classmethod
    def for_stack(cls, stack: ProjectStack, tool_bin: Path) -> PulumiCli:
        stack_env = stack.stack.workspace.env_vars
        return cls(
            binary=tool_bin / "pulumi",
            project_dir=stack.project_dir,
            stack_name=stack.stack.name,
            env={**os.environ, **stack_env},
            backend=stack.backend,
        )

    def command(self, *args: str) -> list[str]:
        return [str(self.binary), *args, "--stack", self.stack_name, "--non-interactive", "--color", "never"]

    def run(self, *args: str, timeout: float = 300) -> Run:
        argv = self.command(*args)
        result = subprocess.run(
            argv,
            cwd=self.project_dir,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        run = Run(argv, result.returncode, result.stdout, result.stderr)
        self.transcript.append((" ".join(["pulumi", *args]), run.output))
        return run

    def start(self, *args: str, output: TextIO) -> subprocess.Popen[str]:
        """Starts a command as the leader of a new process group (and session), as a shell job would be."""
        return subprocess.Popen(
            self.command(*args),
            cwd=self.project_dir,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def preview_json(self, *args: str) -> tuple[Run, dict[str, Any]]:
        """`pulumi preview --json ARGS`: one JSON document (steps, diagnostics), also when it fails."""
        run = self.run("preview", "--json", *args)
        try:
            return run, json.loads(run.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"preview printed no JSON (exit {run.returncode}):\n{run.tail()}") from None

    def up_json(self, *args: str) -> tuple[Run, list[dict[str, Any]]]:
        """`pulumi up --yes --skip-preview --json ARGS`: the engine's events, one JSON object a line."""
        run = self.run("up", "--yes", "--skip-preview", "--json", *args)
        return run, [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]

    @property
    def stack_key(self) -> str:
        """The key of the stack's checkpoint in the backend (what `pulumi stack export` reads)."""
        return checkpoint_key(self.stack_name)

    def stored_stack(self) -> dict[str, Any]:
        """The stack's object in the backend, as stored (a checkpoint document); fails if unreadable."""
        data = self.backend.objects(self.stack_key).get(self.stack_key)
        assert data is not None, f"the {self.backend.kind} backend holds no {self.stack_key}"
        return json.loads(data)

    def checkpoint(self) -> dict[str, Any] | None:
        """The stack's latest checkpoint as the running engine last wrote it; None while it is being replaced."""
        try:
            return self.stored_stack()["checkpoint"]["latest"]
        except (AssertionError, json.JSONDecodeError, KeyError):
            return None

    def locks(self) -> list[str]:
        """The keys of the stack's update locks in the backend (one per running update; the file
        backend's `.attrs` files beside them are the blob store's metadata)."""
        return sorted(
            key for key in self.backend.objects(LOCKS) if f"/{self.stack_name}/" in key and key.endswith(".json")
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
