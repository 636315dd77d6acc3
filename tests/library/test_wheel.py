"""The component library as an outside user installs it: the built wheel in an empty virtualenv.

Nothing of this work tree is importable there, so this proves the wheel carries every module, its
type marker and version, that its declared dependencies cover what its modules import, and that the
example program (two apps from one component) runs under mocks with nothing but the wheel and pytest.
The wheel holds the package's files and nothing else.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.wheel import LIBRARY, build_wheel, declared_version, lock_constraints, new_venv, pip_install

# Imports every module of the installed package; prints where it was found and its version.
IMPORT_ALL = """
import importlib, importlib.metadata, pkgutil, flask_k8s_components as lib
for module in pkgutil.walk_packages(lib.__path__, "flask_k8s_components."):
    importlib.import_module(module.name)
print(lib.__file__)
print(importlib.metadata.version("flask-k8s-components"))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A new virtualenv with the wheel (and pytest) installed; returns (its python, its folder)."""
    scratch = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(scratch / "dist")
    python = new_venv(scratch / "venv")
    pip_install(python, lock_constraints(scratch), str(wheel), "pytest")
    return python, scratch / "venv"


def test_the_wheel_holds_the_package_and_nothing_else(tmp_path: Path) -> None:
    # Only the package's own files: no other folder of the project (devtools/, tests/) rides along.
    package = LIBRARY / "flask_k8s_components"
    names = zipfile.ZipFile(build_wheel(tmp_path)).namelist()
    shipped = {name for name in names if ".dist-info/" not in name}
    sources = {
        f"{package.name}/{path.relative_to(package).as_posix()}"
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert shipped == sources


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_wheel_carries_every_module_its_version_and_type_marker(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    python, venv = installed
    result = run(python, "-c", IMPORT_ALL, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    where, version = result.stdout.split()
    assert Path(where).is_relative_to(venv), "imported from outside the new virtualenv"
    assert version == declared_version()
    assert (Path(where).parent / "py.typed").is_file()
    check = run(python, "-m", "pip", "check", cwd=tmp_path)
    assert check.returncode == 0, check.stdout


def test_the_example_program_runs_under_mocks_with_only_the_wheel(installed: tuple[Path, Path], tmp_path: Path) -> None:
    python, _ = installed
    example = tmp_path / "example"
    shutil.copytree(LIBRARY / "examples" / "python", example, ignore=shutil.ignore_patterns("__pycache__"))
    result = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example), cwd=example)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout  # exit 0 with tests run, not "no tests collected" (5)
