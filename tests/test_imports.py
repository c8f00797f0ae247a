"""shipyard's modules: importing any of them does no work, and no two import each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted((SRC / "shipyard").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] != "__main__":
            names[".".join(parts)] = path
    return names


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The shipyard modules one module imports at run time, at its top or inside a function."""
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        if _type_checking_only(node):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return {name for name in found if name in modules}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                found.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    modules = module_names()
    # a package's modules may use their package's __init__ (it is imported first anyway)
    graph = {
        name: {dep for dep in imports_of(path, modules) if dep != name and not name.startswith(f"{dep}.")}
        for name, path in modules.items()
    }
    assert cycles(graph) == []


def test_every_module_imports_from_an_empty_directory_with_no_output(tmp_path: Path) -> None:
    """No discovery, no exit, no print at import: a user's tasks.py or a test can import anything."""
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\nprint('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code, *module_names()], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")


def test_importing_shipyard_tasks_in_an_empty_directory_does_nothing(tmp_path: Path) -> None:
    """`import shipyard.tasks` finds no project and loads nothing: the namespace is built only when
    `namespace` is asked for (tasks/__init__.py's module __getattr__ calls assemble.namespace_for_cwd)."""
    code = "import sys, shipyard.tasks; print(sorted(m for m in sys.modules if m.startswith(('shipyard', 'invoke'))))"
    done = subprocess.run((sys.executable, "-c", code), cwd=tmp_path, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == "['shipyard', 'shipyard.tasks']"
    assert not list(tmp_path.iterdir())  # nothing written either


def test_the_namespace_outside_a_project_is_one_error_and_a_hint(tmp_path: Path) -> None:
    """`from shipyard.tasks import namespace` (a user's tasks.py) outside a monorepo: exit 1, no traceback."""
    done = subprocess.run(
        (sys.executable, "-c", "from shipyard.tasks import namespace"), cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: no pyproject.toml with a [tool.shipyard] table at or above {tmp_path.resolve()}",
        "hint: run shipyard from inside a monorepo, or add [tool.shipyard] to its pyproject.toml",
    ]
