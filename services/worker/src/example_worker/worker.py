"""The worker loop: claim a job, process it, record the outcome."""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import psycopg
from example_common import jobs
from example_common.db import connect
from example_common.process import process

log = logging.getLogger("example_worker")

DEFAULT_POLL_INTERVAL = 0.5
DEFAULT_HEARTBEAT_FILE = "/tmp/worker-heartbeat"


def run_once(conn: psycopg.Connection) -> bool:
    """Process at most one pending job. Return True if a job was claimed."""
    job = jobs.claim_next(conn)
    if job is None:
        return False
    try:
        result = process(job.kind, job.payload)
    except Exception as exc:  # noqa: BLE001 - any processing error fails the job, not the worker
        log.warning("job %s (%s) failed: %s", job.id, job.kind, exc)
        jobs.fail(conn, job.id, f"{type(exc).__name__}: {exc}")
    else:
        jobs.complete(conn, job.id, result)
        log.info("job %s (%s) done", job.id, job.kind)
    return True


@dataclass
class Settings:
    database_url: str
    poll_interval: float = DEFAULT_POLL_INTERVAL
    heartbeat_file: Path = Path(DEFAULT_HEARTBEAT_FILE)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        url = env.get("DATABASE_URL")
        if not url:
            raise RuntimeError("DATABASE_URL is not set")
        interval = float(env.get("WORKER_POLL_INTERVAL", DEFAULT_POLL_INTERVAL))
        if interval <= 0:
            raise ValueError("WORKER_POLL_INTERVAL must be a positive number of seconds")
        heartbeat = Path(env.get("WORKER_HEARTBEAT_FILE", DEFAULT_HEARTBEAT_FILE))
        return cls(database_url=url, poll_interval=interval, heartbeat_file=heartbeat)


def run(settings: Settings, stop: threading.Event) -> None:
    """Loop until ``stop`` is set; reconnect with a pause if the database goes away.

    The heartbeat file is touched after every iteration that reached the database,
    so a health check on its age also notices a worker that cannot work.
    """
    conn: psycopg.Connection | None = None
    try:
        while not stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = connect(settings.database_url, connect_timeout=5)
                    log.info("connected to the database")
                busy = run_once(conn)
                settings.heartbeat_file.touch()
            except psycopg.OperationalError as exc:
                log.error("database error: %s; retrying", exc)
                if conn is not None:
                    conn.close()
                conn = None
                stop.wait(max(settings.poll_interval, 2.0))
                continue
            if not busy:
                stop.wait(settings.poll_interval)
    finally:
        if conn is not None:
            conn.close()


def install_signal_handlers(stop: threading.Event) -> None:
    """Set ``stop`` on SIGTERM or SIGINT, from a thread of its own.

    A Python signal handler runs in the main thread between two bytecodes, possibly
    while that thread holds ``stop``'s internal lock inside ``stop.wait()``; calling
    ``stop.set()`` there deadlocks. So the signals are blocked and a thread waits for
    them with ``sigwait`` instead. Call this before starting any other thread: threads
    inherit the blocked mask.
    """
    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)

    def watch() -> None:
        signum = signal.sigwait(signals)
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    threading.Thread(target=watch, name="signals", daemon=True).start()


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        settings = Settings.from_env()
    except (RuntimeError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    stop = threading.Event()
    install_signal_handlers(stop)
    log.info(
        "worker started (poll interval %ss, heartbeat %s)",
        settings.poll_interval,
        settings.heartbeat_file,
    )
    run(settings, stop)
    log.info("worker stopped")
    return 0
