import pytest
from example_common import testing
from example_common.db import connect


@pytest.fixture(scope="session")
def database_url():
    return testing.admin_database_url()


@pytest.fixture(scope="session")
def jobs_database(database_url):
    with testing.jobs_database(database_url, prefix="example_worker_test") as url:
        yield url


@pytest.fixture
def conn(jobs_database):
    with connect(jobs_database) as conn:
        conn.execute("TRUNCATE jobs RESTART IDENTITY")
        yield conn
