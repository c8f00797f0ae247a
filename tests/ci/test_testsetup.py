"""The test layer of settings and the setup commands: what a unit's tests get, and the test key."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from shipyard.ci import pipeline as ci
from shipyard.ci import testing
from shipyard.ci.pipeline import RunOptions
from shipyard.ci.testsetup import key_inputs, setup_commands
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, load_project
from shipyard.run.keys import Inputs
from shipyard.run.results import FAILED, PASSED
from shipyard.settings import load_settings
from shipyard.settings.layers import load_test_settings
from tests.helpers import git, python_unit, run_invoke, write

TOKEN = "tok-3f9a1c77e2b04d5c"  # a secret test setting: must never reach a file shipyard writes

READS_SETTINGS = """\
import os


def test_settings():
    assert os.environ["API_URL"] == "http://127.0.0.1:9/test"
    assert os.environ["API_TOKEN"] == "tok-3f9a1c77e2b04d5c"
    assert os.environ["LOG_LEVEL"] == "debug"
"""


def _with_settings(repo: Path) -> Project:
    """services/b's test reads settings from the test layer: test-env, .env.test and <unit>/.env.test."""
    python_unit(repo, "services/b", "b", extra_table='test-env = { LOG_LEVEL = "debug", API_URL = "http://x" }')
    write(repo / "services" / "b" / "tests" / "test_b.py", READS_SETTINGS)
    write(repo / ".env.test", "API_URL=http://127.0.0.1:9/test\n")
    write(repo / "services" / "b" / ".env.test", f"API_TOKEN={TOKEN}\n")
    write(repo / ".gitignore", ".env*\n")  # as `shipyard init` writes it: the layers are no files of the unit
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tests read settings")
    return load_project(repo)


