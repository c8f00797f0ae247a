"""Commands are data: a frozen argv value, executed by one runner.

A child never outlives an interrupted shipyard: when Ctrl-C or SIGTERM (``Terminated``)
reaches ``run`` while its child runs, the command's ``on_interrupt`` commands run first
(``docker stop`` of a named container: the docker CLI going away does not stop it), then
the child is terminated and waited for, and only then does the interrupt go on — so a
deploy lock is released after, never while, a migration still runs. The interrupt reaches
only the main thread: ``stop_all`` stops the children worker threads wait for (workflow.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from shipyard.core.errors import ShipyardError


@dataclass(frozen=True)
class Command:
    """One process to run: argv, working directory and extra environment."""

    argv: tuple[str, ...]
    cwd: str = ""
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # may hold a test secret: never printed
    stdin: str | None = field(default=None, repr=False)  # may hold a secret: never printed
    on_interrupt: tuple[tuple[str, ...], ...] = ()  # argv run to stop what the child started

    def __str__(self) -> str:
        return " ".join(self.argv)


def command(
    *argv: str,
    cwd: Path | str = "",
    env: Mapping[str, str] | None = None,
    on_interrupt: Sequence[Sequence[str]] = (),
) -> Command:
    return Command(
        tuple(argv), str(cwd), tuple(sorted((env or {}).items())), on_interrupt=tuple(tuple(a) for a in on_interrupt)
    )


STOP_GRACE = 10.0  # seconds a child gets to exit after SIGTERM before SIGKILL


@dataclass(frozen=True)
class Completed:
    """What a command did: exit status, combined output and wall time."""

    command: Command
    returncode: int
    output: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _environ(extra: Sequence[tuple[str, str]]) -> dict[str, str] | None:
    if not extra:
        return None
    env = dict(os.environ)
    env.update(extra)
    return env


def run(cmd: Command, *, stream: bool = False) -> Completed:
    """Run ``cmd``; capture stdout+stderr (and echo them when ``stream``)."""
    if _stopping.is_set():  # an interrupt is unwinding: a worker's next step must not start
        raise KeyboardInterrupt
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd.argv,
            cwd=cmd.cwd or None,
            env=_environ(cmd.env),
            stdin=subprocess.PIPE if cmd.stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except FileNotFoundError:
        raise ShipyardError(
            f"command not found: {cmd.argv[0]}",
            hint=f"install {cmd.argv[0]} or put it on PATH",
        ) from None
    with _running_lock:
        _running[proc] = cmd
    try:
        output = _collect(proc, cmd.stdin, stream)
    except BaseException:  # Ctrl-C, SIGTERM, a bug: the child must not keep running unseen
        stop(proc, cmd)
        raise
    finally:
        with _running_lock:
            _running.pop(proc, None)
    return Completed(cmd, proc.wait(), output, time.monotonic() - start)


_running: dict[subprocess.Popen[str], Command] = {}  # children of `run`, in every thread
_running_lock = threading.Lock()
_stopping = threading.Event()


def stop_all() -> None:
    """Stop every child ``run`` is waiting for, in any thread, and start no other until
    ``resume``: an interrupt reaches only the main thread, while worker threads wait on their
    children (a push, a build) and would go on to their next command."""
    _stopping.set()
    with _running_lock:
        running = list(_running.items())
    for proc, cmd in running:
        stop(proc, cmd)


def resume() -> None:
    _stopping.clear()


def stop(proc: subprocess.Popen[str], cmd: Command) -> None:
    """Run ``cmd``'s clean-up commands, then terminate ``proc`` and wait until it has exited."""
    for argv in cmd.on_interrupt:
        # best effort: the child itself is still stopped below
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=STOP_GRACE + 20)
    if proc.poll() is None:
        below = descendants(proc.pid)
        proc.terminate()
        try:
            proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _stop_orphans(below)


def descendants(pid: int) -> list[int]:
    """The processes below ``pid``, found in Linux's /proc (elsewhere none are found)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])  # after "pid (comm) state"
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def _stop_orphans(pids: Sequence[int]) -> None:
    """A child that died of SIGTERM without stopping its own children (nox leaves pytest
    behind) would keep running, and keep our pipe open: they get SIGTERM, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [pid for pid in pids if _signal(pid, sig)]
        deadline = time.monotonic() + STOP_GRACE
        while alive and time.monotonic() < deadline:
            time.sleep(0.05)
            alive = [pid for pid in alive if _signal(pid, 0)]
        if not alive:
            return


def _signal(pid: int, sig: int) -> bool:
    """Send ``sig`` (0: only look); whether the process is still there."""
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _collect(proc: subprocess.Popen[str], stdin: str | None, stream: bool) -> str:
    if not stream:
        out, _ = proc.communicate(stdin)
        return out
    if stdin is not None and proc.stdin is not None:
        proc.stdin.write(stdin)
        proc.stdin.close()
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    return "".join(lines)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job) arrived: unwind like Ctrl-C, so that what is held (the deploy
    lock, test services) is released."""


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises Terminated in the main thread (elsewhere: no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
