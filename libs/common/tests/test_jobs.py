import pytest

from example_common import jobs
from example_common.db import connect


def test_enqueue_and_get(conn):
    job_id = jobs.enqueue(conn, "wordcount", {"text": "a b"})
    job = jobs.get(conn, job_id)
    assert job.id == job_id
    assert job.kind == "wordcount"
    assert job.payload == {"text": "a b"}
    assert job.status == jobs.PENDING
    assert job.result is None and job.finished_at is None


def test_get_missing_returns_none(conn):
    assert jobs.get(conn, 12345) is None


def test_claim_next_takes_oldest_pending_and_marks_running(conn):
    first = jobs.enqueue(conn, "reverse", {"text": "1"})
    second = jobs.enqueue(conn, "reverse", {"text": "2"})
    claimed = jobs.claim_next(conn)
    assert claimed.id == first
    assert claimed.status == jobs.RUNNING
    assert jobs.claim_next(conn).id == second
    assert jobs.claim_next(conn) is None


def test_claim_next_skips_rows_locked_by_another_worker(conn, jobs_database):
    first = jobs.enqueue(conn, "reverse", {"text": "1"})
    second = jobs.enqueue(conn, "reverse", {"text": "2"})
    with connect(jobs_database) as other, other.transaction():
        other.execute("SELECT id FROM jobs WHERE id = %s FOR UPDATE", (first,))
        # The first row is locked by an open transaction: skip it, don't wait.
        assert jobs.claim_next(conn).id == second
    assert jobs.claim_next(conn).id == first


def test_complete_records_result(conn):
    job_id = jobs.enqueue(conn, "wordcount", {"text": "x"})
    jobs.claim_next(conn)
    jobs.complete(conn, job_id, {"words": 1})
    job = jobs.get(conn, job_id)
    assert job.status == jobs.DONE
    assert job.result == {"words": 1}
    assert job.error is None
    assert job.finished_at is not None
    assert job.to_dict()["finished_at"] == job.finished_at.isoformat()


def test_fail_records_error(conn):
    job_id = jobs.enqueue(conn, "nope", {})
    jobs.fail(conn, job_id, "unknown job kind")
    job = jobs.get(conn, job_id)
    assert job.status == jobs.FAILED
    assert job.error == "unknown job kind"
    assert job.result is None


def test_finishing_a_missing_job_raises(conn):
    with pytest.raises(LookupError):
        jobs.complete(conn, 999, {})


def test_changes_are_committed(conn, jobs_database):
    job_id = jobs.enqueue(conn, "reverse", {"text": "x"})
    with connect(jobs_database) as other:
        assert jobs.get(other, job_id).status == jobs.PENDING
