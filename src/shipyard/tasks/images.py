"""Tasks: build, push, fingerprint."""

from __future__ import annotations

import json
from typing import Any

from invoke.tasks import task

from shipyard.cli.console import guarded
from shipyard.tasks.common import NONE, exit_for, project, run_options, selected
from shipyard.tasks.core import RUN_HELP, SERVICE_HELP

BUILD_HELP = {
    **{k: RUN_HELP[k] for k in ("service", "jobs", "verbose", "report", "since")},
    "no-cache": "when an image is built, build it without Docker's layer cache; an image whose fingerprint"
    " is already built is still skipped (to rebuild it, use --force)",
    "force": "rebuild each image (and static unit) even when its fingerprint is already built",
}
PUSH_HELP = {
    **BUILD_HELP,
    "env": "the environment whose registry to push to (with its ecr-scan, ECR's scan of each image is read)",
    "report": "write the results to FILE (.json, JUnit .xml, or SARIF .sarif for ECR's scan findings); repeatable",
    "no-cache": "when an image has to be built (the registry lacks its fingerprint), build it without"
    " Docker's layer cache; an image already in the registry is not rebuilt (use --force)",
    "force": "rebuild each image and push it again even when the registry has its fingerprint"
    " (the fingerprint tag then names the new build; refused for an ECR repository with immutable tags)",
}


def _options(verbose: bool, no_cache: bool = False, force: bool = False) -> Any:
    from shipyard.images.build import BuildOptions

    return BuildOptions(verbose=verbose, no_cache=no_cache, force=force)


@task(iterable=["service", "report"], help=BUILD_HELP)
@guarded
def build(
    c: Any,
    service: list[str] | None = None,
    jobs: int = NONE,
    verbose: bool = False,
    report: list[str] | None = None,
    no_cache: bool = False,
    since: str = "",
    force: bool = False,
) -> None:
    """Build images (and static units' output); skip each one whose fingerprint is already built,
    unless --force."""
    from shipyard.ci.pipeline import execute
    from shipyard.images.jobs import build_jobs
    from shipyard.run.proc import sigterm_as_interrupt

    proj = project()
    units = selected(c, service, libs=bool(service), since=since)
    with sigterm_as_interrupt():  # a cancelled CI job stops the docker builds too
        results = execute(
            proj, build_jobs(proj, units, _options(verbose, no_cache, force)), run_options(jobs, True, verbose, report)
        )
    exit_for(results)


@task(iterable=["service", "report"], help=PUSH_HELP)
@guarded
def push(
    c: Any,
    env: str = "",
    service: list[str] | None = None,
    jobs: int = NONE,
    verbose: bool = False,
    report: list[str] | None = None,
    no_cache: bool = False,
    since: str = "",
    force: bool = False,
) -> None:
    """Push images to the environment's registry; build only what the registry lacks, and add this
    commit's git tag to an image the registry already has."""
    from shipyard.ci.pipeline import execute
    from shipyard.images.jobs import push_jobs
    from shipyard.run.keys import Inputs
    from shipyard.run.proc import sigterm_as_interrupt

    proj = project()
    env = env or proj.settings["default-environment"]
    units = selected(c, service, libs=bool(service), since=since)
    jobs_ = push_jobs(proj, units, env, _options(verbose, no_cache, force))
    # ECR's scans (ecr-scan) are recorded in the CI gate, whose keys need the working tree
    inputs = Inputs.read(proj) if any(j.task == "scan-ecr" for j in jobs_) else None
    with sigterm_as_interrupt():  # a cancelled CI job stops the docker pushes too
        results = execute(proj, jobs_, run_options(jobs, True, verbose, report), inputs)
    exit_for(results)


@task(iterable=["service"], help={"service": SERVICE_HELP, "json": "print JSON instead of text"})
@guarded
def fingerprint(c: Any, service: list[str] | None = None, json_: bool = False) -> None:
    """Print each unit's build fingerprint and every input behind it."""
    from shipyard.images.describe import describe_fingerprints, render

    rows = describe_fingerprints(project(), selected(c, service))
    print(json.dumps(rows, indent=2) if json_ else render(rows))


TOP_LEVEL = [build, push, fingerprint]
PER_SERVICE = [build, push, fingerprint]
