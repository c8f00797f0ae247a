"""Reports are renderings of the result records: console summary, JSON, JUnit XML."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from shipyard.run.results import FAILED, PASSED, SKIPPED, Result, summary_table, write_report

RECORDS = [
    Result("a", "lint", PASSED, 0.25, output="All checks passed!\n"),
    Result("a", "test", PASSED, 0.0, "cached (local)", "3 passed\n", cached=True, python="3.11"),
    Result("b", "test", FAILED, 2.5, "`pytest` exited 1", "E   assert 1 == 2\n", python="3.11"),
    Result("b", "test", SKIPPED, reason="no python3.99 found", python="3.99"),
]


def test_json_report(tmp_path: Path) -> None:
    write_report(tmp_path / "out" / "report.json", RECORDS)
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["summary"] == {"passed": 2, "failed": 1, "skipped": 1, "error": 0, "cached": 1, "total": 4}
    assert data["results"][1] == {
        "unit": "a",
        "task": "test",
        "status": "passed",
        "duration": 0.0,
        "reason": "cached (local)",
        "output": "3 passed\n",
        "cached": True,
        "python": "3.11",
        "details": {},
    }


def test_junit_report(tmp_path: Path) -> None:
    write_report(tmp_path / "junit.xml", RECORDS)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert {k: (s.get("tests"), s.get("failures"), s.get("skipped")) for k, s in suites.items()} == {
        "a": ("2", "0", "0"),
        "b": ("2", "1", "1"),
    }
    cases = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert cases == [("a", "lint"), ("a", "test-3.11"), ("b", "test-3.11"), ("b", "test-3.99")]
    failure = root.find(".//testcase[@name='test-3.11'][@classname='b']/failure")
    assert failure is not None and failure.get("message") == "`pytest` exited 1"
    assert failure.text == "E   assert 1 == 2\n"


def test_console_summary() -> None:
    assert summary_table(RECORDS).splitlines() == [
        "unit  task       status           time  note",
        "----  ---------  ---------------  ----",
        "a     lint       passed           0.2s",
        "a     test-3.11  passed (cached)  0.0s  cached (local)",
        "b     test-3.11  failed           2.5s  `pytest` exited 1",
        "b     test-3.99  skipped          0.0s  no python3.99 found",
        "2 passed, 1 failed, 1 skipped (1 from cache)",
    ]
