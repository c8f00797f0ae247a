"""mypy, configured from the unit's [tool.mypy], mypy.ini, .mypy.ini or setup.cfg [mypy].

It type-checks imports, so it needs the unit's dependencies: with a ready test venv (one
``invoke test`` installed from the unit's current install inputs) mypy reads that venv's
packages (``--python-executable``); without one, imports it cannot find are not errors
(``--ignore-missing-imports``). Which of the two ran is part of the lint key.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from shipyard.checks.base import TYPES, Check


def imports(venv: Path | None) -> tuple[str, ...]:
    if venv is None:
        return ("--ignore-missing-imports",)
    return ("--python-executable", str(venv / "bin" / "python"))


def names_files(unit: Path) -> bool:
    """Whether the unit's mypy config sets ``files`` (then ``mypy`` alone checks what the team set)."""
    import configparser

    for name in ("mypy.ini", ".mypy.ini", "setup.cfg"):
        parser = configparser.ConfigParser()
        try:
            parser.read(unit / name, encoding="utf-8")
        except configparser.Error:
            return False  # mypy reports a broken config itself
        if parser.has_section("mypy"):
            return bool(parser.get("mypy", "files", fallback=""))
    table = _pyproject(unit / "pyproject.toml").get("tool", {}).get("mypy", {})
    return bool(table.get("files")) if isinstance(table, dict) else False


def _pyproject(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, ValueError):  # unreadable: the project loader has said so already
        return {}


CHECK = Check(
    name="mypy",
    dist="mypy",
    executable="mypy",
    check=(("--show-column-numbers", "--no-color-output", "--no-pretty", "{imports}", "{paths}"),),
    kind=TYPES,
    root_files=("mypy.ini", ".mypy.ini", "setup.cfg"),
    root_sections=("tool.mypy",),
    detect=("[tool.mypy]", "[mypy]"),
    detect_files=("mypy.ini", ".mypy.ini"),
    imports=imports,
    own_paths=names_files,
    coarse_mtime_cache=True,
    doc="mypy (type checks; cannot fix)",
)
