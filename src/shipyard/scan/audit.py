"""pip-audit: known vulnerabilities in a Python unit's resolved dependencies (its lock's pins).

pip-audit asks a vulnerability service (PyPI's, by default) about every pin. Where that
service cannot be reached, pip-audit skips every package ("could not be audited"): that is
reported as "cannot reach", never as a clean result.
"""

from __future__ import annotations

import json
import re

from shipyard.core.project import Project, Unit
from shipyard.core.registry import Plugin
from shipyard.dependencies import dependency_source
from shipyard.scan.base import CannotReach, Finding, Scanner, tool

_CVSS = re.compile(r"CVSS[^0-9]*([0-9.]+)")


def _applies(project: Project, unit: Unit) -> bool:
    return unit.is_python and dependency_source(project, unit) is not None


def _argv(project: Project, unit: Unit) -> list[str]:
    source = dependency_source(project, unit)
    assert source is not None
    pins = source.install_file()
    return [tool("pip-audit"), "-r", str(pins), "--no-deps", "--disable-pip", "--format", "json", "--progress-spinner",
            "off"]  # fmt: skip


def _parse(output: str, project: Project, unit: Unit) -> list[Finding]:
    if "{" not in output:
        raise CannotReach(output.strip().splitlines()[-1] if output.strip() else "pip-audit printed nothing")
    data = json.loads(output[output.index("{") :])
    deps = data.get("dependencies", [])
    unaudited = [d for d in deps if "could not be audited" in str(d.get("skip_reason", ""))]
    if deps and len(unaudited) == len(deps):
        raise CannotReach("the vulnerability service answered for none of the pins")
    source = dependency_source(project, unit)
    lock = source.rel if source is not None else ""
    return [
        Finding(
            "pip-audit", "high", v["id"], f"{d['name']} {d['version']}: {v.get('description', '')[:200]}".strip(), lock
        )
        for d in deps
        for v in d.get("vulns", [])
    ]


SCANNER = Scanner(
    "pip-audit", "pip-audit", _applies, _argv, _parse, cacheable=False,
    doc="known vulnerabilities of the unit's pinned dependencies (needs the vulnerability service)",
)  # fmt: skip
PLUGIN = Plugin("pip-audit", SCANNER, doc=SCANNER.doc)
