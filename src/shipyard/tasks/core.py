"""Tasks: services, lint, test, ci, scan."""

from __future__ import annotations

import json
from typing import Any

from invoke.tasks import task

from shipyard.cli.console import guarded
from shipyard.core.errors import ShipyardError
from shipyard.tasks.common import NONE, bound_service, exit_for, project, run_options, selected, working_files

SERVICE_HELP = "service or lib name (repeatable); default: all"
RUN_HELP = {
    "service": SERVICE_HELP,
    "jobs": "parallel jobs (default: the core count)",
    "keep-going": "run every task even after a failure (default; --no-keep-going fails fast)",
    "verbose": "stream each tool's output instead of showing it only for failures",
    "report": "write the results to FILE (.json, or JUnit with .xml); repeatable",
    "since": "only the units affected by changes since this git ref (e.g. origin/main)",
    "cache": "use cached results (default; --no-cache runs everything, still storing passes)",
    "replay": "print the captured output of cached results too",
}


@task(iterable=["service"], help={"service": SERVICE_HELP, "json": "print JSON instead of a table"})
@guarded
def services(c: Any, service: list[str] | None = None, json_: bool = False) -> None:
    """List discovered services and libs: kind, path, dependencies, Python versions;
    and the matched directories that are not units, with why."""
    from shipyard.cli.inventory import describe, describe_skipped, table

    proj = project()
    rows = [describe(proj, u) for u in selected(c, service)]
    if not service and not bound_service(c):
        rows += [describe_skipped(s) for s in proj.skipped]
    print(json.dumps(rows, indent=2) if json_ else table(rows))


@task(iterable=["service", "report"], help={**RUN_HELP, "fix": "apply ruff's fixes and formatting"})
@guarded
def lint(
    c: Any,
    service: list[str] | None = None,
    fix: bool = False,
    since: str = "",
    jobs: int = NONE,
    keep_going: bool = True,
    verbose: bool = False,
    report: list[str] | None = None,
    cache: bool = True,
    replay: bool = False,
) -> None:
    """Lint: each Python unit's checks (ruff by default; flake8, black, isort, mypy, pylint, command:...)."""
    from shipyard.ci.pipeline import lint as run_lint

    options = run_options(jobs, keep_going, verbose, report, cache=cache, replay=replay)
    units = selected(c, service, since=since)
    workflows = not service and not bound_service(c)
    exit_for(run_lint(project(), units, options, fix=fix, workflows=workflows, files=working_files()))


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
    since: str = "",
    jobs: int = NONE,
    keep_going: bool = True,
    verbose: bool = False,
    report: list[str] | None = None,
    cache: bool = True,
    replay: bool = False,
) -> None:
    """Test: each unit's nox sessions, one isolated venv per Python version."""
    from shipyard.ci.pipeline import test as run_test

    options = run_options(jobs, keep_going, verbose, report, cache=cache, replay=replay)
    units = selected(c, service, since=since)
    exit_for(run_test(project(), units, options, python=python or (), strict=strict_python, files=working_files()))


CI_HELP = {
    **TEST_HELP,
    "images": "build the images of the services that have one and the static sites (default; --no-images skips them)",
    "push": "also push the images (needs --env)",
    "scan": "also run invoke scan's scanners, at --env's scan-fail-on (default: default-environment's); their"
    " passes are recorded for require-scan",
    "env": "the environment whose registry --push pushes to (and whose scan-fail-on --scan applies)",
}


@task(iterable=["service", "python", "report"], help=CI_HELP)
@guarded
def ci(
    c: Any,
    service: list[str] | None = None,
    python: list[str] | None = None,
    strict_python: bool = False,
    jobs: int = NONE,
    keep_going: bool = True,
    verbose: bool = False,
    report: list[str] | None = None,
    images: bool = True,
    push: bool = False,
    scan: bool = False,
    env: str = "",
    since: str = "",
    cache: bool = True,
    replay: bool = False,
) -> None:
    """Lint and test the selected units, then print a summary; exit 1 when anything failed."""
    from shipyard.ci.pipeline import ci as run_ci

    proj = project()
    threshold = _scan_threshold(proj, env) if scan else ""
    results = run_ci(
        proj,
        selected(c, service, since=since),
        run_options(jobs, keep_going, verbose, report, cache=cache, replay=replay),
        python=python or (),
        strict=strict_python,
        workflows=not service and not bound_service(c),
        images=images,
        push_env=_push_env(push, env),
        scan=threshold,
        files=working_files(),
    )
    exit_for(results)


def _scan_threshold(proj: Any, env: str) -> str:
    from shipyard.scan.run import threshold_of

    return threshold_of(proj, env or proj.settings["default-environment"])


def _push_env(push: bool, env: str) -> str:
    if push and not env:
        raise ShipyardError("--push needs --env", hint="e.g. invoke ci --push --env staging")
    return env if push else ""


@task(
    iterable=["service", "report"],
    help={
        **RUN_HELP,
        "report": "write the results to FILE (.json, JUnit .xml, or SARIF .sarif); repeatable",
        "env": "the environment whose scan-fail-on threshold applies (default: default-environment)",
        "strict": "a scanner that cannot reach its service (pip-audit) fails instead of being skipped",
    },
)
@guarded
def scan(
    c: Any,
    service: list[str] | None = None,
    env: str = "",
    strict: bool = False,
    since: str = "",
    jobs: int = NONE,
    keep_going: bool = True,
    verbose: bool = False,
    report: list[str] | None = None,
    cache: bool = True,
    replay: bool = False,
) -> None:
    """Security scans per unit: bandit, detect-secrets, hadolint, pip-audit; exit 1 on a finding at the threshold."""
    from shipyard.ci.pipeline import scan as run_scan

    proj = project()
    threshold = _scan_threshold(proj, env)
    options = run_options(jobs, keep_going, verbose, report, cache=cache, replay=replay)
    units = selected(c, service, since=since)
    exit_for(run_scan(proj, units, options, threshold=threshold, strict=strict, files=working_files()))


TOP_LEVEL = [services, lint, test, ci, scan]
PER_SERVICE = [lint, test, ci, scan]
