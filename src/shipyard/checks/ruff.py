"""ruff check and ruff format, batched over every unit that uses only (shipyard's) ruff."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from shipyard.checks.base import Check


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
    doc="ruff check + ruff format --check",
)
