"""What a scanner is, and what it finds.

A scanner looks at one unit (its code, its committed files, its Dockerfile, its resolved
dependencies) with a real tool and reports :class:`Finding` values. Each scanner module has
a ``PLUGIN`` (see shipyard.core.registry) whose implementation is a :class:`Scanner`; the
registry line in ``shipyard/scan/__init__.py`` is all that adding one takes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.core.config import SCAN_FAIL_ON, SEVERITIES
from shipyard.core.project import Project, Unit

__all__ = ["SEVERITIES", "CannotReach", "Finding", "Scanner", "fail_on"]  # SEVERITIES: from config


def fail_on(environment: Mapping[str, Any]) -> str:
    """The environment's ``scan-fail-on``: findings at or above it fail."""
    return str(environment.get("scan-fail-on") or SCAN_FAIL_ON)


@dataclass(frozen=True)
class Finding:
    """One issue a scanner found; ``file`` is relative to the repository root ("" for none)."""

    scanner: str
    severity: str  # one of SEVERITIES
    rule: str
    message: str
    file: str = ""
    line: int = 0

    def at_least(self, threshold: str) -> bool:
        return SEVERITIES.index(self.severity) >= SEVERITIES.index(threshold)

    def line_text(self) -> str:
        where = f"{self.file}:{self.line or 1}: " if self.file else ""
        return f"{where}[{self.scanner} {self.rule} {self.severity}] {self.message}"


class CannotReach(Exception):
    """The scanner's service (a vulnerability database) could not be reached: nothing was judged."""


@dataclass(frozen=True)
class Scanner:
    """One tool. ``argv`` is its command for a unit, run from the repository root; ``parse``
    turns its output into findings (raising CannotReach when it judged nothing)."""

    name: str
    dist: str  # the distribution whose version enters the cache key
    applies: Callable[[Project, Unit], bool]
    argv: Callable[[Project, Unit], Sequence[str]]
    parse: Callable[[str, Project, Unit], list[Finding]]
    ok_codes: tuple[int, ...] = (0, 1)  # exit statuses that mean "ran" (findings or none)
    cacheable: bool = True  # False when the verdict changes without the inputs changing (a live database)
    doc: str = ""


def tool(name: str) -> str:
    """``name`` next to this Python (the venv shipyard runs in), else from PATH."""
    import shutil
    import sys
    from pathlib import Path

    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)
