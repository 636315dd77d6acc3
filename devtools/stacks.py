"""Throwaway Pulumi stacks: the project copied into a scratch folder, the engine's folders and
environment, a passphrase, and the `pulumi` command line run on one stack.

The end-to-end and Kind tests (tests/engine.py, tests/e2e/cli.py), the benchmarks
(benchmarks/support.py) and the demo (scripts/demo.sh, through `python -m devtools.stacks`) all run
stacks this way, so what "a stack with nothing left behind" means is written once:

- The stack runs in a copy of the project's sources (PROJECT_SOURCES and the stack file), never in
  the work tree: `pulumi stack init` writes the stack's encryption salt into the stack file, and a
  salt must not land in a tree someone commits from. A copy refreshed over an older one keeps the
  older one's secrets settings (SECRETS_SETTINGS), so the state it encrypted still decrypts.
- Its state is in a backend of its own (a folder by default), its PULUMI_HOME and TMPDIR are folders
  of its own, and nothing asks a Pulumi service for anything (OFFLINE_ENV).
- Its passphrase is throwaway (generated per stack, never written anywhere) or, for the demo's stack
  that outlives a run, generated once into a file only its owner reads.

Usage (scripts/demo.sh; run from the project root with its .venv):
    python -m devtools.stacks env HOME               prints `export` lines for the stack home HOME
    python -m devtools.stacks copy-project STACK DIR  (re)makes DIR as a copy of the project for STACK
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from devtools.backends import LOCKS, StateBackend, checkpoint_key

ROOT = Path(__file__).resolve().parents[1]
# What the program needs of the project folder. Not components/: the program imports the component
# library installed in .venv (README: Install), as any other program would.
PROJECT_SOURCES = ("Pulumi.yaml", "__main__.py", "settings", "app", "policy")
# What `pulumi stack init` writes into a stack file so the stack's secrets decrypt: with a passphrase,
# only encryptionsalt; the other two with a key-management secrets provider.
SECRETS_SETTINGS = ("secretsprovider", "encryptedkey", "encryptionsalt")
# No update check and no plugin download: the pinned tools are on PATH (scripts/toolchain/pulumi.sh),
# and a run that tried to fetch a plugin would hide a missing one behind a network call.
OFFLINE_ENV = {"PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}


def stack_file(project: Path, stack: str) -> Path:
    return project / f"Pulumi.{stack}.yaml"


def secrets_settings(path: Path) -> dict[str, Any]:
    """The secrets settings a stack file holds (none if the file does not exist)."""
    if not path.exists():
        return {}
    settings = yaml.safe_load(path.read_text()) or {}
    return {key: settings[key] for key in SECRETS_SETTINGS if key in settings}


def carry_secrets_settings(settings: Mapping[str, Any], path: Path) -> None:
    """Writes `settings` (another copy's secrets settings) into the stack file at `path`, so the same
    passphrase decrypts that stack's state from this copy. Put in front of the file, which keeps its
    comments; merged, where the file has secrets settings of its own (they are replaced)."""
    if not settings:
        return
    text = path.read_text()
    current = yaml.safe_load(text) or {}
    if any(key in current for key in settings):
        path.write_text(yaml.safe_dump({**current, **settings}, sort_keys=False, width=2**16))
    else:
        path.write_text(yaml.safe_dump(dict(settings), sort_keys=False, width=2**16) + text)


def copy_project(stack: str, destination: Path, source: Path = ROOT, main: Path | None = None) -> Path:
    """`destination` as a copy of what the program needs of `source` (the work tree by default) for
    `stack`, with this checkout's `.venv` linked; `main` replaces its __main__.py (a benchmark's
    program). A copy already there is replaced; its stack file's secrets settings are kept."""
    kept = secrets_settings(stack_file(destination, stack))
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for name in [*PROJECT_SOURCES, f"Pulumi.{stack}.yaml"]:
        origin = main if name == "__main__.py" and main is not None else source / name
        if origin.is_dir():
            shutil.copytree(origin, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, destination / name)
    (destination / ".venv").symlink_to(ROOT / ".venv")
    carry_secrets_settings(kept, stack_file(destination, stack))
    return destination


def throwaway_passphrase() -> str:
    """A passphrase for a throwaway backend: it lives in the stack's environment only."""
    return secrets.token_urlsafe(24)


