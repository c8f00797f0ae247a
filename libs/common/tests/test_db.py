import pytest

from example_common.db import normalize_url, with_database


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@h:5432/db",
        "postgres://u:p@h:5432/db",
        "postgresql+psycopg://u:p@h:5432/db",
    ],
)
def test_normalize_url(url):
    assert normalize_url(url) == "postgresql://u:p@h:5432/db"


def test_normalize_url_rejects_other_schemes():
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        normalize_url("mysql://u@h/db")


def test_with_database_keeps_server_and_query():
    url = "postgresql://u:p@h:5432/postgres?sslmode=disable"
    assert with_database(url, "other") == "postgresql://u:p@h:5432/other?sslmode=disable"


def test_connect_runs_queries(conn):
    assert conn.execute("SELECT 1").fetchone() == (1,)
