"""What a dependency source is: a lockfile reader, and the pins it reads for one unit.

A reader recognises a file (``uv.lock``, ``poetry.lock``, ``requirements.lock``,
``requirements*.txt``), finds the one a unit uses, and turns it into pip's requirements
format (its *pins*): a requirements file as it is, a ``uv.lock`` or ``poetry.lock`` through
the tool's own export. The pins, not the raw lock, are what keys and venv stamps hash, so a
workspace ``uv.lock`` edit that touches another member changes nothing here.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipyard.core.errors import ShipyardError
    from shipyard.core.project import Unit

TEST_GROUPS = ("test", "tests", "dev")  # the groups that hold a unit's test tools (PEP 735 or Poetry's)


@dataclass(frozen=True)
class Reader:
    """One kind of lock file. ``export`` is None when the file is already a requirements file.

    ``find(root, folder)`` returns the lock the unit in ``folder`` uses (a workspace lock may
    live above it); ``export(root, unit, lock, dev)`` returns its pins (``dev``: with the test
    and dev groups), hashes included when the lock has them.
    """

    name: str
    patterns: tuple[str, ...]  # the file names (globs) it recognises, for the `dependencies` key
    find: Callable[[Path, Path], Path | None]
    export: Callable[[Path, Unit, Path, bool], str] | None = None
    tool: str = ""  # the executable its export runs
    doc: str = ""

    def matches(self, name: str) -> bool:
        from fnmatch import fnmatchcase

        return any(fnmatchcase(name, pattern) for pattern in self.patterns)


@dataclass(frozen=True)
class Pins:
    """The pins of a source in requirements format, and what they say."""

    text: str
    versions: dict[str, str] = field(default_factory=dict)  # normalised name -> == version
    unpinned: tuple[str, ...] = ()  # requirements without an exact == pin
    hashed: bool = False  # every requirement has a --hash: installs use --require-hashes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


_NAME = re.compile(r"[-_.]+")
_OPTIONS = re.compile(r"\s--[a-z]")  # where per-requirement options (--hash=...) begin


def normalise(name: str) -> str:
    return _NAME.sub("-", name).lower()


def parse_pins(text: str) -> Pins:
    """What a requirements text pins: each ``name==version``, and whether every line is hashed."""
    from shipyard.images.wheels import logical_lines

    versions: dict[str, str] = {}
    unpinned: list[str] = []
    hashed = True
    count = 0
    for _number, line in logical_lines(text):
        if line.startswith("-"):
            continue  # an option line (-r, --index-url, -e ...): not a pin
        count += 1
        match = _OPTIONS.search(line)
        spec, options = (line[: match.start()], line[match.start() :]) if match else (line, "")
        hashed = hashed and "--hash" in options
        name, version = _exact_pin(spec)
        if version:
            versions[normalise(name)] = version
        else:
            unpinned.append(spec.strip())
    return Pins(text, versions, tuple(unpinned), hashed and count > 0)


def _exact_pin(spec: str) -> tuple[str, str]:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(spec)
    except InvalidRequirement:
        return spec.strip(), ""
    clauses = list(req.specifier)
    if len(clauses) == 1 and clauses[0].operator in ("==", "==="):
        return req.name, clauses[0].version
    return req.name, ""


def run_export(argv: list[str], folder: Path, root: Path, failed: Callable[[str], ShipyardError]) -> str:
    """Run a lock tool's export in ``folder``: its requirement lines, without the directories
    shipyard installs itself; a failure is ``failed(what the tool said)``, raised."""
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise failed((done.stderr + done.stdout).strip() or f"exit status {done.returncode}")
    return "".join(f"{line}\n" for line in done.stdout.splitlines() if not local_path_line(line, root))


def local_path_line(line: str, root: Path) -> bool:
    """Whether an exported line installs a directory (a workspace member or path dependency):
    shipyard installs those itself, editable, and their absolute paths must not enter a key."""
    stripped = line.strip()
    if stripped.startswith("-e ") or stripped.startswith(("./", "../", "/", "file:")):
        return True
    return " @ file:" in stripped or "@file:" in stripped
