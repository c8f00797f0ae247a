"""Where a migration runs: a local container (``docker``) or a one-off ECS task (``ecs``).

Both answer the same two questions: the database's status (current and pending
revisions, changing nothing) and, after ``alembic upgrade head``, the revision it is at
now, read back from the database. In ECS mode the container's output is only in its
CloudWatch log stream (ecs_logs.py), so that is where alembic's lines and the status
come from; they are printed (redacted) either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.core.secrets import Sensitive, redact
from shipyard.deploy import migrate
from shipyard.deploy.migrate import Migration, MigrationFailed, MigrationStatus
from shipyard.deploy.target import Progress, Release
from shipyard.images.ecr import login_for_pull

if TYPE_CHECKING:
    from shipyard.deploy.session import Session
    from shipyard.settings import Settings

NO_LOGS_HINT = (
    "give the container an awslogs logConfiguration (awslogs-group, awslogs-region, awslogs-stream-prefix): "
    "shipyard reads the migration tool's output from the task's log stream"
)


class MigrationRun(Protocol):
    """One service's migration in one environment."""

    @property
    def where(self) -> str: ...

    def check(self) -> MigrationStatus: ...

    def upgrade(self) -> str: ...


@dataclass
class DockerRun:
    """A local container with host networking (the database is reachable from here)."""

    m: Migration
    url: Sensitive
    environment: Mapping[str, Any]

    @property
    def where(self) -> str:
        return migrate.database_label(self.url)

    def check(self) -> MigrationStatus:
        login_for_pull(self.m.image, self.environment)
        return migrate.check(self.m, self.url)

    def upgrade(self) -> str:
        """``alembic upgrade head``; the revision the database is at now."""
        login_for_pull(self.m.image, self.environment)
        return migrate.upgrade(self.m, self.url)


@dataclass
class EcsRun:
    """One-off tasks of a task-definition revision that runs the release's image (VPC-only databases)."""

    m: Migration
    target: Any  # the environment's EcsTarget (run_once)
    unit: Unit
    taskdef: Callable[[], str]  # registers a revision only when one is needed
    progress: Progress
    say: Callable[[str], None] = print
    _arn: str = field(default="", init=False)

    @property
    def arn(self) -> str:
        if not self._arn:
            self._arn = self.taskdef()
        return self._arn

    @property
    def where(self) -> str:
        return "a one-off ECS task"

    def _run(self, what: str, *, upgrade: bool) -> str | None:
        done = self.target.run_once(self.unit, self.arn, migrate.status_argv(self.m, upgrade=upgrade), self.progress)
        output = None if done.output is None else redact(done.output)
        if done.code:
            cause = f": {migrate.error_line(output)}" if output else ""
            raise MigrationFailed(
                f"{self.m.service}: {what} in ECS exited {done.code} ({done.reason}){cause}",
                hint=f"fix the migration or the database; nothing was deployed (retry: {migrate.retry_hint(self.m)})",
                output="\n".join((output or "").strip().splitlines()[-30:]),
            )
        if output:
            self.say("\n".join(f"    {line}" for line in output.strip().splitlines()))
        return output

    def check(self) -> MigrationStatus:
        output = self._run("reading the migration status", upgrade=False)
        if output is None:
            raise ShipyardError(
                f"{self.m.service}: the one-off task's output cannot be read: its task definition has no awslogs "
                "log configuration",
                hint=NO_LOGS_HINT,
            )
        status = migrate.parse_status(output)
        if not status.current:  # never "up to date" from a log that says nothing
            raise ShipyardError(
                f"{self.m.service}: the one-off task's log stream has no migration status in it",
                hint="look at the task's log stream (its container may not have started the script)",
            )
        return status

    def upgrade(self) -> str:
        """``alembic upgrade head`` in the task; the revision read back ("" when the output is unreadable)."""
        output = self._run(self.m.upgrade_label, upgrade=True)
        if output is None:
            self.progress("warning: the revision reached is unknown: the task definition has no awslogs configuration")
            return ""
        now = migrate.parse_now(output)
        if not now:
            raise MigrationFailed(
                f"{self.m.service}: the one-off task exited 0 but never reported the revision it reached",
                hint=f"look at the task's log stream, then retry: {migrate.retry_hint(self.m)}",
                output="\n".join(output.strip().splitlines()[-30:]),
            )
        return now


def release_taskdef(target: Any, unit: Unit, release: Release, settings: Settings) -> str:
    """A task definition that runs ``release``: the service's own when it already does, else a new revision."""
    running = target.current(unit)
    if running is not None and running.artifact == release.artifact:
        return str(running.revision)
    return str(target.register(unit, release, settings))


def runner_for(
    session: Session, unit: Unit, m: Migration, release: Release, settings: Settings, progress: Progress
) -> MigrationRun:
    """The run of ``m`` the environment's ``migrate-via`` asks for."""
    from shipyard.deploy.targets import RUN_ONCE, TARGETS

    if not m.in_target:
        return DockerRun(m, migrate.database_url(settings, session.environment), session.environment)
    target = session.targets.for_unit(unit)
    if not session.targets.can(unit, RUN_ONCE):
        raise ShipyardError(
            f'{unit.name}: migrate-via = "{m.via}" runs a one-off task, which the {target.name} target cannot'
            f" (targets that can: {', '.join(TARGETS.having(RUN_ONCE))})",
            hint=f'set migrate-via = "docker" in [tool.shipyard.environments.{session.env}]',
        )
    return EcsRun(m, target, unit, lambda: release_taskdef(target, unit, release, settings), progress, session.say)
