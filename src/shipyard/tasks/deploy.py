"""Tasks: deploy, migrate, rollback, status, history, lock.status, lock.release."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from invoke.collection import Collection
from invoke.tasks import task

from shipyard.cli.console import guarded
from shipyard.core.errors import ShipyardError
from shipyard.tasks.common import NONE, Whole, exit_for, project, selected

ENV_HELP = "environment (default: default-environment, usually `local`)"
DEPLOY_HELP = {
    "env": ENV_HELP,
    "service": "service to deploy (repeatable); default: every service whose release changed",
    "plan": "print the plan (digests, task-definition diff and drift, pending migrations) and stop",
    "yes": "confirm a deploy to a protected environment without asking (CI)",
    "confirm": "the environment's name, typed (a workflow_dispatch input): confirms like --yes; any other text refuses",
    "lock-wait": "seconds to wait for another deploy's lock (default: fail at once)",
    "force": "deploy without passing CI (require-ci) or a release promote-from never verified; recorded",
    "verbose": "stream build output",
    "since": "only the services affected by changes since this git ref (e.g. origin/main)",
}


def _env(env: str) -> str:
    return env or project().settings["default-environment"]


def _confirmed(env: str, yes: bool, typed: str) -> bool:
    """``--yes``, or ``--confirm`` with the environment's name typed exactly; a mismatch refuses."""
    if not typed.strip():  # nothing typed: as if --confirm were not given
        return yes
    if typed.strip() != env:
        raise ShipyardError(
            f"the typed confirmation {typed.strip()!r} is not the environment's name {env!r}: nothing was changed",
            hint=f"type {env} exactly to confirm",
        )
    return True


def _names(c: Any, service: list[str] | None, since: str = "") -> tuple[str, ...]:
    """The services named (-s, the namespace, --since); () means the command's default."""
    if since:
        return tuple(u.name for u in selected(c, service, libs=False, since=since))
    return tuple(u.name for u in selected(c, service)) if service or _bound(c) else ()


def _affected_names(c: Any, service: list[str] | None, since: str, action: str) -> tuple[str, ...] | None:
    """``_names``, or None — after saying so — when --since leaves no service to ``action``."""
    names = _names(c, service, since)
    if since and not names:
        print(f"nothing to {action}: no service changed since {since}")
        return None
    return names


def _bound(c: Any) -> bool:
    from shipyard.tasks.common import bound_service

    return bound_service(c) is not None


@task(iterable=["service"], help=DEPLOY_HELP)
@guarded
def deploy(
    c: Any,
    env: str = "",
    service: list[str] | None = None,
    plan: bool = False,
    yes: bool = False,
    lock_wait: int = NONE,
    force: bool = False,
    verbose: bool = False,
    since: str = "",
    confirm: str = "",
) -> None:
    """Plan, lock, migrate, roll out, verify, record.

    A protected environment asks for confirmation (or --yes); --plan prints the plan and stops.
    """
    from shipyard.deploy.commands import DeployOptions
    from shipyard.deploy.commands import deploy as run_deploy

    names = _affected_names(c, service, since, "deploy")
    if names is None:
        return
    name = _env(env)
    options = DeployOptions(names, plan, _confirmed(name, yes, confirm), float(lock_wait), force, verbose)
    exit_for(run_deploy(project(), name, options))


