"""Migrations before traffic moves: the unit's migration tool (``migration-tool``, a plugin of
deploy/migrations/: alembic), run from the very image being deployed.

The image carries the service's ``alembic.ini`` and migrations under /app (the unit's
``migrations`` setting names the file; see services/api/Dockerfile). Two ways to run it:

- ``docker`` (default): a local container with host networking, for databases the
  deploying machine can reach: ``docker run --rm --network host -e DATABASE_URL <image> ...``.
  The URL (a secret) travels in the docker CLI's environment, never in argv or output.
- ``ecs``: a one-off task of the new task-definition revision, for VPC-only databases;
  the container gets DATABASE_URL the way the service does (a ``valueFrom`` reference).

Commands are values (``Command``); ``run`` executes them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.core.secrets import Sensitive, redact
from shipyard.deploy.migrations import DEFAULT_TOOL, MIGRATION_TOOLS
from shipyard.deploy.migrations.alembic import STATUS_SCRIPT as STATUS_SCRIPT  # re-exported: tests read it
from shipyard.run.proc import Command, command, run

if TYPE_CHECKING:
    from shipyard.settings import Settings

URL_KEY = "DATABASE_URL"
IMAGE_ROOT = "/app"


class MigrationFailed(ShipyardError):
    """alembic failed: the deploy stops before any service changes. ``output`` is alembic's (redacted)."""

    def __init__(self, message: str, hint: str | None = None, output: str = "") -> None:
        super().__init__(message, hint)
        self.output = output


@dataclass(frozen=True)
class Migration:
    """One service's migrations: which image, which alembic.ini inside it, how to run it."""

    service: str
    image: str  # repo@sha256:...
    config: str  # path of alembic.ini inside the image
    via: str  # docker | ecs

    @property
    def in_target(self) -> bool:
        """Whether the migrations run inside the deploy target (a one-off task), not from here."""
        return self.via != "docker"

    env: str = ""  # the environment, for the hints that name the command to run again
    tool: str = DEFAULT_TOOL  # the migration tool (deploy/migrations/)

    @property
    def upgrade_label(self) -> str:
        """``alembic upgrade head``: the upgrade as the tool's users know it."""
        return MIGRATION_TOOLS.load(self.tool).upgrade_label


@dataclass(frozen=True)
class MigrationStatus:
    current: str
    pending: tuple[str, ...]

    @property
    def head(self) -> str:
        return self.pending[-1] if self.pending else self.current


def migration_for(unit: Unit, image: str, environment: Mapping[str, Any], env: str = "") -> Migration | None:
    """The migration of ``unit`` (None when it has no ``migrations`` setting)."""
    ini = unit.settings.get("migrations", "")
    if not ini:
        return None
    via = environment.get("migrate-via", "docker")
    tool = str(unit.settings.get("migration-tool") or DEFAULT_TOOL)
    return Migration(unit.name, image, f"{IMAGE_ROOT}/{ini.lstrip('/')}", via, env, tool)


def alembic_argv(m: Migration, *args: str) -> tuple[str, ...]:
    """The migration tool's own command inside the container (``alembic -c <ini> ...``)."""
    return MIGRATION_TOOLS.load(m.tool).argv(m.config, *args)


def status_argv(m: Migration, *, upgrade: bool = False) -> tuple[str, ...]:
    """The tool's status command; with ``upgrade``, it also upgrades to head and prints the revision after."""
    return MIGRATION_TOOLS.load(m.tool).status_argv(m.config, upgrade=upgrade)


def container_name(m: Migration) -> str:
    """A name to find (and stop) the migration container by: ``shipyard-migrate-<unit>-<random>``."""
    return f"shipyard-migrate-{m.service}-{uuid.uuid4().hex[:8]}"


def docker_command(m: Migration, argv: tuple[str, ...], url: Sensitive, *, name: str = "") -> Command:
    """``docker run`` of the image with host networking; the URL only in the CLI's environment.
    Interrupted (Ctrl-C, SIGTERM), shipyard stops and removes the named container."""
    name = name or container_name(m)
    return command(
        "docker", "run", "--rm", "--name", name, "--network", "host", "-e", URL_KEY, m.image, *argv,
        env={URL_KEY: url.reveal()},
        on_interrupt=(("docker", "stop", "--time", "10", name), ("docker", "rm", "--force", name)),
    )  # fmt: skip


