"""bandit: security issues in a Python unit's code (hard-coded passwords, shell injection, ...)."""

from __future__ import annotations

import json

from shipyard.core.project import Project, Unit
from shipyard.core.registry import Plugin
from shipyard.scan.base import Finding, Scanner, tool

_SKIP = ".venv,.nox,node_modules,.shipyard,build,dist"


def _argv(project: Project, unit: Unit) -> list[str]:
    excluded = ",".join(f"{unit.path}/{d}" for d in _SKIP.split(","))
    return [tool("bandit"), "-r", unit.path, "-f", "json", "-q", "-x", f"{excluded},{unit.path}/tests"]


def _parse(output: str, project: Project, unit: Unit) -> list[Finding]:
    data = json.loads(output[output.index("{") :])
    return [
        Finding("bandit", r["issue_severity"].lower(), r["test_id"], r["issue_text"], r["filename"], r["line_number"])
        for r in data.get("results", [])
    ]


SCANNER = Scanner(
    "bandit", "bandit", lambda p, u: u.is_python, _argv, _parse, doc="security issues in a Python unit's code"
)
PLUGIN = Plugin("bandit", SCANNER, doc=SCANNER.doc)
