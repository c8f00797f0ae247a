"""Execution: jobs run in parallel; each ends as a Result."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from shipyard.proc import Command, run
from shipyard.results import FAILED, PASSED, SKIPPED, Result


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

    @property
    def label(self) -> str:
        return f"{self.unit} {self.task}" + (f" (python {self.python})" if self.python else "")


Reporter = Callable[[str], None]


def _print(line: str) -> None:
    print(line, flush=True)


def run_job(job: Job, *, verbose: bool = False) -> Result:
    if job.skip:
        return Result(job.unit, job.task, SKIPPED, reason=job.skip, python=job.python)
    if job.action is not None:
        return job.action()
    start, outputs = time.monotonic(), []
    for cmd in job.commands:
        done = run(cmd, stream=verbose)
        outputs.append(f"$ {cmd}\n{done.output}")
        if not done.ok:
            reason = f"`{' '.join(cmd.argv[-2:]) if 'nox' in cmd.argv else cmd}` exited {done.returncode}"
            return Result(
                job.unit, job.task, FAILED, time.monotonic() - start, reason, "".join(outputs), python=job.python
            )
    return Result(job.unit, job.task, PASSED, time.monotonic() - start, output="".join(outputs), python=job.python)


def run_jobs(
    jobs: Sequence[Job],
    *,
    workers: int,
    keep_going: bool = True,
    verbose: bool = False,
    report: Reporter = _print,
) -> list[Result]:
    """Run ``jobs`` on ``workers`` threads; results come back in job order."""
    results: dict[int, Result] = {}
    stop, lock = threading.Event(), threading.Lock()

    def one(index: int, job: Job) -> None:
        if stop.is_set():
            reason = "not run: an earlier task failed"
            results[index] = Result(job.unit, job.task, SKIPPED, reason=reason, python=job.python)
            return
        report(f"… {job.label}")
        result = run_job(job, verbose=verbose)
        results[index] = result
        with lock:
            report(f"{_mark(result)} {job.label} {result.status} in {result.duration:.1f}s")
            if not result.ok and not verbose and result.output:
                sys.stdout.write(_indent(result.output))
        if not result.ok and not keep_going:
            stop.set()

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for future in [pool.submit(one, i, job) for i, job in enumerate(jobs)]:
            future.result()
    return [results[i] for i in range(len(jobs))]


def _mark(result: Result) -> str:
    return {PASSED: "✓", SKIPPED: "-", FAILED: "✗"}.get(result.status, "!")


def _indent(text: str) -> str:
    return "".join(f"    {line}" for line in text.splitlines(keepends=True)) + ("" if text.endswith("\n") else "\n")
