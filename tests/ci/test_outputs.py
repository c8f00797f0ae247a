"""Declared outputs: what a unit's tests write is kept with the cached result and put back on a hit;
and pytest's own JUnit cases, in shipyard's JUnit report from a run and from the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import git, python_unit, run_invoke, write

WRITES = """\
from pathlib import Path


def test_it():
    Path("report.xml").write_text("<coverage line-rate='1'/>")
    Path("htmlcov").mkdir(exist_ok=True)
    Path("htmlcov/index.html").write_text("<h1>100%</h1>")
"""


@pytest.fixture
def outputs_repo(repo: Path) -> Path:
    python_unit(repo, "services/b", "b", extra_table='outputs = ["report.xml", "htmlcov/"]')
    write(repo / "services" / "b" / "tests" / "test_b.py", WRITES)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "b writes a report")
    return repo


def results(repo: Path, *args: str) -> dict[str, dict[str, object]]:
    report = repo.parent / "report.json"
    done = run_invoke(repo, "test", "-s", "b", "--report", str(report), *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return {r["unit"]: r for r in json.loads(report.read_text())["results"]}


def test_a_cached_test_run_puts_its_declared_outputs_back(outputs_repo: Path) -> None:
    unit = outputs_repo / "services" / "b"
    assert results(outputs_repo)["b"]["cached"] is False
    assert (unit / "report.xml").read_text() == "<coverage line-rate='1'/>"
    # the files the tests wrote are not inputs: the next run is a hit, and it restores them
    (unit / "report.xml").unlink()
    (unit / "htmlcov" / "index.html").write_text("stale")
    assert results(outputs_repo)["b"]["cached"] is True
    assert (unit / "report.xml").read_text() == "<coverage line-rate='1'/>"
    assert (unit / "htmlcov" / "index.html").read_text() == "<h1>100%</h1>"


def test_an_entry_without_the_outputs_is_a_miss(outputs_repo: Path) -> None:
    results(outputs_repo)
    (entry,) = (outputs_repo / ".shipyard" / "cache" / "test").rglob("*.json")
    record = json.loads(entry.read_text())
    del record["outputs"]  # as an older shipyard wrote it
    entry.write_text(json.dumps(record))
    assert results(outputs_repo)["b"]["cached"] is False  # run again, not "passed (cached)" without the files


def test_an_output_the_tests_never_write_is_a_warning(repo: Path) -> None:
    python_unit(repo, "services/b", "b", extra_table='outputs = ["coverage.xml"]')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "b declares coverage.xml")
    done = run_invoke(repo, "test", "-s", "b")
    assert done.returncode == 0
    assert "warning: b: declared outputs not written by its tests: coverage.xml" in done.stderr


def test_an_output_outside_the_unit_is_a_config_error(repo: Path) -> None:
    python_unit(repo, "services/b", "b", extra_table='outputs = ["../a/x.xml"]')
    done = run_invoke(repo, "test", "-s", "b")
    assert done.returncode == 1
    assert "outputs: '../a/x.xml' is not a path inside services/b" in done.stderr


TWO_TESTS = "def test_one():\n    assert True\n\n\ndef test_two():\n    assert 1 == 2, 'two is broken'\n"


def junit_cases(repo: Path, *args: str) -> tuple[int, list[tuple[str, str, bool]]]:
    import xml.etree.ElementTree as ET

    report = repo.parent / "junit.xml"
    done = run_invoke(repo, "test", "-s", "b", "--report", str(report), *args)
    root = ET.parse(report).getroot()
    cases = [(c.get("classname", ""), c.get("name", ""), c.find("failure") is not None) for c in root.iter("testcase")]
    return done.returncode, cases


def test_the_junit_report_has_a_case_per_test_also_from_the_cache(repo: Path) -> None:
    write(repo / "services" / "b" / "tests" / "test_b.py", TWO_TESTS)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "b has two tests")
    code, cases = junit_cases(repo)
    assert code == 1
    assert [(name, failed) for _, name, failed in cases] == [("test_one", False), ("test_two", True)]
    assert all(classname.startswith("b.test-3.11.") for classname, _, _ in cases)
    write(repo / "services" / "b" / "tests" / "test_b.py", TWO_TESTS.replace("1 == 2", "2 == 2"))
    assert junit_cases(repo)[0] == 0
    code, cases = junit_cases(repo)  # all cached now: pytest's cases come from the cache entry
    assert code == 0 and [name for _, name, _ in cases] == ["test_one", "test_two"]
    rows = results(repo)  # the JSON report leaves pytest's XML out
    assert "junit" not in rows["b"]["details"]  # type: ignore[operator]
