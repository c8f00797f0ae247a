"""The dependency-source registry: the lock files a unit's pins can come from.

Adding a reader is one module with a :class:`~shipyard.dependencies.base.Reader` and one line
below; the unit key ``dependencies`` takes its choices from this registry. Order matters only
when a unit has several sources that agree: the first one here is used.

:func:`dependency_source` is the one entry point: a unit's :class:`Source`, whose
``pins_text()`` is what its test venv (and a hermetic image) installs and what keys hash, and
whose ``has_hashes`` says installs may use ``--require-hashes``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core.errors import ConfigError, did_you_mean
from shipyard.core.registry import Plugin, Registry
from shipyard.dependencies import poetry, requirements, uv
from shipyard.dependencies.base import Pins, Reader, parse_pins

if TYPE_CHECKING:
    from shipyard.core.project import Project, Unit

WORKSPACE = "workspace"  # capability: its lock may be a workspace's, in a folder above the unit
SOURCES: Registry[Reader] = Registry(
    "dependency source",
    [
        Plugin(uv.READER.name, uv.READER, capabilities=frozenset({WORKSPACE}), doc=uv.READER.doc),
        Plugin(poetry.READER.name, poetry.READER, doc=poetry.READER.doc),
        Plugin(requirements.LOCK.name, requirements.LOCK, doc=requirements.LOCK.doc),
        Plugin(requirements.TXT.name, requirements.TXT, doc=requirements.TXT.doc),
    ],
    {WORKSPACE: "its lock may be a workspace's, in a folder above the unit (uv's workspace lock)"},
)
READERS = SOURCES.implementations()  # name -> Reader, in registry order
PINS_DIR = "pins"  # in .shipyard: exported pins, keyed by what they were exported from
_MEMO: dict[str, Pins] = {}


@dataclass(frozen=True)
class Source:
    """A unit's dependency source: the reader and the lock file it reads."""

    reader: Reader
    root: Path
    unit: Unit
    lock: Path

    @property
    def rel(self) -> str:
        """The lock's path from the repository root."""
        return self.lock.relative_to(self.root).as_posix()

    @property
    def inside_unit(self) -> bool:
        return self.lock.parent == self.root / self.unit.path

    def pins(self, *, dev: bool = False) -> Pins:
        """The pins (``dev``: with the test/dev groups the lock holds), exported once per lock content."""
        if self.reader.export is None:
            return parse_pins(self.lock.read_text(encoding="utf-8"))
        path = self._export_file(dev)
        key = str(path)
        if key not in _MEMO:
            if not path.is_file():
                _write(path, self.reader.export(self.root, self.unit, self.lock, dev))
            _MEMO[key] = parse_pins(path.read_text(encoding="utf-8"))
        return _MEMO[key]

    def pins_text(self, *, dev: bool = False) -> str:
        return self.pins(dev=dev).text

    @property
    def has_hashes(self) -> bool:
        """Every runtime pin has a ``--hash``: pip can install them with ``--require-hashes``."""
        return self.pins().hashed

    def install_file(self, *, dev: bool = False) -> Path:
        """A requirements file holding the pins, for ``pip install -r``: the lock itself when
        it is one, else the export (under .shipyard/pins)."""
        if self.reader.export is None:
            return self.lock
        self.pins(dev=dev)
        return self._export_file(dev)

    def _export_file(self, dev: bool) -> Path:
        from shipyard.core.workdir import STATE_DIR

        digest = hashlib.sha256(f"{self.reader.name}\0{self.rel}\0{self.unit.path}\0{dev}\0".encode())
        digest.update(self.lock.read_bytes())
        member = self.root / self.unit.path / "pyproject.toml"
        digest.update(member.read_bytes() if member.is_file() else b"")
        return self.root / STATE_DIR / PINS_DIR / f"{digest.hexdigest()[:32]}.txt"


def _write(path: Path, text: str) -> None:
    from shipyard.core.workdir import shipyard_dir

    shipyard_dir(path.parent.parent.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)  # a parallel job exporting the same pins writes the same text


def found_sources(root: Path, folder: Path) -> list[tuple[Reader, Path]]:
    """Every reader's lock for the unit in ``folder``, in registry order (no export run), less
    a requirements file that another's header says it was compiled from (its input, not a rival)."""
    found = [(reader, lock) for reader in READERS.values() if (lock := reader.find(root, folder)) is not None]
    inputs = set()
    for reader, lock in found:
        if reader.export is None:
            head = requirements.header(lock.read_text(encoding="utf-8", errors="replace"))
            inputs |= {os.path.normpath(lock.parent / name) for name in head.inputs}
    return [(reader, lock) for reader, lock in found if os.path.normpath(lock) not in inputs]


