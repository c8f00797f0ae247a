"""Outcomes are data: every unit x task ends as a Result; reports are renderings of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shipyard.core.secrets import redact

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"


@dataclass(frozen=True)
class Result:
    """How one task ended for one unit (and Python version, for tests)."""

    unit: str
    task: str
    status: str
    duration: float = 0.0
    reason: str = ""
    output: str = ""
    cached: bool = False
    python: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in (PASSED, SKIPPED)

    @property
    def label(self) -> str:
        return f"{self.task}-{self.python}" if self.python else self.task


def failed(results: Sequence[Result]) -> list[Result]:
    return [r for r in results if not r.ok]


def summary_table(results: Sequence[Result]) -> str:
    """A plain-text table, one row per result, then a count line."""
    rows = [("unit", "task", "status", "time", "note")]
    for r in results:
        status = r.status + (" (cached)" if r.cached else "")
        rows.append((r.unit, r.label, status, f"{r.duration:.1f}s", r.reason))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return redact("\n".join(line.rstrip() for line in lines) + "\n" + count_line(results))


def count_line(results: Sequence[Result]) -> str:
    counts = {s: sum(r.status == s for r in results) for s in (PASSED, FAILED, SKIPPED, ERROR)}
    cached = sum(r.cached for r in results)
    text = f"{counts[PASSED]} passed, {counts[FAILED] + counts[ERROR]} failed, {counts[SKIPPED]} skipped"
    return text + (f" ({cached} from cache)" if cached else "")


def counts(results: Sequence[Result]) -> dict[str, int]:
    """How many results ended in each status, and how many came from the cache."""
    found = {s: sum(r.status == s for r in results) for s in (PASSED, FAILED, SKIPPED, ERROR)}
    return {**found, "cached": sum(r.cached for r in results), "total": len(results)}


def to_json(results: Sequence[Result]) -> str:
    """``{"summary": counts, "results": [every record]}``."""
    data = {"summary": counts(results), "results": [_without_junit(asdict(r)) for r in results]}
    # default=str: a Sensitive value in details renders as [REDACTED]
    return redact(json.dumps(data, indent=2, sort_keys=True, default=str))


def _without_junit(record: dict[str, Any]) -> dict[str, Any]:
    """A result for the JSON report: pytest's JUnit XML is for the JUnit report only."""
    record["details"] = {k: v for k, v in record["details"].items() if k != "junit"}
    return record


def to_junit(results: Sequence[Result]) -> str:
    """JUnit XML: one testsuite per unit, one testcase per task; a test task that ran pytest
    contributes pytest's own cases instead (one per test, named ``<unit> <python>: <test>``)."""
    from xml.etree import ElementTree as ET  # only when a JUnit report is asked for

    suites = ET.Element("testsuites")
    by_unit: dict[str, list[Result]] = {}
    for r in results:
        by_unit.setdefault(r.unit, []).append(r)
    for unit, rs in by_unit.items():
        suite = ET.SubElement(suites, "testsuite", name=unit, time=f"{sum(r.duration for r in rs):.3f}")
        for r in rs:
            if _pytest_cases(suite, unit, r):
                continue
            case = ET.SubElement(suite, "testcase", classname=unit, name=r.label, time=f"{r.duration:.3f}")
            if r.status in (FAILED, ERROR):
                node = ET.SubElement(case, "failure" if r.status == FAILED else "error", message=r.reason)
                node.text = r.output
            elif r.status == SKIPPED:
                ET.SubElement(case, "skipped", message=r.reason)
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        for count, child in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            suite.set(count, str(sum(c.find(child) is not None for c in cases)))
    return redact(ET.tostring(suites, encoding="unicode"))


def _pytest_cases(suite: Any, unit: str, result: Result) -> bool:
    """Add the test cases of ``result``'s pytest JUnit XML to ``suite``; False when it has none."""
    from xml.etree import ElementTree as ET

    text = result.details.get("junit")
    if not isinstance(text, str):
        return False
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return False
    cases = list(root.iter("testcase"))
    if not cases:
        return False
    for case in cases:
        case.set("classname", f"{unit}.{result.label}.{case.get('classname', '')}".rstrip("."))
        suite.append(case)
    return True


def write_report(path: Path, results: Sequence[Result]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".sarif":
        from shipyard.scan.sarif import to_sarif  # the scan findings, for code scanning

        text = to_sarif(results)
    else:
        text = to_junit(results) if path.suffix == ".xml" else to_json(results)
    path.write_text(text + "\n", encoding="utf-8")