@task(
    iterable=["service"],
    help={
        "env": ENV_HELP,
        "service": "service (repeatable); default: all with migrations",
        "check": "only list pending revisions; exits 3 when any are pending, 0 when up to date",
        "yes": "confirm migrations in a protected environment without asking (CI)",
        "confirm": DEPLOY_HELP["confirm"],
        "lock-wait": DEPLOY_HELP["lock-wait"],
        "since": DEPLOY_HELP["since"],
    },
)
@guarded
def migrate(
    c: Any,
    env: str = "",
    service: list[str] | None = None,
    check: bool = False,
    yes: bool = False,
    lock_wait: int = NONE,
    since: str = "",
    confirm: str = "",
) -> None:
    """alembic upgrade head, recorded in the ledger (--check: list pending revisions, exit 3 if any).

    A protected environment asks for confirmation (or --yes); one with promote-from migrates
    only from the release its source environment verified.
    """
    from invoke.exceptions import Exit

    from shipyard.deploy.commands import run_migrations
    from shipyard.deploy.migrate_command import PENDING_EXIT

    names = _affected_names(c, service, since, "migrate")
    if names is None:
        return
    name = _env(env)
    yes = _confirmed(name, yes, confirm)
    statuses = run_migrations(project(), name, names, check_only=check, yes=yes, lock_wait=float(lock_wait))
    if check and any(s.pending for s in statuses.values()):
        raise Exit(code=PENDING_EXIT)


@task(
    iterable=["service"],
    help={
        "env": ENV_HELP,
        "service": "the service to roll back",
        "to": "release number to go back to (default: the newest successful release older than the running one)",
        "yes": DEPLOY_HELP["yes"],
        "confirm": DEPLOY_HELP["confirm"],
        "lock-wait": DEPLOY_HELP["lock-wait"],
    },
)
@guarded
def rollback(
    c: Any,
    env: str = "",
    service: list[str] | None = None,
    to: int = NONE,
    yes: bool = False,
    lock_wait: int = NONE,
    confirm: str = "",
) -> None:
    """Put a service back on its previous (or a named) release."""
    from shipyard.deploy.commands import rollback as run_rollback

    names = _names(c, service)
    if len(names) != 1:
        raise ShipyardError("rollback acts on one service", hint="name it: invoke rollback --env ENV -s SERVICE")
    name = _env(env)
    run_rollback(project(), name, names[0], to=to, yes=_confirmed(name, yes, confirm), lock_wait=float(lock_wait))


@task(help={"env": ENV_HELP, "json": "print JSON instead of a table"})
@guarded
def status(c: Any, env: str = "", json_: bool = False) -> None:
    """What runs where: release, digest, git sha, who, when."""
    from shipyard.deploy.commands import status as read_status
    from shipyard.deploy.report import status_table

    name = _env(env)
    rows = read_status(project(), name)
    print(json.dumps(rows, indent=2) if json_ else status_table(name, rows))


@task(
    iterable=["service"],
    help={
        "env": ENV_HELP,
        "service": "only this service",
        "limit": "entries (default 20)",
        "json": "print JSON instead of a table",
    },
)
@guarded
def history(
    c: Any, env: str = "", service: list[str] | None = None, limit: int = Whole(20), json_: bool = False
) -> None:
    """Every deploy and rollback attempt, newest first."""
    from shipyard.deploy.commands import history as read_history
    from shipyard.deploy.report import history_table

    names = _names(c, service)
    if len(names) > 1:
        raise ShipyardError("history shows one service or all", hint="drop -s or give it once")
    name = _env(env)
    entries = read_history(project(), name, names[0] if names else None, limit)
    print(json.dumps([asdict(e) for e in entries], indent=2) if json_ else history_table(name, entries))


@task(name="status", help={"env": ENV_HELP})
@guarded
def lock_status(c: Any, env: str = "") -> None:
    """Who holds the deploy lock, since when, until when."""
    from shipyard.deploy.commands import lock_status as read_lock
    from shipyard.deploy.report import lock_line

    name = _env(env)
    print(lock_line(name, read_lock(project(), name)))


@task(name="release", help={"env": ENV_HELP})
@guarded
def lock_release(c: Any, env: str = "") -> None:
    """Release a deploy lock whose holder is gone."""
    from shipyard.deploy.commands import lock_release as release
    from shipyard.deploy.report import lock_line

    name = _env(env)
    held = release(project(), name)
    print(f"released: {lock_line(name, held)}" if held else f"{name}: was not locked")


TOP_LEVEL = [deploy, migrate, rollback, status, history]
PER_SERVICE = [deploy, migrate, rollback, history]
COLLECTIONS = [Collection("lock", lock_status, lock_release)]
