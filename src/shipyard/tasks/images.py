"""Tasks: build, push, fingerprint."""

from __future__ import annotations

import json
from typing import Any

from invoke.tasks import task

from shipyard.console import guarded
from shipyard.tasks.common import exit_for, project, run_options, selected
from shipyard.tasks.core import RUN_HELP, SERVICE_HELP

BUILD_HELP = {
    **{k: RUN_HELP[k] for k in ("service", "jobs", "verbose", "report", "since")},
    "no-cache": "build without Docker's layer cache (the fingerprint check still applies)",
}


def _options(verbose: bool, no_cache: bool = False) -> Any:
    from shipyard.images.build import BuildOptions

    return BuildOptions(verbose=verbose, no_cache=no_cache)


@task(iterable=["service", "report"], help=BUILD_HELP)
@guarded
def build(
    c: Any,
    service: list[str] | None = None,
    jobs: int = 0,
    verbose: bool = False,
    report: list[str] | None = None,
    no_cache: bool = False,
    since: str = "",
) -> None:
    """Build images (and static units' output); skip each one whose fingerprint is already built."""
    from shipyard.ci import execute
    from shipyard.images.jobs import build_jobs

    proj = project()
    units = selected(c, service, libs=bool(service), since=since)
    results = execute(
        proj, build_jobs(proj, units, _options(verbose, no_cache)), run_options(jobs, True, verbose, report)
    )
    exit_for(results)


@task(iterable=["service", "report"], help={**BUILD_HELP, "env": "the environment whose registry to push to"})
@guarded
def push(
    c: Any,
    env: str = "",
    service: list[str] | None = None,
    jobs: int = 0,
    verbose: bool = False,
    report: list[str] | None = None,
    no_cache: bool = False,
    since: str = "",
) -> None:
    """Push images to the environment's registry; build only what the registry lacks."""
    from shipyard.ci import execute
    from shipyard.images.jobs import push_jobs

    proj = project()
    env = env or proj.settings["default-environment"]
    units = selected(c, service, libs=bool(service), since=since)
    jobs_ = push_jobs(proj, units, env, _options(verbose, no_cache))
    exit_for(execute(proj, jobs_, run_options(jobs, True, verbose, report)))


@task(iterable=["service"], help={"service": SERVICE_HELP, "json": "print JSON instead of text"})
@guarded
def fingerprint(c: Any, service: list[str] | None = None, json_: bool = False) -> None:
    """Print each unit's build fingerprint and every input behind it."""
    from shipyard.images.describe import describe_fingerprints, render

    rows = describe_fingerprints(project(), selected(c, service))
    print(json.dumps(rows, indent=2) if json_ else render(rows))


TOP_LEVEL = [build, push, fingerprint]
PER_SERVICE = [build, push, fingerprint]
