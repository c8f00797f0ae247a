"""A small job queue on a PostgreSQL ``jobs`` table.

The table is owned by the api service's alembic migrations. Columns used here:
id, kind, payload (jsonb), status, result (jsonb), error, created_at, updated_at,
finished_at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
STATUSES = (PENDING, RUNNING, DONE, FAILED)

_COLUMNS = "id, kind, payload, status, result, error, created_at, finished_at"


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    status: str
    result: Any = None
    error: str | None = None
    created_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "payload": self.payload,
            "status": self.status,
            "result": self.result,
            "error": self.error,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def _job(row: dict[str, Any] | None) -> Job | None:
    return Job(**row) if row is not None else None


def enqueue(conn: psycopg.Connection, kind: str, payload: dict[str, Any]) -> int:
    """Insert a pending job and return its id."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "INSERT INTO jobs (kind, payload, status) VALUES (%s, %s, %s) RETURNING id",
            (kind, Jsonb(payload), PENDING),
        )
        (job_id,) = cur.fetchone()
    return job_id


def claim_next(conn: psycopg.Connection) -> Job | None:
    """Atomically take the oldest pending job and mark it running.

    ``FOR UPDATE SKIP LOCKED`` lets several workers claim concurrently without
    blocking on, or double-claiming, the same row.
    """
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""
            UPDATE jobs SET status = %s, updated_at = now()
            WHERE id = (
                SELECT id FROM jobs
                WHERE status = %s
                ORDER BY id
                FOR UPDATE SKIP LOCKED
                LIMIT 1
            )
            RETURNING {_COLUMNS}
            """,
            (RUNNING, PENDING),
        )
        return _job(cur.fetchone())


def _finish(conn: psycopg.Connection, job_id: int, status: str, result: Any, error: str | None):
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            """
            UPDATE jobs
            SET status = %s, result = %s, error = %s, updated_at = now(), finished_at = now()
            WHERE id = %s
            """,
            (status, Jsonb(result) if result is not None else None, error, job_id),
        )
        if cur.rowcount != 1:
            raise LookupError(f"no job with id {job_id}")


def complete(conn: psycopg.Connection, job_id: int, result: Any) -> None:
    """Mark a job done with its result."""
    _finish(conn, job_id, DONE, result, None)


def fail(conn: psycopg.Connection, job_id: int, error: str) -> None:
    """Mark a job failed with an error message."""
    _finish(conn, job_id, FAILED, None, error)


def get(conn: psycopg.Connection, job_id: int) -> Job | None:
    """Return the job with ``job_id``, or None."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = %s", (job_id,))
        return _job(cur.fetchone())
