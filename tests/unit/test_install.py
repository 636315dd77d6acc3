"""scripts/install.sh, the one set-up step of README's Install, demo.sh, test.sh and .ci/run.

It runs here in a copy of the scripts with stand-in `python3` and `pip` (they log their arguments):
pip runs on a fresh clone, not again while requirements.txt and components/pyproject.toml are
unchanged, and again once either changes or an install failed. Nothing is installed for real.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.harness import ROOT

# `python3 -m venv DIR` makes DIR/bin/python and a DIR/bin/pip that logs its arguments and exits
# with the code in ./pip-exit (0 if absent).
PYTHON3 = """#!/bin/sh
[ "$1 $2" = "-m venv" ] || exit 64
mkdir -p "$3/bin"
printf '#!/bin/sh\\nexit 0\\n' >"$3/bin/python"
cat >"$3/bin/pip" <<EOF
#!/bin/sh
"@PYTHON@" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "\\$@" >>"@LOG@"
exit \\$(cat "@CODE@" 2>/dev/null || echo 0)
EOF
chmod +x "$3/bin/python" "$3/bin/pip"
"""


class Clone:
    def __init__(self, root: Path, standins: Path) -> None:
        self.root, self.standins = root, standins

    def install(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": f"{self.standins}:/usr/bin:/bin",
            "HOME": str(self.root / "home"),
            "FLASK_K8S_CACHE": str(self.root / "cache"),
        }
        return subprocess.run(
            ["bash", "scripts/install.sh", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def pip_calls(self) -> list[list[str]]:
        log = self.standins / "pip.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def clone(tmp_path: Path) -> Clone:
    root, standins = tmp_path / "clone", tmp_path / "bin"
    for name in ("scripts/install.sh", "scripts/toolchain/common.sh", "scripts/versions.env", "requirements.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    (root / "components").mkdir()
    shutil.copy2(ROOT / "components" / "pyproject.toml", root / "components" / "pyproject.toml")
    standins.mkdir()
    python3 = PYTHON3.replace("@PYTHON@", sys.executable).replace("@LOG@", str(standins / "pip.jsonl"))
    (standins / "python3").write_text(python3.replace("@CODE@", str(standins / "pip-exit")))
    (standins / "python3").chmod(0o755)
    return Clone(root, standins)


def shell_lines(block: str) -> list[str]:
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def readme_install_blocks() -> list[list[str]]:
    """The ```sh blocks of README's Install, as command lines: the set-up step, what it runs, PostgreSQL."""
    install = re.search(r"^## Install\n(.*?)^## ", (ROOT / "README.md").read_text(), re.DOTALL | re.MULTILINE)
    assert install, "README has no Install section"
    return [shell_lines(block) for block in re.findall(r"```sh\n(.*?)```", install.group(1), re.DOTALL)]


def test_a_fresh_clone_gets_the_venv_then_nothing_runs_again_until_the_lock_changes(clone: Clone) -> None:
    assert clone.install("--check").returncode == 1
    first = clone.install()
    assert first.returncode == 0, first.stderr
    assert (clone.root / ".venv" / "bin" / "python").exists()
    # What README says the step runs, with the clone's paths, quietly.
    _, what_it_runs, _ = readme_install_blocks()
    assert what_it_runs[0] == "python3 -m venv .venv"
    expected = []
    for line in what_it_runs[1:]:
        program, command, *args = line.split()
        assert (program, command) == (".venv/bin/pip", "install"), line
        paths = {"requirements.txt": str(clone.root / "requirements.txt"), "components": str(clone.root / "components")}
        expected.append([command, "--quiet", "--disable-pip-version-check", *(paths.get(a, a) for a in args)])
    assert clone.pip_calls() == expected
    assert clone.install("--check").returncode == 0

    again = clone.install()
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""
    assert len(clone.pip_calls()) == 2

    with (clone.root / "components" / "pyproject.toml").open("a") as pyproject:
        pyproject.write("# a change\n")
    assert clone.install("--check").returncode == 1
    assert clone.install().returncode == 0
    assert len(clone.pip_calls()) == 4


def test_a_failed_install_is_tried_again_next_time(clone: Clone) -> None:
    (clone.standins / "pip-exit").write_text("1")
    assert clone.install().returncode != 0
    (clone.standins / "pip-exit").write_text("0")
    assert clone.install("--check").returncode == 1
    assert clone.install().returncode == 0
    assert clone.install("--check").returncode == 0


def test_ci_runs_the_readme_install_commands_in_their_order() -> None:
    """.ci/run runs exactly README's Install: the PostgreSQL block where it stands in .ci/run (before
    the Python step, which does not need it), and the one Python set-up step."""
    setup, _, postgres = readme_install_blocks()
    assert setup == ["bash scripts/install.sh"]
    ci = shell_lines((ROOT / ".ci" / "run").read_text())
    for command in postgres + setup:
        assert command in ci, f".ci/run does not run README's `{command}`"
    assert ci.index(setup[0]) > ci.index(postgres[-1])
    assert not [line for line in ci if "pip install" in line or "-m venv" in line], "install only through the script"
