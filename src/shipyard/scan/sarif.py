"""Scan findings as SARIF 2.1.0 (what GitHub code scanning uploads), from the scan results' output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from shipyard.scan.base import Finding

_LINE = re.compile(
    r"^(?:(?P<file>[^:\s]+):(?P<line>\d+): )?\[(?P<scanner>\S+) (?P<rule>\S+) (?P<severity>\w+)\] (?P<msg>.*)$"
)
_LEVEL = {"low": "note", "medium": "warning", "high": "error", "critical": "error"}


def findings_in(output: str) -> list[Finding]:
    """The findings a scan result's output lists (see shipyard.scan.run)."""
    found = []
    for line in output.splitlines():
        if m := _LINE.match(line.strip()):
            found.append(
                Finding(m["scanner"], m["severity"], m["rule"], m["msg"], m["file"] or "", int(m["line"] or 0))
            )
    return found


def to_sarif(results: Iterable[Any]) -> str:
    """One SARIF run per scanner that reported anything, every finding a result."""
    by_scanner: dict[str, list[Finding]] = {}
    for result in results:
        if str(getattr(result, "task", "")).startswith("scan-"):
            for finding in findings_in(str(getattr(result, "output", ""))):
                by_scanner.setdefault(finding.scanner, []).append(finding)
    runs = [_run(name, found) for name, found in sorted(by_scanner.items())]
    doc = {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": runs}
    return json.dumps(doc, indent=2)


def _run(scanner: str, findings: Sequence[Finding]) -> dict[str, Any]:
    rules = sorted({f.rule for f in findings})
    return {
        "tool": {"driver": {"name": scanner, "rules": [{"id": r} for r in rules]}},
        "results": [
            {
                "ruleId": f.rule,
                "level": _LEVEL.get(f.severity, "warning"),
                "message": {"text": f.message},
                "properties": {"severity": f.severity},
                "locations": [
                    {"physicalLocation": {"artifactLocation": {"uri": f.file}, "region": {"startLine": f.line or 1}}}
                ]
                if f.file
                else [],
            }
            for f in findings
        ],
    }
