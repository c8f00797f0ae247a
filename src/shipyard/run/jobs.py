"""Execution: jobs run in parallel; each ends as a Result."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from shipyard.run.proc import Command, Completed, resume, run, stop_all
from shipyard.run.progress import Display, PlainDisplay, Reporter
from shipyard.run.results import FAILED, PASSED, SKIPPED, Result


@dataclass(frozen=True)
class Job:
    """A unit's task: the commands to run in order (or a reason it is skipped)."""

    unit: str
    task: str
    python: str
    commands: tuple[Command, ...]
    skip: str = ""
    # A job whose work is Python code (an image build, a push) rather than commands.
    action: Callable[[], Result] | None = field(default=None, compare=False)
    key: str = ""  # result-cache key ("" = never cached)
    batch: str = ""  # jobs with the same batch name may be done by one process (see lint.py)
    # (status, reason) a finished command really ended in (pytest's "no tests", a skipped
    # nox session), or None for "by its exit status"
    outcome: Callable[[Completed], tuple[str, str] | None] | None = field(default=None, compare=False)
    run_all: bool = False  # every command runs even after one fails (lint: each check's findings)

    @property
    def label(self) -> str:
        return f"{self.unit} {self.task}" + (f" (python {self.python})" if self.python else "")


@dataclass(frozen=True)
class Batch:
    """Several jobs done by one piece of work (one ruff run over many units): a Result each."""

    jobs: tuple[Job, ...]
    run: Callable[[], list[Result]] = field(compare=False)
    label: str = ""


Item = Job | Batch
CHAIN = "then:"  # a batch name: adjacent jobs that run one after another as one Batch (a push, then its scan)


def chained(items: Sequence[Item], *, verbose: bool = False) -> list[Item]:
    """Adjacent jobs with the same ``then:`` batch name as one Batch that runs them in order
    (results in the same order, so the flattened jobs are unchanged)."""
    out: list[Item] = []
    for item in items:
        last = out[-1] if out else None
        if isinstance(item, Job) and item.batch.startswith(CHAIN) and not item.skip:
            if isinstance(last, Batch) and last.jobs[-1].batch == item.batch:
                out[-1] = _sequence((*last.jobs, item), verbose)
                continue
            if isinstance(last, Job) and last.batch == item.batch and not last.skip:
                out[-1] = _sequence((last, item), verbose)
                continue
        out.append(item)
    return out


def _sequence(jobs: tuple[Job, ...], verbose: bool) -> Batch:
    return Batch(jobs, lambda: [run_job(j, verbose=verbose) for j in jobs], label=", then ".join(j.label for j in jobs))


def _print(line: str) -> None:
    print(line, flush=True)


def run_job(job: Job, *, verbose: bool = False) -> Result:
    if job.skip:
        return Result(job.unit, job.task, SKIPPED, reason=job.skip, python=job.python)
    if job.action is not None:
        return job.action()
    start, outputs, failures = time.monotonic(), [], []
    for cmd in job.commands:
        done = run(cmd, stream=verbose)
        outputs.append(f"$ {cmd}\n{done.output}")
        verdict = job.outcome(done) if job.outcome is not None else None
        if verdict is not None:
            status, reason = verdict
            return Result(
                job.unit, job.task, status, time.monotonic() - start, reason, "".join(outputs), python=job.python
            )
        if not done.ok:
            failures.append(f"`{' '.join(cmd.argv[-2:]) if 'nox' in cmd.argv else cmd}` exited {done.returncode}")
            if not job.run_all:
                break
    status = FAILED if failures else PASSED
    return Result(
        job.unit, job.task, status, time.monotonic() - start, "; ".join(failures), "".join(outputs), python=job.python
    )


def run_jobs(
    jobs: Sequence[Item],
    *,
    workers: int,
    keep_going: bool = True,
    verbose: bool = False,
    report: Reporter = _print,
    display: Display | None = None,
) -> list[Result]:
    """Run ``jobs`` (and batches) on ``workers`` threads; one result per job, in order
    (a batch contributes its jobs' results where it stands)."""
    shown = display or PlainDisplay(report, verbose=verbose)
    jobs = chained(jobs, verbose=verbose)
    results: dict[int, list[Result]] = {}
    stop = threading.Event()

    def one(index: int, item: Item) -> None:
        members = item.jobs if isinstance(item, Batch) else (item,)
        if stop.is_set():
            reason = "not run: an earlier task failed"
            results[index] = [Result(j.unit, j.task, SKIPPED, reason=reason, python=j.python) for j in members]
            return
        if not (isinstance(item, Job) and item.skip):
            shown.started(item.label)
        done = item.run() if isinstance(item, Batch) else [run_job(item, verbose=verbose)]
        results[index] = done
        for job, result in zip(members, done, strict=True):
            shown.finished(job.label, result)
        if not all(r.ok for r in done) and not keep_going:
            stop.set()

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            try:  # the submits too: a Ctrl-C between two stops the jobs already running
                futures = [pool.submit(one, i, item) for i, item in enumerate(jobs)]
                for future in futures:
                    future.result()
            except BaseException:  # Ctrl-C or SIGTERM here: stop the workers' children, run nothing more
                stop.set()
                stop_all()
                raise
    finally:
        resume()  # the workers are done
        shown.close()
    return [r for i in range(len(jobs)) for r in results[i]]