def passphrase_file(path: Path) -> Path:
    """A passphrase file for a stack that outlives a run: generated once, readable by its owner only
    (mode 600 from the start, never widened); an existing non-empty file is kept as it is."""
    if path.exists() and path.stat().st_size > 0:
        return path
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(throwaway_passphrase() + "\n")
    return path


def _engine_env(backend_url: str, tmpdir: Path) -> dict[str, str]:
    # pulumi-kubernetes writes the kubeconfig it was configured with to a new temporary file on every
    # run and never removes it (upstream behaviour, pkg/provider/util.go): a TMPDIR of the stack's own
    # keeps those cluster credentials out of the shared /tmp, and goes with the stack.
    return {"PULUMI_BACKEND_URL": backend_url, "PULUMI_SKIP_UPDATE_CHECK": "true", "TMPDIR": str(tmpdir)}


def throwaway_env(
    scratch: Path, tool_bin: Path, kubeconfig: str, backend: StateBackend, tmpdir: Path | None = None
) -> dict[str, str]:
    """The variables of a throwaway stack's engine (to add to this process's environment): the pinned
    tools first on PATH, `backend`, a throwaway passphrase, offline, and PULUMI_HOME and TMPDIR
    (`tmpdir`, or one) under `scratch` (created)."""
    pulumi_home, tmpdir = scratch / "pulumi-home", tmpdir or scratch / "tmp"
    for folder in (pulumi_home, tmpdir):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        **_engine_env(backend.url, tmpdir),
        **OFFLINE_ENV,
        **backend.env,
        "PATH": f"{tool_bin}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(pulumi_home),
        "PULUMI_CONFIG_PASSPHRASE": throwaway_passphrase(),
        "KUBECONFIG": kubeconfig,
    }


def kept_env(home: Path) -> dict[str, str]:
    """The variables of a stack home that outlives a run (the demo's): a file backend in HOME/state,
    the passphrase file HOME/passphrase (generated once), TMPDIR HOME/tmp (created). PULUMI_HOME and
    plugin downloads stay the user's: the demo runs the CLI a person would."""
    for folder in (home / "state", home / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        **_engine_env((home / "state").as_uri(), home / "tmp"),
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase_file(home / "passphrase")),
    }


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
    """The `pulumi` command line on one stack of a project copy, with that stack's environment: the
    exact commands a person types, their output, a process to signal. With `backend`, also what the
    backend stores of the stack."""

    binary: Path
    project_dir: Path
    stack_name: str
    # Out of the repr, which pytest prints with --showlocals: it holds the stack's passphrase.
    env: dict[str, str] = field(repr=False)
    backend: StateBackend | None = None
    # (command, what it printed) of every command run, kept for the test that looks for leaked secrets.
    transcript: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def command(self, *args: str) -> list[str]:
        return [str(self.binary), *args, "--stack", self.stack_name, "--non-interactive", "--color", "never"]

    def run(self, *args: str, timeout: float = 300) -> Run:
        argv = self.command(*args)
        result = subprocess.run(
            argv, cwd=self.project_dir, env=self.env, capture_output=True, text=True, check=False, timeout=timeout
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

    def _backend(self) -> StateBackend:
        assert self.backend is not None, f"the CLI of stack {self.stack_name} was given no backend to read"
        return self.backend

    def stored_stack(self) -> dict[str, Any]:
        """The stack's object in the backend, as stored (a checkpoint document); fails if unreadable."""
        backend = self._backend()
        data = backend.objects(self.stack_key).get(self.stack_key)
        assert data is not None, f"the {backend.kind} backend holds no {self.stack_key}"
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
            key for key in self._backend().objects(LOCKS) if f"/{self.stack_name}/" in key and key.endswith(".json")
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stacks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    env = commands.add_parser("env", help="print `export` lines for a stack home that outlives a run")
    env.add_argument("home", type=Path)
    copy = commands.add_parser("copy-project", help="(re)make a copy of the project for a stack")
    copy.add_argument("stack")
    copy.add_argument("destination", type=Path)
    args = parser.parse_args(argv)
    if args.command == "env":
        # Names and paths only: the passphrase stays in its file.
        for name, value in kept_env(args.home.resolve()).items():
            print(f"export {name}={shlex.quote(value)}")
    else:
        copy_project(args.stack, args.destination.resolve())


if __name__ == "__main__":
    main()
