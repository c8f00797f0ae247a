"""Tasks: services, lint, test, ci."""

from __future__ import annotations

import json
from typing import Any

from invoke import task

from shipyard.console import guarded
from shipyard.tasks.common import bound_service, exit_for, project, run_options, selected

SERVICE_HELP = "service or lib name (repeatable); default: all"
RUN_HELP = {
    "service": SERVICE_HELP,
    "jobs": "parallel jobs (default: the core count)",
    "keep-going": "run every task even after a failure (default; --no-keep-going fails fast)",
    "verbose": "stream each tool's output instead of showing it only for failures",
    "report": "write the results to FILE (.json, or JUnit with .xml); repeatable",
}


@task(iterable=["service"], help={"service": SERVICE_HELP, "json": "print JSON instead of a table"})
@guarded
def services(c: Any, service: list[str] | None = None, json_: bool = False) -> None:
    """List discovered services and libs: kind, path, dependencies, Python versions."""
    from shipyard.inventory import describe, table

    rows = [describe(project(), u) for u in selected(c, service)]
    print(json.dumps(rows, indent=2) if json_ else table(rows))


@task(iterable=["service", "report"], help={**RUN_HELP, "fix": "apply ruff's fixes and formatting"})
@guarded
def lint(
    c: Any,
    service: list[str] | None = None,
    fix: bool = False,
    jobs: int = 0,
    keep_going: bool = True,
    verbose: bool = False,
    report: list[str] | None = None,
) -> None:
    """Lint: ruff check + ruff format --check per Python unit."""
    from shipyard.ci import execute
    from shipyard.lint import lint_jobs, workflow_jobs

    proj = project()
    jobs_ = lint_jobs(proj, selected(c, service), fix=fix)
    if not service and not bound_service(c):
        jobs_ = workflow_jobs(proj) + jobs_
    exit_for(execute(proj, jobs_, run_options(jobs, keep_going, verbose, report)))


TEST_HELP = {
    **RUN_HELP,
    "python": "only these Python versions (repeatable), e.g. --python 3.12",
    "strict-python": "a wanted Python version with no interpreter is an error, not a skip",
}


@task(iterable=["service", "python", "report"], help=TEST_HELP)
@guarded
def test(
    c: Any,
    service: list[str] | None = None,
    python: list[str] | None = None,
    strict_python: bool = False,
    jobs: int = 0,
    keep_going: bool = True,
    verbose: bool = False,
    report: list[str] | None = None,
) -> None:
    """Test: each unit's nox sessions, one isolated venv per Python version."""
    from shipyard.ci import execute
    from shipyard.testing import test_jobs

    proj = project()
    jobs_ = test_jobs(proj, selected(c, service), python=python or (), strict=strict_python)
    exit_for(execute(proj, jobs_, run_options(jobs, keep_going, verbose, report)))


@task(iterable=["service", "python", "report"], help=TEST_HELP)
@guarded
def ci(
    c: Any,
    service: list[str] | None = None,
    python: list[str] | None = None,
    strict_python: bool = False,
    jobs: int = 0,
    keep_going: bool = True,
    verbose: bool = False,
    report: list[str] | None = None,
) -> None:
    """Lint and test the selected units, then print a summary; exit 1 when anything failed."""
    from shipyard.ci import ci as run_ci

    proj = project()
    results = run_ci(
        proj,
        selected(c, service),
        run_options(jobs, keep_going, verbose, report),
        python=python or (),
        strict=strict_python,
        workflows=not service and not bound_service(c),
    )
    exit_for(results)


TOP_LEVEL = [services, lint, test, ci]
PER_SERVICE = [lint, test, ci]
