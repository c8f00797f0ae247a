from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from example_common.db import connect
from example_common.testing import temporary_database

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def columns(url):
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs'"
        ).fetchall()
    return {name for (name,) in rows}


def test_single_head_and_linear_history(make_alembic_config):
    script = ScriptDirectory.from_config(make_alembic_config("postgresql://unused/x"))
    assert script.get_heads() == ["0002"]
    assert [r.revision for r in script.walk_revisions()] == ["0002", "0001"]


def test_upgrade_downgrade_roundtrip(database_url, make_alembic_config):
    with temporary_database(database_url, prefix="example_api_migrations") as url:
        config = make_alembic_config(url)
        command.upgrade(config, "0001")
        assert "status" in columns(url)
        assert "finished_at" not in columns(url)
        command.upgrade(config, "head")
        assert "finished_at" in columns(url)
        command.downgrade(config, "base")
        assert columns(url) == set()
        command.upgrade(config, "head")
        assert "finished_at" in columns(url)


def test_env_py_reads_database_url_from_environment(database_url, monkeypatch):
    with temporary_database(database_url, prefix="example_api_env") as url:
        monkeypatch.setenv("DATABASE_URL", url)  # a plain postgresql:// URL
        command.upgrade(Config(str(ALEMBIC_INI)), "head")
        assert "finished_at" in columns(url)
