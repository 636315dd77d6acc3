"""The component library as an outside user gets it: its built wheel, installed into a new virtualenv.

Dependencies come from the package index (README: Install), at the versions of this project's lock:
requirements.txt without its hashes, as a constraints file (pip refuses hashes there unless every
requirement, the local wheel included, is hashed and pinned).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

from devtools.harness import ROOT

LIBRARY = ROOT / "components"
# A pinned requirement line of the lock: `name==version \` (its hashes follow on the next lines).
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\[\],-]*==[^\s\\]+)")


def declared_version() -> str:
    """The library's version, as components/pyproject.toml declares it."""
    return tomllib.loads((LIBRARY / "pyproject.toml").read_text())["project"]["version"]


def build_wheel(dest: Path) -> Path:
    """Builds the library's wheel into `dest` with the project's own build backend (in the lock)."""
    dest.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dest), str(LIBRARY)], check=True)
    (wheel,) = dest.glob("flask_k8s_components-*.whl")
    return wheel


def lock_constraints(dest: Path) -> Path:
    """requirements.txt's pins as a pip constraints file."""
    lines = [m.group(1) for line in (ROOT / "requirements.txt").read_text().splitlines() if (m := _PINNED.match(line))]
    assert lines, "requirements.txt has no pinned requirement"
    path = dest / "constraints.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def new_venv(path: Path) -> Path:
    """An empty virtualenv (pip only); returns its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def pip_install(python: Path, constraints: Path, *requirements: str) -> None:
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "--disable-pip-version-check",
            "--quiet",
            "install",
            "-c",
            str(constraints),
            *requirements,
        ],
        check=True,
    )