def _files_holding(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_layers_of_the_test_settings_lowest_first(repo: Path) -> None:
    python_unit(
        repo,
        "libs/core",
        "core",
        kind="lib",
        extra_table='env = { A = "env", B = "env" }\ntest-env = { B = "test-env", C = "test-env" }',
    )
    write(repo / ".env", "C=.env\nD=.env\n")
    write(repo / ".env.test", "D=.env.test\nE=.env.test\nDECLARED\n")
    write(repo / "libs" / "core" / ".env.test", "E=unit\n")
    write(repo / ".env.staging", "F=staging\n")  # another environment's layer: not a test setting
    project = load_project(repo)
    settings = load_test_settings(project, project.units["core"], environ={"DECLARED": "shell", "HOME": "/x"})
    found = {s.key: (s.value, s.source) for s in settings}
    assert found == {
        "A": ("env", "default (libs/core/pyproject.toml)"),
        "B": ("test-env", "test-env (libs/core/pyproject.toml)"),
        "C": (".env", ".env"),
        "D": (".env.test", ".env.test"),
        "E": ("unit", "libs/core/.env.test"),
        "DECLARED": ("shell", "process environment"),  # HOME is declared nowhere: not a setting
    }
    assert settings.environment == "test" and settings.missing() == []


def test_invoke_config_shows_the_test_layer_with_sources(repo: Path) -> None:
    _with_settings(repo)
    out = run_invoke(repo, "config", "--env", "test", "-s", "b")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "API_TOKEN  [REDACTED]" in out.stdout and TOKEN not in out.stdout
    assert "services/b/.env.test" in out.stdout and "test-env (services/b/pyproject.toml)" in out.stdout


def test_the_tests_get_the_test_settings_and_a_change_reruns_them(repo: Path) -> None:
    project = _with_settings(repo)
    first = ci.test(project, project.select(["b"]), RunOptions())  # the nox session
    assert [r.status for r in first] == [PASSED], first[0].output
    write(repo / "services" / "b" / "tests" / "test_more.py", "def test_more():\n    pass\n")
    git(repo, "add", "-A")
    second = ci.test(project, project.select(["b"]), RunOptions())  # the direct run in nox's venv
    assert [(r.status, r.cached) for r in second] == [(PASSED, False)], second[0].output
    assert second[0].output.startswith("$ pytest --junitxml=")
    assert ci.test(project, project.select(["b"]), RunOptions())[0].cached  # nothing changed
    write(repo / "services" / "b" / ".env.test", "API_TOKEN=tok-another-one-0042\n")  # ignored by git
    changed = ci.test(project, project.select(["b"]), RunOptions())
    assert (changed[0].status, changed[0].cached) == (FAILED, False)  # rerun: the test wants the old token
    assert _files_holding(repo / ".shipyard", TOKEN) == []
    assert _files_holding(repo / ".shipyard", "tok-another-one-0042") == []


def test_secret_values_enter_the_key_hashed_and_are_redacted_in_output(repo: Path) -> None:
    project = _with_settings(repo)
    write(
        repo / "services" / "b" / "tests" / "test_b.py",
        "import os\n\ndef test_leak():\n    print(os.environ['API_TOKEN'])\n    assert False\n",
    )
    git(repo, "add", "-A")
    inputs = key_inputs(project, project.units["b"])
    assert TOKEN not in str(inputs) and str(inputs["test-settings"]["API_TOKEN"]).startswith("sha256:")  # type: ignore[index]
    assert inputs["test-settings"]["API_URL"] == "http://127.0.0.1:9/test"  # type: ignore[index]
    out = run_invoke(repo, "test", "-s", "b")
    assert out.returncode == 1 and "[REDACTED]" in out.stdout, out.stdout
    assert TOKEN not in out.stdout + out.stderr
    assert _files_holding(repo / ".shipyard", TOKEN) == []


def test_a_test_only_layer_may_be_tracked_with_a_throwaway_password(repo: Path) -> None:
    url = "postgresql://app:throwaway-pw@127.0.0.1:5432/test"
    write(repo / ".env.test", f"DATABASE_URL={url}\n")
    python_unit(repo, "services/b", "b", extra_table=f'test-env = {{ DB2 = "{url}" }}')
    git(repo, "add", "-f", ".env.test")
    git(repo, "add", "-A")
    project = load_project(repo)
    settings = load_test_settings(project, project.units["b"])
    assert {s.key: s.secret for s in settings} == {"DATABASE_URL": True, "DB2": True}
    write(repo / ".env", f"DATABASE_URL={url}\n")  # a layer every environment reads stays guarded
    git(repo, "add", "-f", ".env")
    with pytest.raises(ShipyardError, match=r"^\.env is tracked by git"):
        load_test_settings(project, project.units["b"])


def test_a_reference_in_the_test_layer_is_one_clear_error(repo: Path) -> None:
    write(repo / ".env.test", "API_TOKEN=ssm:/test/db\n")
    project = load_project(repo)
    with pytest.raises(ShipyardError) as info:
        testing.test_jobs(project, project.select(["b"]), inputs=Inputs.read(project))
    assert info.value.message == "b: test setting API_TOKEN is a reference (ssm:/test/db) from .env.test"
    assert "tests get values" in str(info.value.hint)
    assert load_settings(project, "local", project.units["b"]).get("API_TOKEN") is None  # not a local layer


def test_test_is_not_a_deploy_environment(repo: Path) -> None:
    with pytest.raises(ShipyardError, match="unknown environment 'test'"):
        load_project(repo).environment("test")


# -- setup commands -------------------------------------------------------------------------


def test_setup_lines_are_split_like_a_shell_and_bad_ones_are_config_errors(repo: Path) -> None:
    python_unit(repo, "services/b", "b", extra_table='test-setup = ["alembic upgrade head", "python -c \'print(1)\'"]')
    assert setup_commands(load_project(repo).units["b"]) == [
        ("alembic", "upgrade", "head"),
        ("python", "-c", "print(1)"),
    ]
    python_unit(repo, "services/b", "b", extra_table='test-setup = ["python -c \'print(1)"]')
    with pytest.raises(ShipyardError, match=r"^services/b/pyproject.toml: test-setup\[0\]: cannot split"):
        setup_commands(load_project(repo).units["b"])


SETUP_WRITES = 'test-setup = ["python prepare.py --for tests"]'
PREPARE = "import os, pathlib, sys\npathlib.Path('ready.txt').write_text(os.environ['API_URL'] + sys.argv[2])\n"
READS_SETUP = """\
import pathlib


def test_setup_ran_first():
    assert pathlib.Path("ready.txt").read_text() == "http://127.0.0.1:9/testtests"
"""


def test_setup_runs_before_the_tests_with_the_test_settings_and_enters_the_key(repo: Path) -> None:
    python_unit(repo, "services/b", "b", extra_table=SETUP_WRITES)
    write(repo / "services" / "b" / "tests" / "test_b.py", READS_SETUP)
    write(repo / "services" / "b" / "prepare.py", PREPARE)
    write(repo / ".env.test", "API_URL=http://127.0.0.1:9/test\n")
    write(repo / ".gitignore", "ready.txt\n")
    git(repo, "add", "-A")
    project = load_project(repo)
    for run in ("nox", "direct"):
        (repo / "services" / "b" / "ready.txt").unlink(missing_ok=True)
        [result] = ci.test(project, project.select(["b"]), RunOptions(cache=False))
        assert result.status == PASSED, (run, result.output)
    assert result.output.startswith(
        "$ python prepare.py --for tests\n$ pytest --junitxml="
    )  # direct: setup, then pytest
    before = testing.test_key(project, project.units["b"], "3.11", Inputs.read(project))
    python_unit(repo, "services/b", "b", extra_table=SETUP_WRITES.replace("--for", "--for="))
    changed = load_project(repo)
    assert testing.test_key(changed, changed.units["b"], "3.11", Inputs.read(changed)) != before


def test_a_failing_setup_command_fails_the_tests_and_says_so(repo: Path) -> None:
    python_unit(
        repo,
        "services/b",
        "b",
        extra_table='test-setup = ["python -c \\"import sys; print(\'no database\'); sys.exit(3)\\""]',
    )
    git(repo, "add", "-A")
    project = load_project(repo)
    for run in ("nox", "direct"):
        [result] = ci.test(project, project.select(["b"]), RunOptions())
        assert result.status == FAILED, run
        assert result.reason.startswith(
            "test setup `python -c \"import sys; print('no database'); sys.exit(3)\"` failed"
        ), (run, result.reason)
        assert "no database" in result.output and "(exit 3)" in result.reason, run
        assert "passed" not in result.output, run  # pytest never ran
    out = run_invoke(repo, "test", "-s", "b")
    assert out.returncode == 1 and "test setup `python -c" in out.stdout and "no database" in out.stdout, out.stdout


# -- against the machine's PostgreSQL, as CI provides it ------------------------------------


@pytest.fixture
def database(database_url: str) -> Iterator[str]:
    """A database of this test's own on the machine's PostgreSQL; its URL."""
    name = f"shipyard_ts_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(database_url)
    admin = {**os.environ, "PGDATABASE": parts.path.lstrip("/") or "postgres"}
    subprocess.run(("psql", database_url, "-qc", f"CREATE DATABASE {name}"), check=True, capture_output=True, env=admin)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    subprocess.run(("psql", database_url, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"), capture_output=True)


ALEMBIC_ENV = """\
import os

from alembic import context
from sqlalchemy import create_engine

url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
with create_engine(url).connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
"""
MIGRATION = """\
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.execute("CREATE TABLE orders (id integer PRIMARY KEY)")
"""
USES_THE_TABLE = """\
import os

import psycopg


def test_the_migrated_table_is_there():
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
"""


def test_alembic_upgrade_head_runs_against_the_ci_database_before_pytest(
    repo: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = python_unit(
        repo, "services/b", "b", extra_table='test-setup = ["alembic upgrade head"]\ntest-services = ["postgres"]'
    )
    pyproject = unit / "pyproject.toml"
    deps = 'dependencies = ["alembic", "sqlalchemy", "psycopg[binary]"]\n\n[project.optional-dependencies]'
    pyproject.write_text(pyproject.read_text().replace("[project.optional-dependencies]", deps))
    write(unit / "alembic.ini", "[alembic]\nscript_location = migrations\n")
    write(unit / "migrations" / "env.py", ALEMBIC_ENV)
    write(unit / "migrations" / "versions" / "0001_orders.py", MIGRATION)
    write(unit / "tests" / "test_b.py", USES_THE_TABLE)
    # the compose file's postgres is what a laptop would start; CI provides its own
    write(repo / "docker-compose.yml", "services:\n  postgres:\n    image: postgres:15\n")
    write(repo / ".env.test", "DATABASE_URL\n")  # declared; the value is CI's
    git(repo, "add", "-A")
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("SHIPYARD_TEST_SERVICES", "external")
    project = load_project(repo)
    [result] = ci.test(project, project.select(["b"]), RunOptions())
    assert result.status == PASSED, result.output
    assert "nox > alembic upgrade head" in result.output
    version = subprocess.run(
        ("psql", database, "-tAc", "SELECT version_num FROM alembic_version"), capture_output=True, text=True
    )
    assert version.stdout.strip() == "0001", version.stderr
