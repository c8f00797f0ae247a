"""``invoke ci``: lint + test (+ build) over the selected units, one summary at the end.

``execute`` is the one runner for lint, test and ci: cached results first (a hit skips
the job), then the rest in parallel (ruff batched, tests directly in ready venvs), new
passes stored, and every job's Result rendered as a summary, reports and Actions output.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.ci.lint import batched, lint_jobs, workflow_jobs
from shipyard.ci.testing import direct, services_for, test_jobs
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, Unit, shipyard_dir
from shipyard.github import output as gha
from shipyard.run.jobs import Item, Job, run_jobs
from shipyard.run.keys import Inputs
from shipyard.run.proc import sigterm_as_interrupt
from shipyard.run.progress import Display, LiveDisplay, PlainDisplay, indent, live_possible
from shipyard.run.results import Result, summary_table, write_report

if TYPE_CHECKING:
    from shipyard.run.cache import ResultCache


@dataclass(frozen=True)
class RunOptions:
    """How to run: parallelism, failure policy, output, reports and the result cache."""

    jobs: int = 0
    keep_going: bool = True
    verbose: bool = False
    reports: tuple[Path, ...] = field(default_factory=tuple)
    cache: bool = True  # read the result cache (passed results are stored either way)
    replay: bool = False  # print the captured output of cached results

    def workers(self, project: Project) -> int:
        return self.jobs or project.settings["jobs"] or os.cpu_count() or 1


def ci(
    project: Project,
    units: Sequence[Unit],
    options: RunOptions,
    *,
    python: Sequence[str] = (),
    strict: bool = False,
    workflows: bool = False,
    images: bool = True,
    push_env: str = "",
    scan: str = "",
    files: Mapping[str, str] | None = None,
) -> list[Result]:
    """Lint then test every selected unit (and the CI workflows), with ``scan`` (a threshold) run
    every scanner that applies, build (and with ``push_env`` push) the images of the services
    that have one and build the static units; returns every result record.
    ``files`` is the working tree (fingerprint.tracked_files) when the caller has read it."""
    require_units(project)
    inputs = Inputs.read(project, files)
    jobs = (workflow_jobs(project, inputs) if workflows else []) + lint_jobs(project, units, inputs=inputs)
    jobs += test_jobs(project, units, python=python, strict=strict, inputs=inputs)
    if scan:
        from shipyard.scan.run import scan_jobs  # only with --scan: ci without it is unchanged

        jobs += scan_jobs(project, units, inputs, threshold=scan, strict=False)
    if images and any(_has_dockerfile(project, u) or u.kind == "static" for u in units):
        from shipyard.images.jobs import ci_jobs  # the image machinery only when there are images

        jobs += ci_jobs(project, units, push_env=push_env, verbose=options.verbose)
    return execute(project, jobs, options, inputs)


def require_units(project: Project) -> None:
    """A project with no unit at all fails: an empty run is not a green one."""
    if project.units:
        return
    globs = ", ".join([*project.settings["services"], *project.settings["libs"]])
    if not project.skipped:
        raise ShipyardError(f"no service or lib found: no directory matches {globs}", hint=_UNIT_HINT)
    first = project.skipped[0]
    more = f" (and {len(project.skipped) - 1} more)" if len(project.skipped) > 1 else ""
    raise ShipyardError(
        f"no service or lib found: {len(project.skipped)} matched director{'y' if len(project.skipped) == 1 else 'ies'}"
        f", none a unit: {first.path}: {first.reason}{more}",
        hint="`invoke services` lists each with why; " + _UNIT_HINT,
    )


_UNIT_HINT = "give each unit a pyproject.toml with a [tool.shipyard] table, or a shipyard.toml"


def _has_dockerfile(project: Project, unit: Unit) -> bool:
    """images.jobs.has_dockerfile, without importing the image machinery (~50 ms)."""
    return unit.has_image and (project.root / unit.path / unit.settings["dockerfile"]).is_file()


def lint(
    project: Project,
    units: Sequence[Unit],
    options: RunOptions,
    *,
    fix: bool,
    workflows: bool,
    files: Mapping[str, str] | None = None,
) -> list[Result]:
    """``invoke lint``: ruff (or a unit's own linter) per unit, and actionlint on the workflows."""
    require_units(project)
    inputs = Inputs.read(project, files)
    jobs = (workflow_jobs(project, inputs) if workflows else []) + lint_jobs(project, units, fix=fix, inputs=inputs)
    return execute(project, jobs, options, inputs)


def test(
    project: Project,
    units: Sequence[Unit],
    options: RunOptions,
    *,
    python: Sequence[str] = (),
    strict: bool = False,
    files: Mapping[str, str] | None = None,
) -> list[Result]:
    """``invoke test``: each unit's test session per Python version."""
    require_units(project)
    inputs = Inputs.read(project, files)
    return execute(project, test_jobs(project, units, python=python, strict=strict, inputs=inputs), options, inputs)


def scan(
    project: Project,
    units: Sequence[Unit],
    options: RunOptions,
    *,
    threshold: str,
    strict: bool = False,
    files: Mapping[str, str] | None = None,
) -> list[Result]:
    """``invoke scan``: every scanner that applies to each unit (see shipyard.scan)."""
    from shipyard.scan.run import scan_jobs

    require_units(project)
    inputs = Inputs.read(project, files)
    return execute(project, scan_jobs(project, units, inputs, threshold=threshold, strict=strict), options, inputs)


def execute(project: Project, jobs: Sequence[Job], options: RunOptions, inputs: Inputs | None = None) -> list[Result]:
    """Run ``jobs`` (cached ones are not run), print the summary, write the reports."""
    from shipyard.run.cache import ResultCache

    shipyard_dir(project.root)  # before anything (cache, stamps, reports, wheels) writes there
    from shipyard.ci.gate import SCAN

    gated = inputs is not None and any(j.task.startswith(SCAN) for j in jobs)  # scan-ecr: no key, a gate record
    cache = ResultCache.of(project, read=options.cache) if gated or any(j.key for j in jobs) else None
    results = _with_outputs(project, cache, jobs, _cached(cache, jobs))
    positions = [i for i in range(len(jobs)) if i not in results]
    todo = [jobs[i] for i in positions]
    if inputs is not None:
        todo = direct(project, todo, inputs.files)
    _forget_junit(project, todo)
    # SIGTERM (a cancelled CI job) unwinds like Ctrl-C: the children stop, the services go
    with sigterm_as_interrupt(), services_for(project, todo):  # the services the tests to run need
        ran = _run(project, todo, options, len(results))
    for position, job, result in zip(positions, todo, ran, strict=True):
        result = _with_junit(project, job, result)
        results[position] = result
        if cache is not None:
            cache.store(job.task, job.key, result, _packed(project, job, result))
    ordered = [results[i] for i in range(len(jobs))]
    if cache is not None and inputs is not None:
        from shipyard.ci import gate

        gate.record(cache, inputs, jobs, ordered)
    _finish(project, ordered, options)
    return ordered


def _cached(cache: ResultCache | None, jobs: Sequence[Job]) -> dict[int, Result]:
    """Position -> cached result, for the jobs whose key has one."""
    keyed = [(i, j) for i, j in enumerate(jobs) if j.key and not j.skip]
    hits = cache.lookup([(j.task, j.key) for _, j in keyed]) if cache is not None and keyed else {}
    return {i: hits[j.key] for i, j in keyed if j.key in hits}


def _junit_of(project: Project, job: Job) -> Path | None:
    unit = project.units.get(job.unit)
    if job.task != "test" or unit is None:
        return None
    from shipyard.ci.sessions import junit_path

    return junit_path(project, unit, job.python or None)


def _forget_junit(project: Project, jobs: Sequence[Job]) -> None:
    """No test job may be credited with the JUnit file an earlier run left."""
    for job in jobs:
        path = _junit_of(project, job)
        if path is not None:
            path.unlink(missing_ok=True)


def _with_junit(project: Project, job: Job, result: Result) -> Result:
    """A test result with pytest's own JUnit XML (its test cases), when pytest wrote one."""
    path = _junit_of(project, job)
    if path is None or not path.is_file():
        return result
    from shipyard.core.secrets import redact

    text = redact(path.read_text(encoding="utf-8", errors="replace"))
    path.unlink()  # pytest writes what the tests printed, secrets too: no copy of it stays on disk
    return replace(result, details={**result.details, "junit": text})


def _declares_outputs(project: Project, job: Job) -> bool:
    unit = project.units.get(job.unit)
    return job.task == "test" and unit is not None and bool(unit.settings.get("outputs"))


def _with_outputs(
    project: Project, cache: ResultCache | None, jobs: Sequence[Job], hits: dict[int, Result]
) -> dict[int, Result]:
    """The hits, with the declared outputs of each put back; a hit whose entry lacks them is a miss."""
    from shipyard.ci import outputs

    kept = {}
    for position, result in hits.items():
        job = jobs[position]
        if not _declares_outputs(project, job):
            kept[position] = result
        elif cache is not None and job.key in cache.outputs:
            outputs.unpack(project, project.units[job.unit], cache.outputs[job.key])
            kept[position] = result
    return kept


def _packed(project: Project, job: Job, result: Result) -> str:
    """A passed test job's declared outputs, for its cache entry ("" when it declares none)."""
    if result.status != "passed" or not _declares_outputs(project, job):
        return ""
    from shipyard.ci import outputs

    packed, missing = outputs.pack(project, project.units[job.unit])
    if missing:
        print(f"warning: {job.unit}: declared outputs not written by its tests: {', '.join(missing)}", file=sys.stderr)
    return packed


def _run(project: Project, todo: Sequence[Job], options: RunOptions, cached: int) -> list[Result]:
    """Run ``todo`` (ruff jobs merged into one batch); results in ``todo`` order."""
    items = batched(project, todo)
    display = _display(options, len(todo), cached)
    ran = run_jobs(
        items, workers=options.workers(project), keep_going=options.keep_going, verbose=options.verbose, display=display
    )
    by_job = {id(j): r for j, r in zip(_flatten(items), ran, strict=True)}
    return [by_job[id(j)] for j in todo]


def _flatten(items: Sequence[Item]) -> list[Job]:
    return [j for item in items for j in (item.jobs if not isinstance(item, Job) else (item,))]


def _display(options: RunOptions, pending: int, cached: int) -> Display:
    if pending and live_possible(options.verbose):
        return LiveDisplay(pending, cached=cached)
    if cached:
        print(f"{cached} result(s) from the cache" + ("" if pending else ": nothing to run"), flush=True)
    return PlainDisplay(lambda line: print(line, flush=True), verbose=options.verbose)


def _finish(project: Project, results: Sequence[Result], options: RunOptions) -> None:
    if options.replay or options.verbose:
        for r in results:
            if r.cached and r.output:
                print(f"── {r.unit} {r.label} (cached output) ──")
                print(indent(r.output), end="")
    print()
    print(summary_table(results))
    for path in options.reports:
        write_report(path, results)
    if gha.active():
        from shipyard.github.mermaid import run_statuses, units_graph

        diagram = units_graph(project, run_statuses(results))
        gha.publish(results, {u.name: u.path for u in project.units.values()}, diagram=diagram)
