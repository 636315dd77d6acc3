"""devtools/stacks.py, which every throwaway stack of the tests, the benchmarks and the demo is made
with: the project copy keeps a stack's secrets settings across refreshes, passphrases never land
anywhere but their file, and the engine's environment keeps the run offline and in its own folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devtools.backends import file_backend
from devtools.harness import ROOT
from devtools.stacks import (
    OFFLINE_ENV,
    PROJECT_SOURCES,
    PulumiCli,
    copy_project,
    kept_env,
    passphrase_file,
    throwaway_env,
)

SALT = "v1:c2FsdA==:v1:c3RhbmQtaW4=:bm90IGEgcmVhbCBzYWx0"


def test_the_copy_holds_the_sources_and_the_stack_file_and_links_the_venv(tmp_path: Path) -> None:
    copy = copy_project("local", tmp_path / "project")
    assert sorted(p.name for p in copy.iterdir()) == sorted([*PROJECT_SOURCES, "Pulumi.local.yaml", ".venv"])
    assert (copy / "Pulumi.local.yaml").read_text() == (ROOT / "Pulumi.local.yaml").read_text()
    assert (copy / ".venv").resolve() == (ROOT / ".venv").resolve()
    assert not list(copy.rglob("__pycache__"))


def test_a_refreshed_copy_keeps_the_salt_and_the_comments_and_drops_the_rest(tmp_path: Path) -> None:
    copy = copy_project("local", tmp_path / "project")
    stack_file = copy / "Pulumi.local.yaml"
    stack_file.write_text(f"encryptionsalt: {SALT}\n" + stack_file.read_text())
    (copy / "settings" / "stale.py").write_text("# gone after the refresh\n")
    copy_project("local", copy)
    original = (ROOT / "Pulumi.local.yaml").read_text()
    assert stack_file.read_text() == f"encryptionsalt: {SALT}\n{original}"
    assert not (copy / "settings" / "stale.py").exists()


def test_a_benchmark_program_replaces_main(tmp_path: Path) -> None:
    program = ROOT / "benchmarks" / "scale_program.py"
    copy = copy_project("local", tmp_path / "project", main=program)
    assert (copy / "__main__.py").read_text() == program.read_text()


def test_settings_carried_into_a_tree_that_has_its_own_replace_them(tmp_path: Path) -> None:
    first = copy_project("local", tmp_path / "project")
    (first / "Pulumi.local.yaml").write_text(f"encryptionsalt: {SALT}\nconfig: {{}}\n")
    # A copy whose stack file came with a salt of its own (another stack's): ours wins, nothing doubled.
    source = tmp_path / "tree"
    copy_project("local", source)
    (source / "Pulumi.local.yaml").write_text("encryptionsalt: v1:other\nconfig:\n  flask-k8s:x: y\n")
    copy_project("local", first, source=source)
    assert yaml.safe_load((first / "Pulumi.local.yaml").read_text()) == {
        "encryptionsalt": SALT,
        "config": {"flask-k8s:x": "y"},
    }


def test_the_passphrase_file_is_generated_once_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    path = passphrase_file(tmp_path / "passphrase")
    assert path.stat().st_mode & 0o777 == 0o600
    first = path.read_text()
    assert len(first.strip()) >= 24
    assert passphrase_file(path).read_text() == first


def test_the_kept_env_names_the_passphrase_file_never_the_passphrase(tmp_path: Path) -> None:
    env = kept_env(tmp_path / "demo")
    assert env == {
        "PULUMI_BACKEND_URL": (tmp_path / "demo" / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(tmp_path / "demo" / "passphrase"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "TMPDIR": str(tmp_path / "demo" / "tmp"),
    }
    assert (tmp_path / "demo" / "state").is_dir()
    assert (tmp_path / "demo" / "tmp").is_dir()
    # What demo.sh evaluates: export lines, the passphrase not among them.
    printed = subprocess.run(
        [sys.executable, "-m", "devtools.stacks", "env", str(tmp_path / "demo")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed.splitlines()[0].startswith("export PULUMI_BACKEND_URL=")
    assert (tmp_path / "demo" / "passphrase").read_text().strip() not in printed


def test_a_throwaway_env_is_offline_in_its_own_folders_with_a_fresh_passphrase(tmp_path: Path) -> None:
    backend = file_backend(tmp_path / "backend")
    one = throwaway_env(tmp_path, tmp_path / "bin", "kubeconfig", backend)
    other = throwaway_env(tmp_path, tmp_path / "bin", "kubeconfig", backend, tmpdir=tmp_path / "elsewhere")
    assert one.items() >= OFFLINE_ENV.items()
    assert one["PULUMI_BACKEND_URL"] == backend.url
    assert one["PULUMI_HOME"] == str(tmp_path / "pulumi-home")
    assert one["TMPDIR"] == str(tmp_path / "tmp")
    assert other["TMPDIR"] == str(tmp_path / "elsewhere")
    assert one["PATH"].startswith(f"{tmp_path / 'bin'}:")
    assert one["PULUMI_CONFIG_PASSPHRASE"] != other["PULUMI_CONFIG_PASSPHRASE"]
    for folder in ("pulumi-home", "tmp", "elsewhere"):
        assert (tmp_path / folder).is_dir()


def test_the_cli_runs_one_stack_non_interactively_and_keeps_a_transcript(tmp_path: Path) -> None:
    fake = tmp_path / "pulumi"
    fake.write_text(f'#!{sys.executable}\nimport sys\nprint(" ".join(sys.argv[1:]))\nsys.exit(3)\n')
    fake.chmod(0o755)
    cli = PulumiCli(binary=fake, project_dir=tmp_path, stack_name="local", env={"SECRET": "hidden"})
    run = cli.run("stack", "export")
    assert run.returncode == 3
    assert run.stdout == "stack export --stack local --non-interactive --color never\n"
    assert cli.transcript == [("pulumi stack export", run.output)]
    assert "hidden" not in repr(cli)
    with pytest.raises(AssertionError, match="no backend"):
        cli.stored_stack()