def parse_now(output: str) -> str:
    """The revision the upgrade script read back after upgrading ("" when it never got there)."""
    found = [line.strip()[4:] for line in output.splitlines() if line.strip().startswith("now ")]
    return found[-1] if found else ""


def retry_hint(m: Migration) -> str:
    """The command that runs ``m`` again (with --env: without it, another environment's database)."""
    env = f" --env {m.env}" if m.env else ""
    return f"invoke migrate{env} -s {m.service}"


def parse_status(output: str) -> MigrationStatus:
    current, pending = "", []
    for line in output.splitlines():
        word, _, value = line.strip().partition(" ")
        if word == "current":
            current = value
        elif word == "pending":
            pending.append(value)
    return MigrationStatus(current, tuple(pending))


_ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception|Failure)\b.*")


def error_line(output: str) -> str:
    """The last ``SomeError: ...`` line of a traceback-style output (the cause, for one line)."""
    found = [line.strip() for line in output.splitlines() if _ERROR_LINE.match(line.strip())]
    return found[-1] if found else (output.strip().splitlines() or [""])[-1]


def failed(m: Migration, what: str, output: str) -> MigrationFailed:
    clean = redact(output)
    return MigrationFailed(
        f"{m.service}: {what} failed: {error_line(clean)}",
        hint=f"fix the migration or the database; nothing was deployed (retry: {retry_hint(m)})",
        output="\n".join(clean.strip().splitlines()[-30:]),
    )


def check(m: Migration, url: Sensitive, *, runner: Callable[[Command], Any] = run) -> MigrationStatus:
    """Current revision and pending revisions of the database (changes nothing)."""
    if m.in_target:
        raise ShipyardError(
            f"{m.service}: pending revisions of a VPC-only database cannot be read from here",
            hint='migrate-via = "ecs" reads them in a one-off ECS task (shipyard.deploy.migrate_run)',
        )
    done = runner(docker_command(m, status_argv(m), url))
    if not done.ok:
        raise failed(m, "reading the migration status", done.output)
    return parse_status(done.output)


def upgrade(m: Migration, url: Sensitive, *, runner: Callable[[Command], Any] = run) -> str:
    """The tool's upgrade (``alembic upgrade head``) in a local container (the status command's upgrade mode); the
    revision the database is at afterwards, read back from it. MigrationFailed with alembic's output."""
    done = runner(docker_command(m, status_argv(m, upgrade=True), url))
    if not done.ok:
        raise failed(m, m.upgrade_label, done.output)
    now = parse_now(done.output)
    if not now:
        raise failed(m, f"{m.upgrade_label} (no revision reported after it)", done.output)
    return now


def database_url(settings: Settings, environment: Mapping[str, Any]) -> Sensitive:
    """The service's DATABASE_URL as Sensitive (references resolved: migrations run here)."""
    from shipyard.settings.refs import SecretRef
    from shipyard.settings.resolve import fetch

    setting = settings.get(URL_KEY)
    if setting is None or not setting.value:
        raise ShipyardError(
            f"{settings.service} has migrations but {URL_KEY} is not set for {settings.environment!r}",
            hint=f"set it in .env.{settings.environment} (an ssm:/... reference works)",
        )
    value = setting.value
    if isinstance(value, SecretRef):
        found, missing = fetch([value], environment)
        if missing:
            raise ShipyardError(f"{settings.service}: {URL_KEY}: {value} {missing[value]}")
        return found[value]
    return value if isinstance(value, Sensitive) else Sensitive(str(value))


def database_label(url: Sensitive) -> str:
    """``host:port/database`` of ``url`` for people, never its user or password."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.reveal())
        host, port = parts.hostname or "localhost", parts.port
    except ValueError:
        return "the database in DATABASE_URL (not a URL)"
    return f"{host}{f':{port}' if port else ''}/{parts.path.lstrip('/') or '(default database)'}"
