"""What the console shows while jobs run: plain lines, or a live status line on a terminal.

Plain (CI logs, pipes): one line when a job starts and one when it ends, failures with
their output. Live (a TTY): finished jobs scroll by as lines; below them one status
line, redrawn in place with ANSI escapes, says what is running, done, failed and cached.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from shipyard.run.results import FAILED, PASSED, SKIPPED, Result

Reporter = Callable[[str], None]


class Display(Protocol):
    def started(self, label: str) -> None: ...

    def finished(self, label: str, result: Result) -> None: ...

    def close(self) -> None: ...


def mark(result: Result) -> str:
    return {PASSED: "✓", SKIPPED: "-", FAILED: "✗"}.get(result.status, "!")


def indent(text: str) -> str:
    return "".join(f"    {line}" for line in text.splitlines(keepends=True)) + ("" if text.endswith("\n") else "\n")


def ended_line(label: str, result: Result) -> str:
    if result.cached:
        return f"{mark(result)} {label} {result.status} (cached)"
    if result.status == SKIPPED:
        return f"{mark(result)} {label} skipped: {result.reason}"
    return f"{mark(result)} {label} {result.status} in {result.duration:.1f}s"


class PlainDisplay:
    """A line per start and per end; a failure's output indented under it."""

    def __init__(self, report: Reporter, *, verbose: bool = False, out: TextIO | None = None) -> None:
        self.report, self.verbose, self.out = report, verbose, out
        self.lock = threading.Lock()

    def started(self, label: str) -> None:
        with self.lock:
            self.report(f"… {label}")

    def finished(self, label: str, result: Result) -> None:
        with self.lock:
            self.report(ended_line(label, result))
            if not result.ok and not self.verbose and result.output:
                out = self.out or sys.stdout
                out.write(indent(result.output))
                out.flush()

    def close(self) -> None:
        pass


class LiveDisplay:
    """Finished jobs as lines, and one status line redrawn in place (a terminal only)."""

    def __init__(self, total: int, *, cached: int = 0, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.total, self.cached = total, cached
        self.done = self.failed = 0
        self.running: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)
        self.ticker.start()

    def started(self, label: str) -> None:
        with self.lock:
            self.running[label] = time.monotonic()
            self._draw()

    def finished(self, label: str, result: Result) -> None:
        with self.lock:
            self.running.pop(label, None)
            self.done += 1
            self.failed += not result.ok
            self.out.write("\r\033[K" + ended_line(label, result) + "\n")
            if not result.ok and result.output:
                self.out.write(indent(result.output))
            self._draw()

    def close(self) -> None:
        self.stop.set()
        self.ticker.join()
        with self.lock:
            self.out.write("\r\033[K")
            self.out.flush()

    def _tick(self) -> None:
        while not self.stop.wait(0.25):
            with self.lock:
                self._draw()

    def _draw(self) -> None:
        now = time.monotonic()
        running = ", ".join(f"{label} {now - since:.0f}s" for label, since in list(self.running.items())[:3])
        more = len(self.running) - 3
        status = (
            f"[{self.done + self.cached}/{self.total + self.cached}] {self.cached} cached, "
            f"{self.failed} failed, {len(self.running)} running"
            + (f": {running}" if running else "")
            + (f" (+{more})" if more > 0 else "")
        )
        width = _width()
        self.out.write("\r\033[K" + (status if len(status) < width else status[: width - 2] + "…"))
        self.out.flush()


def _width() -> int:
    try:
        columns = os.get_terminal_size().columns
    except OSError:
        columns = 0
    return columns if columns > 20 else 100  # a pseudo-terminal may report 0


def live_possible(verbose: bool, out: TextIO | None = None) -> bool:
    """A live display needs a terminal (not CI logs, not a pipe) and no streamed tool output."""
    stream = out or sys.stdout
    term = os.environ.get("TERM", "")
    return not verbose and stream.isatty() and term not in ("", "dumb") and os.environ.get("CI", "") == ""
