"""poetry.lock: the unit's pins through ``poetry export`` (Poetry 2 needs poetry-plugin-export)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import ShipyardError
from shipyard.dependencies.base import TEST_GROUPS, Reader, run_export

if TYPE_CHECKING:
    from shipyard.core.project import Unit

INSTALL_HINT = "pip install poetry poetry-plugin-export"


def _find(root: Path, folder: Path) -> Path | None:
    lock = folder / "poetry.lock"
    return lock if lock.is_file() else None


def poetry_bin() -> str | None:
    """poetry beside this interpreter (installed with shipyard), else on PATH."""
    beside = Path(sys.executable).parent / "poetry"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("poetry")


def groups(data: dict[str, Any]) -> list[str]:
    """The unit's Poetry groups that hold test tools (``dev-dependencies`` is the old ``dev``)."""
    poetry = data.get("tool", {}).get("poetry", {})
    found = set(poetry.get("group", {})) | ({"dev"} if "dev-dependencies" in poetry else set())
    return [g for g in TEST_GROUPS if g in found]


def export(root: Path, unit: Unit, lock: Path, dev: bool) -> str:
    from shipyard.core.workdir import read_toml

    rel = lock.relative_to(root).as_posix()
    exe = poetry_bin()
    if exe is None:
        raise ShipyardError(
            f"{unit.path}: {rel} needs poetry to read its pins, and poetry is not installed",
            hint=f"{INSTALL_HINT} where shipyard runs ({sys.prefix}), "
            'or set `dependencies = "requirements.txt"` to a requirements file exported from it',
        )
    folder = root / unit.path
    argv = [exe, "export", "--format", "requirements.txt", "--no-interaction", "--no-ansi"]
    chosen = groups(read_toml(folder / "pyproject.toml", root)) if dev and (folder / "pyproject.toml").is_file() else []
    argv += [f"--with={','.join(chosen)}"] if chosen else []
    return run_export(argv, folder, root, lambda said: _failed(unit, rel, exe, said))


def _failed(unit: Unit, rel: str, exe: str, said: str) -> ShipyardError:
    if "export does not exist" in said or 'command "export" does not exist' in said:  # Poetry 2 / 1.x
        return ShipyardError(
            f"{unit.path}: {rel}: poetry has no export command (Poetry 2 moved it to a plugin)",
            hint=f"pip install poetry-plugin-export where poetry runs ({Path(exe).parent.parent}), "
            "or `poetry self add poetry-plugin-export`",
        )
    return ShipyardError(
        f"{unit.path}: poetry export from {rel} failed: {said.splitlines()[-1]}",
        hint=f"check the lock with `poetry check --lock` in {unit.path}",
    )


READER = Reader(
    name="poetry.lock",
    patterns=("poetry.lock",),
    find=_find,
    export=export,
    tool="poetry",
    doc=f"a Poetry lock: the unit's pins via `poetry export` (needs `{INSTALL_HINT}`)",
)
