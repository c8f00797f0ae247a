"""Test helpers: throwaway PostgreSQL databases."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from psycopg import sql

from .db import connect, with_database


@contextlib.contextmanager
def temporary_database(admin_url: str, prefix: str = "test") -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with connect(admin_url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin_url, name)
    finally:
        with connect(admin_url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
