from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from example_common.db import connect
from example_common.testing import admin_database_url, temporary_database

from example_api.app import create_app

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@pytest.fixture(scope="session")
def make_alembic_config():
    return alembic_config


@pytest.fixture(scope="session")
def database_url():
    return admin_database_url()


@pytest.fixture(scope="session")
def migrated_database(database_url):
    """A throwaway database for the session, migrated to head with alembic."""
    with temporary_database(database_url, prefix="example_api_test") as url:
        command.upgrade(alembic_config(url), "head")
        yield url


@pytest.fixture
def db(migrated_database):
    with connect(migrated_database) as conn:
        conn.execute("TRUNCATE jobs RESTART IDENTITY")
        yield conn


@pytest.fixture
def app(migrated_database, db):
    return create_app({"DATABASE_URL": migrated_database, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()
