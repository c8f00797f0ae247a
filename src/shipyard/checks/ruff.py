"""ruff check and ruff format, batched over every unit that uses only (shipyard's) ruff."""

from __future__ import annotations

import functools
import itertools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.checks.base import Check

if TYPE_CHECKING:  # the project imports the check registry: no import back at run time
    from shipyard.core.project import Project

RUFF_CONFIGS = ("ruff.toml", ".ruff.toml")


def ruff_overrides(project: Project) -> tuple[str, ...]:
    """``--config src = [...]`` naming every Python unit (and its src/), when the repository
    has no ruff configuration at all.

    ruff runs from the repository root, so with no configuration its first-party packages are
    those at the root: a unit's own ``app`` package would sort as third-party, unlike ``ruff
    check`` run in the unit (what a team with no ruff config did by hand). A team that
    configures ruff anywhere keeps its own ``src`` (an override would beat every config file).
    """
    # lazily: lint asks once per unit, so building every unit's folder on each call made
    # the decision quadratic in the number of units (~500k paths at 502 units)
    folders = itertools.chain((project.root,), (project.root / u.path for u in project.units.values()))
    if any(_has_ruff_config(folder) for folder in folders):
        return ()
    roots = [".", "src", *(p for u in project.units.values() if u.is_python for p in (u.path, f"{u.path}/src"))]
    return ("--config", "src = [" + ", ".join(f'"{r}"' for r in dict.fromkeys(roots)) + "]")


def _has_ruff_config(folder: Path) -> bool:
    if any((folder / name).is_file() for name in RUFF_CONFIGS):
        return True
    pyproject = folder / "pyproject.toml"
    return pyproject.is_file() and "[tool.ruff" in pyproject.read_text(encoding="utf-8", errors="replace")


@functools.cache
def ruff_bin() -> str:
    """The ruff binary: next to this interpreter (the usual install), else ruff's own lookup
    (which imports sysconfig and costs more than a cached run's whole decision)."""
    beside = Path(sys.executable).parent / "ruff"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    from ruff.__main__ import find_ruff_bin

    return str(find_ruff_bin())


CHECK = Check(
    name="ruff",
    dist="ruff",
    executable="ruff",
    check=(("check", "--output-format=concise", "{paths}"), ("format", "--check", "{paths}")),
    fix=(("check", "--fix", "{paths}"), ("format", "{paths}")),
    root_files=("ruff.toml", ".ruff.toml"),
    root_sections=("tool.ruff",),
    detect=("[tool.ruff",),
    detect_files=("ruff.toml", ".ruff.toml"),
    in_unit=False,
    locate=ruff_bin,
    overrides=ruff_overrides,
    doc="ruff check + ruff format --check",
)
