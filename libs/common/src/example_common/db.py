"""PostgreSQL connections (psycopg 3)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg

_SCHEMES = ("postgresql", "postgres")


def normalize_url(url: str) -> str:
    """Return a libpq-compatible URL.

    Accepts ``postgresql://`` and ``postgres://`` URLs as well as SQLAlchemy-style
    ``postgresql+psycopg://`` (the ``+driver`` suffix is dropped).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in _SCHEMES:
        raise ValueError(f"not a PostgreSQL URL (scheme {parts.scheme!r}); expected postgresql://")
    return urlunsplit(("postgresql", *parts[1:]))


def with_database(url: str, dbname: str) -> str:
    """Return ``url`` pointing at database ``dbname`` (same server and credentials)."""
    parts = urlsplit(normalize_url(url))
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    """Open an autocommit connection to ``url`` (default: ``$DATABASE_URL``).

    Autocommit keeps each statement its own transaction; the job functions open
    explicit transactions (``conn.transaction()``) where they need one.
    """
    if url is None:
        url = os.environ.get("DATABASE_URL")
        if not url:
            raise RuntimeError("DATABASE_URL is not set")
    kwargs.setdefault("autocommit", True)
    return psycopg.connect(normalize_url(url), **kwargs)
