"""Declared task outputs: what a unit's tests write (``outputs = ["coverage.xml", "htmlcov/"]``),
kept with the cached result and put back when the result is a cache hit.

Without this a cached test run restores nothing, so a step after `invoke ci` that uploads
`coverage.xml` fails on every run that had nothing to test again. The outputs travel inside
the result's cache entry (a gzipped tar, base64), so an entry and its outputs are written
and read together: a hit whose entry lacks them (written before they were declared) is a
miss, never a "passed (cached)" with the files missing. Paths are relative to the unit's
directory and must stay inside it; declared outputs are never inputs of the unit's keys.
"""

from __future__ import annotations

import base64
import io
import os
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core.errors import ConfigError

if TYPE_CHECKING:  # project.py checks declared outputs when it loads: no import back at run time
    from shipyard.core.project import Project, Unit

LIMIT = 50 * 1024 * 1024  # bytes of packed outputs kept in one cache entry


def declared(unit: Unit) -> list[str]:
    return [str(p) for p in unit.settings.get("outputs", [])]


def check(unit: Unit) -> None:
    """Each declared output is a relative path inside the unit."""
    for path in declared(unit):
        norm = os.path.normpath(path)
        if os.path.isabs(path) or norm == ".." or norm.startswith(".." + os.sep) or norm == ".":
            raise ConfigError(
                f"{unit.source}: outputs: {path!r} is not a path inside {unit.path}",
                hint='name files or folders relative to the unit, e.g. outputs = ["coverage.xml", "htmlcov/"]',
            )


def is_output(unit: Unit, rel: str) -> bool:
    """Whether ``rel`` (relative to the repository root) is one of ``unit``'s declared outputs."""
    for path in declared(unit):
        out = f"{unit.path}/{os.path.normpath(path)}".replace(os.sep, "/")
        if rel == out or rel.startswith(out + "/"):
            return True
    return False


def pack(project: Project, unit: Unit) -> tuple[str, list[str]]:
    """The unit's declared outputs as text for a cache entry, and those that were not written."""
    folder = project.root / unit.path
    buffer, missing = io.BytesIO(), []
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in declared(unit):
            found = folder / path
            if found.exists():
                tar.add(found, arcname=os.path.normpath(path))
            else:
                missing.append(path)
    data = buffer.getvalue()
    if len(data) > LIMIT:
        return "", [f"{', '.join(declared(unit))} (over {LIMIT // 2**20} MiB packed: not cached)"]
    return base64.b64encode(data).decode("ascii"), missing


def unpack(project: Project, unit: Unit, text: str) -> None:
    """Put the outputs of a cache entry back in the unit's directory (a folder is replaced whole)."""
    folder = (project.root / unit.path).resolve()
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(text)), mode="r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            target = (folder / member.name).resolve()
            if not target.is_relative_to(folder) or member.issym() or member.islnk():
                raise ConfigError(f"{unit.name}: a cached output would be written outside {unit.path}: {member.name}")
        for path in declared(unit):
            _remove(folder / path)
        if hasattr(tarfile, "data_filter"):  # Python 3.12+ and the 3.10/3.11 security releases
            tar.extractall(folder, members=members, filter="data")
        else:  # every member was checked above
            tar.extractall(folder, members=members)


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
