"""The runner: jobs and batches in parallel, fail fast or keep going, what the console shows."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from shipyard.run import jobs as workflow
from shipyard.run.jobs import Batch, Job, run_jobs
from shipyard.run.proc import command
from shipyard.run.progress import LiveDisplay, PlainDisplay, live_possible
from shipyard.run.results import FAILED, PASSED, SKIPPED, Result

PY = sys.executable


def job(unit: str, code: str = "pass", task: str = "test") -> Job:
    return Job(unit, task, "", (command(PY, "-c", code),))


def quiet(_: str) -> None:
    pass


def test_results_come_back_in_job_order_with_batches_in_place() -> None:
    batch_jobs = (Job("b", "lint", "", ()), Job("c", "lint", "", ()))
    batch = Batch(batch_jobs, lambda: [Result("b", "lint", PASSED), Result("c", "lint", FAILED, reason="bad")])
    results = run_jobs([job("a"), batch, job("d", "raise SystemExit(3)")], workers=2, report=quiet)
    assert [(r.unit, r.status) for r in results] == [("a", PASSED), ("b", PASSED), ("c", FAILED), ("d", FAILED)]
    assert results[3].reason == f"`{PY} -c raise SystemExit(3)` exited 3"


def test_fail_fast_skips_what_has_not_started() -> None:
    jobs = [job("a", "raise SystemExit(1)"), job("b"), job("c")]
    results = run_jobs(jobs, workers=1, keep_going=False, report=quiet)
    assert [(r.unit, r.status) for r in results] == [("a", FAILED), ("b", SKIPPED), ("c", SKIPPED)]
    assert results[1].reason == "not run: an earlier task failed"
    kept = run_jobs(jobs, workers=1, keep_going=True, report=quiet)
    assert [r.status for r in kept] == [FAILED, PASSED, PASSED]


def test_action_jobs_still_work() -> None:
    def build() -> Result:
        return Result("api", "build", PASSED, 1.0, "built api:abc", details={"digest": "sha256:1"})

    results = run_jobs([Job("api", "build", "", (), action=build)], workers=1, report=quiet)
    assert results == [Result("api", "build", PASSED, 1.0, "built api:abc", details={"digest": "sha256:1"})]


def test_plain_display_lines() -> None:
    lines: list[str] = []
    out = io.StringIO()
    display = PlainDisplay(lines.append, out=out)
    display.started("a test")
    display.finished("a test", Result("a", "test", FAILED, 1.25, "boom", "line 1\nline 2\n"))
    display.finished("b lint", Result("b", "lint", PASSED, cached=True))
    display.finished("c test", Result("c", "test", SKIPPED, reason="no python3.99 found"))
    assert lines == [
        "… a test",
        "✗ a test failed in 1.2s",
        "✓ b lint passed (cached)",
        "- c test skipped: no python3.99 found",
    ]
    assert out.getvalue() == "    line 1\n    line 2\n"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_display_redraws_a_status_line() -> None:
    out = FakeTerminal()
    display = LiveDisplay(2, cached=3, out=out)
    display.started("a test")
    display.finished("a test", Result("a", "test", PASSED, 0.5))
    display.started("b test")
    display.finished("b test", Result("b", "test", FAILED, 0.5, output="bad\n"))
    display.close()
    text = out.getvalue()
    assert "\r\033[K[3/5] 3 cached, 0 failed, 1 running: a test 0s" in text
    assert "\r\033[K✓ a test passed in 0.5s\n" in text
    assert "\r\033[K✗ b test failed in 0.5s\n    bad\n" in text
    assert "[5/5] 3 cached, 1 failed, 0 running" in text
    assert text.endswith("\r\033[K")


def test_live_display_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("CI", raising=False)
    assert live_possible(False, FakeTerminal())
    assert not live_possible(True, FakeTerminal())  # verbose streams tool output
    assert not live_possible(False, io.StringIO())  # a pipe or a file
    monkeypatch.setenv("CI", "true")
    assert not live_possible(False, FakeTerminal())


def test_an_interrupt_stops_the_children_of_worker_threads_and_runs_nothing_more(tmp_path: Path) -> None:
    pid_file, ran = tmp_path / "child.pid", tmp_path / "b-ran"
    sleeper = f"import os, pathlib, time; pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); time.sleep(30)"

    def interrupt_once_started() -> None:
        while not (pid_file.is_file() and pid_file.read_text()):
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: it reaches the main thread only

    threading.Thread(target=interrupt_once_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_jobs([job("a", sleeper), job("b", f"open({str(ran)!r}, 'w')")], workers=1, report=quiet)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # stopped and reaped before the interrupt went on
    assert not ran.exists()  # old: the worker slept on, then job b ran


def test_an_interrupt_while_jobs_are_still_being_handed_out_stops_the_running_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C between two submits: the job already running is stopped, not waited for
    (old: the executor's exit waited for it to finish on its own)."""
    pid_file, finished = tmp_path / "child.pid", tmp_path / "finished"
    sleeper = (
        f"import os, pathlib, time; pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); "
        f"time.sleep(10); pathlib.Path({str(finished)!r}).write_text('done')"
    )

    class InterruptedPool(workflow.ThreadPoolExecutor):
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            if pid_file.is_file() or getattr(self, "handed_out", False):
                while not pid_file.read_text():
                    time.sleep(0.05)
                raise KeyboardInterrupt
            self.handed_out = True
            future = super().submit(*args, **kwargs)
            while not (pid_file.is_file() and pid_file.read_text()):
                time.sleep(0.05)
            return future

    monkeypatch.setattr(workflow, "ThreadPoolExecutor", InterruptedPool)
    with pytest.raises(KeyboardInterrupt):
        run_jobs([job("a", sleeper), job("b", "pass")], workers=2, report=quiet)
    assert not finished.exists()


def test_adjacent_jobs_of_one_chain_run_in_order_as_one_batch() -> None:
    """A push and ECR's scan of it: the second job runs after the first, in the same worker."""
    from shipyard.run.jobs import CHAIN, chained

    ran: list[str] = []

    def act(unit: str, task: str, pause: float = 0.0) -> Result:
        time.sleep(pause)
        ran.append(f"{unit} {task}")
        return Result(unit, task, PASSED)

    jobs = [
        Job("a", "push", "", (), action=lambda: act("a", "push", 0.2), batch=f"{CHAIN}a"),
        Job("a", "scan-ecr", "", (), action=lambda: act("a", "scan-ecr"), batch=f"{CHAIN}a"),
        Job("b", "push", "", (), skip="a lib", batch=f"{CHAIN}b"),
        Job("c", "push", "", (), action=lambda: act("c", "push"), batch=f"{CHAIN}c"),
    ]
    items = chained(jobs)
    assert [type(i).__name__ for i in items] == ["Batch", "Job", "Job"]
    assert isinstance(items[0], Batch) and items[0].label == "a push, then a scan-ecr"
    results = run_jobs(jobs, workers=4, report=quiet)
    assert [(r.unit, r.task, r.status) for r in results] == [
        ("a", "push", PASSED), ("a", "scan-ecr", PASSED), ("b", "push", SKIPPED), ("c", "push", PASSED)]  # fmt: skip
    assert ran.index("a push") < ran.index("a scan-ecr")  # however long the first takes
