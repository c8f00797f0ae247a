"""Fixtures of the adoption tests: a registry namespace of their own, a database of their own,
and the removal of every image a test's `shipyard ci` built."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import require
from tests.images.conftest import images_prefix  # noqa: F401  (fixture: registry repositories, removed)


@pytest.fixture
def built_tags() -> Iterator[list[str]]:
    """Tags the test's builds made locally (`<unit>:<fingerprint>`, no prefix: init writes none);
    removed afterwards."""
    tags: list[str] = []
    yield tags
    if tags:
        subprocess.run(["docker", "rmi", "--force", *tags], capture_output=True)


def psql(database_url: str, sql: str) -> None:
    done = subprocess.run(["psql", database_url, "-qc", sql], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    """DATABASE_URL of a new, empty database on the test PostgreSQL; dropped afterwards."""
    require(shutil.which("psql") is not None, "psql")
    name = f"shapes_{uuid.uuid4().hex[:10]}"
    psql(database_url, f"CREATE DATABASE {name}")
    yield database_url.rsplit("/", 1)[0] + f"/{name}"
    psql(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
