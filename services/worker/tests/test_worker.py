import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from example_common import jobs

from example_worker.worker import Settings, run, run_once


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_run_once_without_jobs_returns_false(conn):
    assert run_once(conn) is False


def test_run_once_completes_a_job(conn):
    job_id = jobs.enqueue(conn, "wordcount", {"text": "to be or not to be"})
    assert run_once(conn) is True
    job = jobs.get(conn, job_id)
    assert job.status == jobs.DONE
    assert job.result["words"] == 6
    assert job.result["top"][0] == ["be", 2]
    assert run_once(conn) is False


def test_run_once_fails_unknown_kind(conn):
    job_id = jobs.enqueue(conn, "translate", {"text": "x"})
    assert run_once(conn) is True
    job = jobs.get(conn, job_id)
    assert job.status == jobs.FAILED
    assert job.error.startswith("UnknownJobKind: unknown job kind 'translate'")


def test_run_once_fails_invalid_payload(conn):
    job_id = jobs.enqueue(conn, "reverse", {"txt": "x"})
    run_once(conn)
    assert jobs.get(conn, job_id).error.startswith("InvalidPayload:")


def test_jobs_are_processed_in_order(conn):
    ids = [jobs.enqueue(conn, "reverse", {"text": str(i)}) for i in range(3)]
    while run_once(conn):
        pass
    results = [jobs.get(conn, i) for i in ids]
    assert [j.result for j in results] == [{"text": "0"}, {"text": "1"}, {"text": "2"}]
    assert results[0].finished_at <= results[1].finished_at <= results[2].finished_at


def test_settings_from_env():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://x/y",
            "WORKER_POLL_INTERVAL": "0.1",
            "WORKER_HEARTBEAT_FILE": "/tmp/hb",
        }
    )
    assert settings == Settings("postgresql://x/y", 0.1, Path("/tmp/hb"))
    assert Settings.from_env({"DATABASE_URL": "postgresql://x/y"}).poll_interval == 0.5
    assert Settings.from_env({"DATABASE_URL": "u"}).heartbeat_file == Path("/tmp/worker-heartbeat")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        Settings.from_env({})
    with pytest.raises(ValueError, match="WORKER_POLL_INTERVAL"):
        Settings.from_env({"DATABASE_URL": "u", "WORKER_POLL_INTERVAL": "0"})


def test_run_loop_processes_jobs_and_beats(conn, jobs_database, tmp_path):
    heartbeat = tmp_path / "heartbeat"
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(Settings(jobs_database, 0.05, heartbeat), stop))
    thread.start()
    try:
        job_id = jobs.enqueue(conn, "reverse", {"text": "loop"})
        assert wait_for(lambda: jobs.get(conn, job_id).status == jobs.DONE)
        assert heartbeat.exists()
        before = heartbeat.stat().st_mtime_ns
        assert wait_for(lambda: heartbeat.stat().st_mtime_ns > before)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def _start_worker(env_extra):
    env = {**os.environ, "WORKER_POLL_INTERVAL": "0.05", **env_extra}
    return subprocess.Popen(
        [sys.executable, "-m", "example_worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_module_entry_point_processes_and_exits_cleanly_on_signal(
    conn, jobs_database, tmp_path, sig
):
    heartbeat = tmp_path / "heartbeat"
    proc = _start_worker({"DATABASE_URL": jobs_database, "WORKER_HEARTBEAT_FILE": str(heartbeat)})
    try:
        job_id = jobs.enqueue(conn, "wordcount", {"text": "hello world"})
        assert wait_for(lambda: jobs.get(conn, job_id).status == jobs.DONE, timeout=20)
        assert wait_for(heartbeat.exists)
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert f"received {sig.name}, stopping" in output
    assert "worker stopped" in output


def test_module_entry_point_without_database_url_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "example_worker"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "DATABASE_URL is not set" in result.stderr


STOP_WHILE_LOCKED = """
import os, signal, threading, time
from example_worker.worker import install_signal_handlers

stop = threading.Event()
install_signal_handlers(stop)
# Event.wait() holds this lock at its start and end; a signal arriving then used to run
# a handler in this thread that called stop.set() and waited for the same lock forever.
with stop._cond:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.2)
print("stopped" if stop.wait(5) else "not stopped", flush=True)
"""


def test_a_signal_while_the_stop_event_is_busy_does_not_deadlock():
    result = subprocess.run(
        [sys.executable, "-c", STOP_WHILE_LOCKED],
        check=False,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stopped"
