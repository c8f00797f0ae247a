"""``invoke ci``: lint + test over the selected units, one summary at the end."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shipyard import gha
from shipyard.lint import lint_jobs, workflow_jobs
from shipyard.project import Project, Unit
from shipyard.results import Result, summary_table, write_report
from shipyard.testing import test_jobs
from shipyard.workflow import run_jobs


@dataclass(frozen=True)
class RunOptions:
    """How to run: parallelism, failure policy, output and reports."""

    jobs: int = 0
    keep_going: bool = True
    verbose: bool = False
    reports: tuple[Path, ...] = field(default_factory=tuple)

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
) -> list[Result]:
    """Lint then test every selected unit (and the CI workflows); returns every result record."""
    jobs = (workflow_jobs(project) if workflows else []) + lint_jobs(project, units)
    jobs += test_jobs(project, units, python=python, strict=strict)
    return execute(project, jobs, options)


def execute(project: Project, jobs: Sequence, options: RunOptions) -> list[Result]:  # type: ignore[type-arg]
    results = run_jobs(jobs, workers=options.workers(project), keep_going=options.keep_going, verbose=options.verbose)
    print()
    print(summary_table(results))
    for path in options.reports:
        write_report(path, results)
    gha.publish(results, {u.name: u.path for u in project.units.values()})
    return results
