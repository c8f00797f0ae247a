"""detect-secrets: credentials committed in any of a unit's tracked files."""

from __future__ import annotations

import json

from shipyard.core.fingerprint import tracked_files, unit_files
from shipyard.core.project import Project, Unit
from shipyard.core.registry import Plugin
from shipyard.scan.base import Finding, Scanner, tool


def _argv(project: Project, unit: Unit) -> list[str]:
    files = [p for p, _ in unit_files(tracked_files(project.root), unit)]
    return [tool("detect-secrets"), "scan", *files]


def _parse(output: str, project: Project, unit: Unit) -> list[Finding]:
    data = json.loads(output[output.index("{") :])
    return [
        Finding(
            "detect-secrets",
            "high",
            s["type"].replace(" ", "-").lower(),
            f"a {s['type']} is committed",
            path,
            int(s.get("line_number", 0)),
        )
        for path, found in sorted(data.get("results", {}).items())
        for s in found
    ]


SCANNER = Scanner(
    "detect-secrets", "detect-secrets", lambda p, u: True, _argv, _parse, ok_codes=(0,),
    doc="credentials committed in the unit's files",
)  # fmt: skip
PLUGIN = Plugin("detect-secrets", SCANNER, doc=SCANNER.doc)
