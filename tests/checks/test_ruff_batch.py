"""One ruff run for many units, with every finding attributed to its unit."""

from __future__ import annotations

from pathlib import Path

from shipyard.checks.ruff_batch import run_batch
from shipyard.ci.lint import batched, lint_jobs
from shipyard.core.project import load_project
from shipyard.run.jobs import Batch
from shipyard.run.results import FAILED, PASSED
from tests.helpers import write


def test_lint_jobs_are_merged_into_one_batch(repo: Path) -> None:
    write(repo / "services" / "site" / "shipyard.toml", 'kind = "static"\nlint = ["true"]\n')
    project = load_project(repo)
    items = batched(project, lint_jobs(project, project.select([])))
    assert isinstance(items[0], Batch)
    assert [j.unit for j in items[0].jobs] == ["a", "b", "core"]
    assert [getattr(i, "unit", None) for i in items[1:]] == ["site"]  # its own linter, not ruff
    assert batched(project, lint_jobs(project, project.select(["a"]))) == lint_jobs(project, project.select(["a"]))
    assert not any(j.batch for j in lint_jobs(project, project.select([]), fix=True))


def test_findings_are_attributed_to_their_units(repo: Path) -> None:
    write(repo / "services" / "a" / "src" / "a" / "bad.py", "import os\n")
    write(repo / "libs" / "core" / "src" / "core" / "ugly.py", "x=1\n")
    project = load_project(repo)
    jobs = lint_jobs(project, project.select([]))
    results = {r.unit: r for r in run_batch(project, jobs)}
    assert results["b"].status == PASSED
    assert results["a"].status == FAILED
    assert results["a"].reason == "1 ruff finding(s)"
    assert "services/a/src/a/bad.py:1:8: F401 [*] `os` imported but unused" in results["a"].output
    assert results["core"].reason == "1 file(s) not formatted"
    assert results["core"].output == "Would reformat: libs/core/src/core/ugly.py\n"
    assert {r.details["batch"] for r in results.values()} == {3}


def test_per_unit_ruff_config_still_applies(repo: Path) -> None:
    pyproject = repo / "services" / "b" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.ruff]\nlint.ignore = ["F401"]\n')
    write(repo / "services" / "b" / "src" / "b" / "imports.py", "import os\n")
    write(repo / "services" / "a" / "src" / "a" / "imports.py", "import os\n")
    project = load_project(repo)
    results = {r.unit: r for r in run_batch(project, lint_jobs(project, project.select(["a", "b"])))}
    assert results["b"].status == PASSED  # its own [tool.ruff] ignores F401
    assert results["a"].status == FAILED


def test_a_file_ruff_cannot_parse_falls_back_to_per_unit_runs(repo: Path) -> None:
    write(repo / "services" / "a" / "src" / "a" / "broken.py", "def f(:\n")
    project = load_project(repo)
    results = {r.unit: r for r in run_batch(project, lint_jobs(project, project.select([])))}
    assert results["a"].status == FAILED
    assert "broken.py" in results["a"].output
    assert results["b"].status == PASSED and "batch" not in results["b"].details
