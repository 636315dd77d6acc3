"""The `pulumi` and `kubectl` command lines, run the way an operator runs them.

The operations tests need what the Automation API hides: the exact commands of the runbook, their
JSON output, and hand edits whose field manager is kubectl's own (pulumi-kubernetes treats fields
written by `kubectl*` managers differently from those of other clients, so editing through the
Python client would test something else).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

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
    env: dict[str, str]
    backend_dir: Path

    @classmethod
    def for_stack(cls, stack: ProjectStack, tool_bin: Path) -> PulumiCli:
        stack_env = stack.stack.workspace.env_vars
        return cls(
            binary=tool_bin / "pulumi",
            project_dir=stack.project_dir,
            stack_name=stack.stack.name,
            env={**os.environ, **stack_env},
            backend_dir=Path(unquote(urlparse(stack_env["PULUMI_BACKEND_URL"]).path)),
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
        return Run(argv, result.returncode, result.stdout, result.stderr)

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


def resource_type(urn: str) -> str:
    """The resource type at the end of a URN's type chain (urn:...::parent$child$TYPE::name)."""
    return urn.split("::")[-2].split("$")[-1]


def summary_event(events: list[dict[str, Any]]) -> dict[str, Any]:
    (summary,) = [e["summaryEvent"] for e in events if "summaryEvent" in e]
    return summary


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
