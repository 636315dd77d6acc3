"""The top-level folders import each other in one direction only: no cycle between any two of them
(__main__.py, settings, components, policy, fleet, devtools, tests, benchmarks, app, scripts, ...),
and, named on their own, none between tests and benchmarks, which share devtools/ instead.

Every Python file git tracks is read (not imported) with `ast`, imports inside functions included;
an import counts where it names a module of this repository: a top-level folder (`tests.engine`), a
top-level file (`__main__`), or a package below a folder that is a source root of its own
(`flask_k8s_components`, in components/).
"""

from __future__ import annotations

import ast
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from devtools.harness import ROOT


@dataclass(frozen=True)
class Import:
    source: str
    """The importing top-level folder."""
    target: str
    """The imported one."""
    where: str
    """file:line: the import statement, as written."""


def tracked_python_files(root: Path) -> list[Path]:
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--", "*.py"], capture_output=True, text=True, check=True
    ).stdout
    return [Path(name) for name in listed.split("\0") if name and (root / name).exists()]


def folder_of(path: Path) -> str:
    """The top-level folder a file is in (a top-level file is a folder of its own)."""
    return path.parts[0] if len(path.parts) > 1 else path.stem


def module_folders(files: list[Path]) -> dict[str, str]:
    """Importable top-level module name -> the top-level folder it lives in."""
    names: dict[str, str] = {}
    for path in files:
        folder = folder_of(path)
        names.setdefault(folder, folder)
        # A folder that is no package itself is a source root: its packages are imported by their own
        # names (components/flask_k8s_components is `flask_k8s_components`).
        if len(path.parts) > 2 and path.parts[2] == "__init__.py" and not (path.parents[1] / "__init__.py").exists():
            names.setdefault(path.parts[1], folder)
    return names


def imports_of(root: Path, path: Path, names: dict[str, str]) -> list[Import]:
    source = (root / path).read_text()
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue  # relative imports stay inside their folder
        for module in modules:
            target = names.get(module.split(".")[0])
            if target is not None and target != folder_of(path):
                statement = ast.get_source_segment(source, node) or module
                where = f"{path}:{node.lineno}: {' '.join(statement.split())}"
                found.append(Import(folder_of(path), target, where))
    return found


def all_imports(root: Path) -> list[Import]:
    files = tracked_python_files(root)
    names = module_folders(files)
    return [found for path in files for found in imports_of(root, path, names)]


def cycles(imports: list[Import]) -> list[list[str]]:
    """The groups of folders that import each other, directly or round about (strongly connected
    components of more than one folder; Tarjan's algorithm), each sorted."""
    graph: dict[str, set[str]] = defaultdict(set)
    for edge in imports:
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def explain(imports: list[Import], folders: set[str]) -> str:
    return "\n".join(f"  {edge.where}" for edge in imports if edge.source in folders and edge.target in folders)


def test_no_import_cycle_between_top_level_folders() -> None:
    imports = all_imports(ROOT)
    found = cycles(imports)
    assert not found, "top-level folders that import each other:\n" + "\n".join(
        f"{' <-> '.join(group)}:\n{explain(imports, set(group))}" for group in found
    )


def test_tests_and_benchmarks_share_devtools_and_never_import_each_other() -> None:
    imports = all_imports(ROOT)
    across = [edge for edge in imports if {edge.source, edge.target} == {"tests", "benchmarks"}]
    assert not across, "tests and benchmarks import each other (what both need goes in devtools/):\n" + "\n".join(
        f"  {edge.where}" for edge in across
    )


def test_the_walk_sees_imports_in_functions_and_the_component_library(tmp_path: Path) -> None:
    """The walk itself, on a small tree: a cycle through an import inside a function is found, with
    the lines that make it; a library under a source-root folder counts as that folder."""
    files = {
        "tests/__init__.py": "",
        "tests/helper.py": "def f():\n    from benchmarks.support import x\n",
        "benchmarks/support.py": "from tests.helper import f\nimport os\n",
        "components/lib/__init__.py": "",
        "settings/build.py": "import lib.vocabulary\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    imports = all_imports(tmp_path)
    assert {(e.source, e.target) for e in imports} == {
        ("tests", "benchmarks"),
        ("benchmarks", "tests"),
        ("settings", "components"),
    }
    assert cycles(imports) == [["benchmarks", "tests"]]
    assert "tests/helper.py:2: from benchmarks.support import x" in explain(imports, {"tests", "benchmarks"})
