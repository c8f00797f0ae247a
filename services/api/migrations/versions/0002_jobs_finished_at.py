"""add jobs.finished_at and a partial index on pending jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:00:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    # Workers claim the oldest pending job: keep that lookup cheap as done jobs pile up.
    op.create_index(
        "ix_jobs_pending",
        "jobs",
        ["id"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_pending", table_name="jobs")
    op.drop_column("jobs", "finished_at")
