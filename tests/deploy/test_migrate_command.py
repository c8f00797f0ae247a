"""``invoke migrate`` on its own (docker path, real PostgreSQL, moto): --check's exit code, the
record and notification of every run, protected environments, promote-from."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.deploy.commands import run_migrations
from shipyard.deploy.ledger import FAILED, MIGRATE, SUCCEEDED
from shipyard.deploy.lock import DeployLock
from shipyard.deploy.migrate import MigrationFailed
from tests.deploy.ecs_example import Cloud, Endpoint, psql
from tests.deploy.test_transaction import Output, ledger, run_deploy
from tests.helpers import run_invoke

pytestmark = pytest.mark.integration

NO_TABLE = "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'"


@pytest.fixture
def staging(ecs_aws: str, ecs_database: str, smoke_endpoint: Endpoint) -> Cloud:
    smoke_endpoint.status = 200
    return Cloud("staging", ecs_database).create()


def test_check_exits_3_while_revisions_are_pending_and_0_when_up_to_date(
    ecs_repo: Path, staging: Cloud, ecs_database: str, ecs_aws: str
) -> None:
    done = run_invoke(ecs_repo, "migrate", "--env", "staging", "--check", env={"AWS_ENDPOINT_URL": ecs_aws})
    assert done.returncode == 3, done.stdout + done.stderr
    assert "api: at base; pending: 0001, 0002" in done.stdout
    assert psql(ecs_database, NO_TABLE) == "0"  # --check changes nothing
    run_migrations(load_project(ecs_repo), "staging", ("api",), check_only=False, say=Output())
    done = run_invoke(ecs_repo, "migrate", "--env", "staging", "--check", env={"AWS_ENDPOINT_URL": ecs_aws})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "api: at 0002; pending: none" in done.stdout
    shown = run_invoke(ecs_repo, "migrate", "--help")
    assert "exits 3 when any are pending" in " ".join(shown.stdout.split())


def test_every_run_is_recorded_and_notified_and_a_failure_names_the_environment(
    ecs_repo: Path, staging: Cloud, ecs_database: str, slack_endpoint: Endpoint
) -> None:
    project = load_project(ecs_repo)
    psql(ecs_database, "CREATE TABLE jobs (id int)")  # 0001 creates `jobs`: it will fail
    slack_endpoint.posts.clear()
    with pytest.raises(MigrationFailed) as info:
        run_migrations(project, "staging", (), check_only=False, say=Output())
    assert info.value.hint is not None and "retry: invoke migrate --env staging -s api" in info.value.hint
    (failed,) = ledger(ecs_repo, "staging").history()
    assert (failed.action, failed.outcome, failed.migration) == (MIGRATE, FAILED, "base")
    assert failed.reason.startswith("api: alembic upgrade head failed:") and 'relation "jobs"' in failed.reason
    assert any(p["text"].startswith("migration of api in staging failed:") for p in slack_endpoint.posts)
    assert DeployLock(ledger(ecs_repo, "staging").store, "staging").status() is None

    psql(ecs_database, "DROP TABLE jobs")
    run_migrations(project, "staging", (), check_only=False, say=Output())
    run_migrations(project, "staging", (), check_only=False, say=Output())  # nothing pending: still a run
    again, applied, _ = ledger(ecs_repo, "staging").history()
    assert (applied.outcome, applied.migration, applied.reason) == (
        SUCCEEDED,
        "0002",
        "0001, 0002 applied (base -> 0002)",
    )
    assert (again.outcome, again.migration, again.reason) == (SUCCEEDED, "0002", "none pending (at 0002)")
    texts = [p["text"] for p in slack_endpoint.posts]
    assert any("migrated api in staging" in t and "0001, 0002 applied" in t for t in texts)
    assert any("ran the migrations of api in staging: none pending" in t for t in texts)
    assert all("hook-secret-1234" not in t for t in texts)


def test_production_confirms_and_migrates_only_the_release_staging_verified(
    ecs_repo: Path,
    staging: Cloud,
    ecs_production_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Cloud("production", ecs_production_database).create()
    project = load_project(ecs_repo)
    # nothing verified in staging yet: not even --check reads the checkout's migrations
    for check_only in (True, False):
        with pytest.raises(ShipyardError) as info:
            run_migrations(project, "production", ("api",), check_only=check_only, yes=True, say=Output())
        assert "'production' migrates only from releases 'staging' verified" in info.value.message
        assert info.value.hint is not None and "invoke deploy --env staging" in info.value.hint
    run_deploy(ecs_repo, "staging", "api")
    verified = ledger(ecs_repo, "staging").history("api")[0]

    with pytest.raises(ShipyardError) as info:  # no terminal, no --yes: refused before anything runs
        run_migrations(project, "production", ("api",), check_only=False, say=Output())
    assert info.value.message == (
        "production is protected: a migration needs confirmation, and there is no terminal to ask on"
    )
    assert info.value.hint is not None and "--yes" in info.value.hint
    assert psql(ecs_production_database, NO_TABLE) == "0"

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    asked: list[str] = []

    def no(question: str) -> str:
        asked.append(question)
        return "n"

    with pytest.raises(ShipyardError, match="migration not confirmed: nothing was changed"):
        run_migrations(project, "production", ("api",), check_only=False, say=Output(), ask=no)
    assert asked == ["apply the migrations of api to production (api: 0001, 0002)? [y/N] "]
    assert psql(ecs_production_database, NO_TABLE) == "0"

    out = Output()
    run_migrations(project, "production", ("api",), check_only=False, say=out, ask=lambda _: "y")
    assert psql(ecs_production_database, "SELECT version_num FROM alembic_version") == "0002"
    assert f"api: migrations of the release staging verified ({verified.artifact})" in out.text
    assert "pushed" not in out.text and "build" not in out.text  # the verified digest: nothing built
    (entry,) = ledger(ecs_repo, "production").history()
    assert (entry.action, entry.artifact, entry.migration) == (MIGRATE, verified.artifact, "0002")
