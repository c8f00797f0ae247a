"""Declared outputs: what a unit's tests write is kept with the cached result and put back on a hit."""

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
