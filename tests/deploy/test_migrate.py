"""Migration commands are values: the docker command line, the status parse, the failure line."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.core.secrets import Sensitive
from shipyard.deploy.migrate import (
    STATUS_SCRIPT,
    Migration,
    MigrationFailed,
    MigrationStatus,
    alembic_argv,
    check,
    database_label,
    docker_command,
    error_line,
    migration_for,
    parse_now,
    parse_status,
    upgrade,
)
from shipyard.deploy.migrate_run import EcsRun
from shipyard.deploy.target import Progress
from shipyard.deploy.targets.ecs import OneOff
from shipyard.deploy.targets.ecs_logs import LogStream, stream_of
from shipyard.run.proc import Command, Completed

IMAGE = "127.0.0.1:5000/api@sha256:" + "1" * 64
M = Migration("api", IMAGE, "/app/alembic.ini", "docker")
URL_TEXT = "postgresql://app:pa55-w0rd-x@db.internal:5432/app"
URL = Sensitive(URL_TEXT)


def unit(migrations: str) -> Unit:
    return Unit("api", "service", "services/api", "x", {"migrations": migrations}, "", True)


def test_migration_for_reads_the_unit_and_environment() -> None:
    assert migration_for(unit("alembic.ini"), IMAGE, {}) == M
    assert migration_for(unit("db/alembic.ini"), IMAGE, {"migrate-via": "ecs"}) == Migration(
        "api", IMAGE, "/app/db/alembic.ini", "ecs"
    )
    assert migration_for(unit(""), IMAGE, {}) is None


def test_the_url_travels_in_the_environment_never_in_argv() -> None:
    cmd = docker_command(M, alembic_argv(M, "upgrade", "head"), URL, name="shipyard-migrate-api-0a1b2c3d")
    assert cmd.argv == (
        "docker",
        "run",
        "--rm",
        "--name",
        "shipyard-migrate-api-0a1b2c3d",
        "--network",
        "host",
        "-e",
        "DATABASE_URL",
        IMAGE,
        "alembic",
        "-c",
        "/app/alembic.ini",
        "upgrade",
        "head",
    )
    assert cmd.env == (("DATABASE_URL", URL.reveal()),)
    assert cmd.on_interrupt == (
        ("docker", "stop", "--time", "10", "shipyard-migrate-api-0a1b2c3d"),
        ("docker", "rm", "--force", "shipyard-migrate-api-0a1b2c3d"),
    )
    assert "pa55-w0rd-x" not in str(cmd)


def test_each_migration_container_gets_a_name_of_its_own() -> None:
    first, second = (docker_command(M, alembic_argv(M, "current"), URL).argv for _ in range(2))
    name = first[first.index("--name") + 1]
    assert name.startswith("shipyard-migrate-api-") and len(name) == len("shipyard-migrate-api-") + 8
    assert second[second.index("--name") + 1] != name


def test_status_is_parsed_from_the_script_output() -> None:
    assert parse_status("current base\npending 0001\npending 0002\n") == MigrationStatus("base", ("0001", "0002"))
    assert parse_status("INFO  [alembic] noise\ncurrent 0002\n") == MigrationStatus("0002", ())
    assert MigrationStatus("0001", ("0002", "0003")).head == "0003"
    assert "iterate_revisions" in STATUS_SCRIPT


def test_a_failure_names_the_cause_and_keeps_the_output_redacted() -> None:
    url = Sensitive(URL_TEXT)  # (re-)registers the value with the redactor, whatever ran before
    output = (
        "INFO  [alembic.runtime.migration] Running upgrade  -> 0001, create jobs table\n"
        'Traceback (most recent call last):\n  File "x", line 1\n'
        'sqlalchemy.exc.ProgrammingError: (psycopg.errors.DuplicateTable) relation "jobs" already exists\n'
        "[SQL: CREATE TABLE jobs ...]\n(Background on this error at: https://sqlalche.me/e/20/f405)\n"
        f"connecting to {url.reveal()}\n"
    )

    def runner(cmd: Command) -> Completed:
        return Completed(cmd, 1, output, 0.1)

    with pytest.raises(MigrationFailed) as info:
        upgrade(M, url, runner=runner)
    assert info.value.message == (
        "api: alembic upgrade head failed: sqlalchemy.exc.ProgrammingError: (psycopg.errors.DuplicateTable) "
        'relation "jobs" already exists'
    )
    assert "pa55-w0rd-x" not in info.value.output and "[REDACTED]" in info.value.output
    assert error_line("just one line") == "just one line"


def test_check_runs_the_status_script_and_ecs_mode_cannot_list() -> None:
    seen: list[Command] = []

    def runner(cmd: Command) -> Completed:
        seen.append(cmd)
        return Completed(cmd, 0, "current 0001\npending 0002\n", 0.1)

    assert check(M, URL, runner=runner) == MigrationStatus("0001", ("0002",))
    assert seen[0].argv[-4:] == ("python", "-c", STATUS_SCRIPT, "/app/alembic.ini")
    with pytest.raises(ShipyardError, match="VPC-only database"):
        check(Migration("api", IMAGE, "/app/alembic.ini", "ecs"), URL, runner=runner)


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("postgresql://app:s3cret-pw@db.internal:5432/orders", "db.internal:5432/orders"),
        ("postgresql+psycopg://app:s3cret-pw@db.internal/orders?sslmode=require", "db.internal/orders"),
        ("postgresql://app@localhost", "localhost/(default database)"),
        ("postgresql://app:pw@[::1:5432/x", "the database in DATABASE_URL (not a URL)"),
    ],
)
def test_database_label_never_shows_credentials(url: str, label: str) -> None:
    assert database_label(Sensitive(url)) == label


def test_the_retry_hint_names_the_environment() -> None:
    m = migration_for(unit("alembic.ini"), IMAGE, {}, "production")
    assert m is not None and m.env == "production"

    def runner(cmd: Command) -> Completed:
        return Completed(cmd, 1, "RuntimeError: boom\n", 0.1)

    with pytest.raises(MigrationFailed) as info:
        upgrade(m, URL, runner=runner)
    assert info.value.hint == (
        "fix the migration or the database; nothing was deployed (retry: invoke migrate --env production -s api)"
    )


def test_upgrade_runs_the_script_in_upgrade_mode_and_returns_the_revision_read_back() -> None:
    seen: list[Command] = []

    def runner(cmd: Command) -> Completed:
        seen.append(cmd)
        return Completed(
            cmd, 0, "current base\npending 0001\nINFO  [alembic] Running upgrade  -> 0001\nnow 0001\n", 0.1
        )

    assert upgrade(M, URL, runner=runner) == "0001"
    assert seen[0].argv[-5:] == ("python", "-c", STATUS_SCRIPT, "/app/alembic.ini", "upgrade")
    assert parse_now("current base\n") == ""


@dataclass
class FakeEcs:
    """An ECS target's one-off task capability, answering with ``done``."""

    done: OneOff
    commands: list[tuple[str, ...]] = field(default_factory=list)

    def run_once(self, unit: Unit, taskdef: str, command: tuple[str, ...], progress: Progress) -> OneOff:
        self.commands.append(tuple(command))
        return self.done