def dependency_source(project: Project, unit: Unit) -> Source | None:
    """The unit's dependency source; None when it has no lock (its pyproject's own ranges).

    Several sources are fine when they agree (a requirements.txt exported from uv.lock); when
    two pin one package differently, that is an error naming both and the key that chooses.
    """
    if not unit.is_python:
        return None
    chosen = unit.settings.get("dependencies", "")
    if chosen:
        return _named(project, unit, chosen)
    found = found_sources(project.root, project.root / unit.path)
    sources = [Source(reader, project.root, unit, lock) for reader, lock in found]
    for other in sources[1:]:
        _check_agree(sources[0], other)
    return sources[0] if sources else None


def _check_agree(first: Source, other: Source) -> None:
    mine, theirs = first.pins().versions, other.pins().versions
    for name in sorted(mine.keys() & theirs.keys()):
        if mine[name] != theirs[name]:
            raise ConfigError(
                f"{first.unit.path}: {first.rel} and {other.rel} disagree: {name} is {mine[name]} in "
                f"{first.reader.name} but {theirs[name]} in {other.reader.name}",
                hint=f'choose the source: set `dependencies = "{first.reader.name}"` (or "{other.reader.name}") '
                f"in {_table(first.unit)}, or re-export the other one from it",
            )


def _table(unit: Unit) -> str:
    return f"the [tool.shipyard] table of {unit.source}" if unit.source.endswith("pyproject.toml") else unit.source


def reader_for(name: str) -> Reader | None:
    """The reader a ``dependencies`` value names: a reader's name, or a file one recognises."""
    return READERS.get(name) or next((r for r in READERS.values() if r.matches(name)), None)


def _named(project: Project, unit: Unit, chosen: str) -> Source:
    reader = reader_for(chosen)
    assert reader is not None  # checked when the project was loaded (check_keys)
    folder = project.root / unit.path
    lock = folder / chosen if chosen not in READERS else reader.find(project.root, folder)
    if lock is None or not lock.is_file():
        raise ConfigError(
            f"{unit.source}: dependencies = {chosen!r}, but {unit.path} has no {chosen}"
            + (" (nor a workspace one above it)" if SOURCES.can(reader.name, WORKSPACE) else ""),
            hint="create it, or name a source the unit has: "
            + (", ".join(r.name for r, _ in found_sources(project.root, folder)) or "none found"),
        )
    return Source(reader, project.root, unit, lock)


def check_keys(units: Iterable[Unit]) -> None:
    """Each unit's ``dependencies`` value names a reader of this registry (did-you-mean otherwise)."""
    for unit in units:
        value = unit.settings.get("dependencies", "")
        if value and reader_for(value) is None:
            prefix = "tool.shipyard." if unit.source.endswith("pyproject.toml") else ""
            known = dict.fromkeys(p for r in READERS.values() for p in (r.name, *r.patterns))
            raise ConfigError(
                f"{unit.source}: {prefix}dependencies: {value!r} is not a dependency source"
                + did_you_mean(value, READERS),
                hint="one of: " + ", ".join(known),
            )


def describe(root: Path, folder: Path) -> str:
    """What ``shipyard init`` says about a unit's dependencies (no export run)."""
    found = found_sources(root, folder)
    if not found:
        return "pyproject.toml (not pinned)" if (folder / "pyproject.toml").is_file() else "none"
    reader, lock = found[0]
    text = reader.name if lock.parent == folder else f"{lock.relative_to(root).as_posix()} (workspace)"
    if reader.tool:
        text += f" via {reader.tool} export"
    elif (head := requirements.header(lock.read_text(encoding="utf-8", errors="replace"))).tool:
        text += f" ({head.tool}{', hashes' if parse_pins(lock.read_text(encoding='utf-8')).hashed else ''})"
    others = [r.name for r, _ in found[1:]]
    if others:
        text += f"; also {', '.join(others)} (must agree, or set `dependencies`)"
    return text


__all__ = [
    "READERS",
    "SOURCES",
    "WORKSPACE",
    "Reader",
    "Source",
    "check_keys",
    "dependency_source",
    "describe",
    "found_sources",
]
