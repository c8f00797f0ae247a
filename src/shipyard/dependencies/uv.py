"""uv.lock: one workspace member's pins, through ``uv export --package <member> --frozen``.

The lock is the unit's own, or its workspace's (the nearest ``uv.lock`` above the unit whose
``[tool.uv.workspace]`` members take it in). Workspace members and path dependencies are left
out of the pins: shipyard installs the unit and its libs itself, editable.
"""

from __future__ import annotations

import shutil
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core.errors import ShipyardError
from shipyard.dependencies.base import TEST_GROUPS, Reader, run_export

if TYPE_CHECKING:
    from shipyard.core.project import Unit


def _find(root: Path, folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        lock = candidate / "uv.lock"
        if lock.is_file() and (candidate == folder or _member(candidate, folder)):
            return lock
        if candidate == root or root not in candidate.parents:
            return None
    return None


def _member(workspace: Path, folder: Path) -> bool:
    from shipyard.core.workdir import read_toml

    path = workspace / "pyproject.toml"
    table = read_toml(path, workspace).get("tool", {}).get("uv", {}).get("workspace") if path.is_file() else None
    if not isinstance(table, dict):
        return False
    rel = folder.relative_to(workspace).as_posix()
    members, exclude = table.get("members", []), table.get("exclude", [])
    return any(fnmatchcase(rel, m) for m in members) and not any(fnmatchcase(rel, e) for e in exclude)


def uv_bin() -> str:
    try:
        from uv import find_uv_bin  # the uv wheel, installed but maybe not on PATH

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
    if found is None:
        raise ShipyardError("uv.lock needs uv to read it, and uv is not installed", hint="pip install uv")
    return found


def export(root: Path, unit: Unit, lock: Path, dev: bool) -> str:
    from shipyard.core.workdir import read_toml

    folder = root / unit.path
    data = read_toml(folder / "pyproject.toml", root) if (folder / "pyproject.toml").is_file() else {}
    name = data.get("project", {}).get("name")
    if not isinstance(name, str):
        raise ShipyardError(
            f"{unit.path}: uses {lock.relative_to(root).as_posix()} but its pyproject.toml has no project.name",
            hint="uv exports a workspace member by its project name: add [project] name",
        )
    argv = [uv_bin(), "export", "--package", name, "--frozen", "--no-header", "--no-annotate", "--no-emit-workspace"]
    groups = [g for g in TEST_GROUPS if g in data.get("dependency-groups", {})]
    argv += [a for g in groups for a in ("--group", g)] if dev else ["--no-default-groups"]
    rel = lock.relative_to(root).as_posix()
    where = lock.parent.relative_to(root).as_posix() or "."
    return run_export(
        argv,
        folder,
        root,
        lambda said: ShipyardError(
            f"{unit.path}: uv export from {rel} failed: {said.splitlines()[-1]}",
            hint=f"check the lock with `uv lock --check` in {where}",
        ),
    )


READER = Reader(
    name="uv.lock",
    patterns=("uv.lock",),
    find=_find,
    export=export,
    tool="uv",
    doc="a uv project's or workspace's lock: the member's pins via `uv export --package <member> --frozen`",
)