def ecs_run(done: OneOff) -> tuple[EcsRun, FakeEcs, list[str]]:
    said: list[str] = []
    target = FakeEcs(done)
    m = Migration("api", IMAGE, "/app/alembic.ini", "ecs", "staging")
    progress = Progress("api", said.append)
    return EcsRun(m, target, unit("alembic.ini"), lambda: "arn:td/api-staging:7", progress, said.append), target, said


def test_a_failed_one_off_task_names_the_cause_from_its_log_and_the_environment() -> None:
    url = Sensitive(URL_TEXT)  # registers the value with the redactor
    log = f"current 0001\nTraceback (most recent call last):\nsqlalchemy.exc.OperationalError: timeout {url.reveal()}\n"
    run, target, _ = ecs_run(OneOff(1, "Essential container in task exited; api: exit 1", "arn:task/1", log))
    with pytest.raises(MigrationFailed) as info:
        run.upgrade()
    assert info.value.message.startswith(
        "api: alembic upgrade head in ECS exited 1 (Essential container in task exited; api: exit 1): "
        "sqlalchemy.exc.OperationalError: timeout"
    )
    assert "pa55-w0rd-x" not in info.value.message + info.value.output
    assert info.value.hint is not None and "invoke migrate --env staging -s api" in info.value.hint
    assert target.commands == [("python", "-c", STATUS_SCRIPT, "/app/alembic.ini", "upgrade")]


def test_without_awslogs_check_refuses_and_upgrade_records_no_revision() -> None:
    run, _, said = ecs_run(OneOff(0, "Essential container in task exited", "arn:task/1", None))
    with pytest.raises(ShipyardError) as info:
        run.check()
    assert "no awslogs log configuration" in info.value.message
    assert info.value.hint is not None and "awslogs-stream-prefix" in info.value.hint
    assert run.upgrade() == ""  # never the literal "head"
    assert any("the revision reached is unknown" in line for line in said)


def test_the_log_stream_is_the_awslogs_drivers() -> None:
    container = {
        "name": "api",
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": "/ecs/app", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs"},
        },
    }
    assert stream_of(container, "arn:aws:ecs:eu-west-1:1:task/staging/0f1e2d") == LogStream(
        "/ecs/app", "ecs/api/0f1e2d", "eu-west-1"
    )
    assert stream_of({"name": "api"}, "arn:task/1") is None
    assert stream_of({**container, "logConfiguration": {"logDriver": "awslogs", "options": {}}}, "t/1") is None
