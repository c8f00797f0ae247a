"""``invoke migrate --env E [--check]``: each service's migrations, on their own (no roll-out).

    releases -> check (read the status) -> [--check: stop] -> confirm -> lock -> upgrade -> record -> notify

The image is the release's: built and pushed from the checkout, or, in an environment
with ``promote-from``, the very digest the source environment verified (never the
checkout's build: the migrations that run are the ones that will be deployed). Every
run that is not ``--check`` is recorded in the ledger (action "migrate", with the
revision the database is at afterwards) and notified.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, Unit
from shipyard.core.secrets import redact
from shipyard.deploy.ledger import FAILED, INTERRUPTED, MIGRATE, SUCCEEDED, Entry
from shipyard.deploy.lock import whoami
from shipyard.deploy.migrate import MigrationFailed, MigrationStatus, migration_for
from shipyard.deploy.migrate_run import MigrationRun, runner_for
from shipyard.deploy.notify.base import MIGRATE_FAILED, MIGRATE_SUCCEEDED, Event
from shipyard.deploy.plan import deployable
from shipyard.deploy.session import Session
from shipyard.deploy.target import Progress, Release
from shipyard.deploy.transaction import confirm_protected, now
from shipyard.run.proc import sigterm_as_interrupt

if TYPE_CHECKING:
    from shipyard.deploy.notify import Notifications as Notifier
    from shipyard.settings import Settings

PENDING_EXIT = 3  # `invoke migrate --check`: revisions are pending (0: up to date, 1: an error)


@dataclass(frozen=True)
class Planned:
    """One service to migrate: its release and where its migrations run."""

    unit: Unit
    release: Release
    run: MigrationRun


def run_migrations(
    project: Project,
    env: str,
    services: Sequence[str],
    *,
    check_only: bool,
    yes: bool = False,
    say: Callable[[str], None] = print,
    ask: Callable[[str], str] = input,
    lock_wait: float = 0.0,
) -> dict[str, MigrationStatus]:
    """Pending revisions (``check_only``) or ``alembic upgrade head``, under the lock; the status
    of each service's database before the run."""
    session = Session.open(project, env, say=say)
    units = [u for u in deployable(project, services, session.environment) if u.settings.get("migrations")]
    if not units:
        say("no service with migrations selected")
        return {}
    from shipyard.settings import check_required

    settings = check_required(project, env, units)
    releases = _releases(session, units)
    planned = [_planned(session, u, releases[u.name], settings[u.name]) for u in units]
    statuses = {p.unit.name: _check(p, say) for p in planned}
    if check_only:
        return statuses
    todo = [p.unit.name for p in planned if statuses[p.unit.name].pending]
    if todo:
        pending = "; ".join(f"{n}: {', '.join(statuses[n].pending)}" for n in todo)
        question = f"apply the migrations of {', '.join(todo)} to {env} ({pending})? [y/N] "
        confirm_protected(env, session.protected, "migration", question, yes, ask)
    notifier = session.notifier()
    try:
        if todo:
            with sigterm_as_interrupt(), session.lock().held(f"migrate {', '.join(todo)}", wait=lock_wait):
                _apply_all(session, planned, statuses, notifier)
        else:
            _apply_all(session, planned, statuses, notifier)
    finally:
        notifier.close()
    return statuses


def _releases(session: Session, units: Sequence[Unit]) -> dict[str, Release]:
    """Each unit's release: the checkout's (built and pushed when missing), or what the
    ``promote-from`` environment verified."""
    from shipyard.deploy.artifacts import Artifacts

    artifacts = Artifacts(session.project, session.env, say=session.say)
    source = session.environment.get("promote-from", "")
    if source:
        other = session.other(source)
        return {u.name: _verified(session, other, u, artifacts.fingerprint(u)) for u in units}
    releases = {u.name: artifacts.lookup(u) for u in units}
    missing = [u for u in units if not releases[u.name].artifact]
    if missing:
        releases.update(artifacts.ensure(missing))
    return releases


def _verified(session: Session, source: Session, unit: Unit, fingerprint: str) -> Release:
    entry = source.ledger.verified(unit.name, fingerprint=fingerprint)
    if entry is None:
        raise ShipyardError(
            f"{unit.name}: {session.env!r} migrates only from releases {source.env!r} verified, and "
            f"{fingerprint[:16]} (this checkout) was never deployed successfully to {source.env!r}",
            hint=f"deploy it to {source.env} first (invoke deploy --env {source.env}); nothing was migrated",
        )
    session.say(f"{unit.name}: migrations of the release {source.env} verified ({entry.artifact})")
    return Release(unit.name, entry.fingerprint, entry.artifact, entry.git_sha)


def _planned(session: Session, unit: Unit, release: Release, settings: Settings) -> Planned:
    m = migration_for(unit, release.artifact, session.environment, session.env)
    assert m is not None  # units were chosen by their migrations setting
    return Planned(unit, release, runner_for(session, unit, m, release, settings, Progress(unit.name, session.say)))


def _check(p: Planned, say: Callable[[str], None]) -> MigrationStatus:
    say(f"{p.unit.name}: reading migrations of {p.run.where}")
    status = p.run.check()
    say(f"{p.unit.name}: at {status.current}; pending: {', '.join(status.pending) or 'none'}")
    return status


def _apply_all(
    session: Session, planned: Sequence[Planned], statuses: Mapping[str, MigrationStatus], notifier: Notifier
) -> None:
    for p in planned:
        _apply(session, p, statuses[p.unit.name], notifier)


def _apply(session: Session, p: Planned, status: MigrationStatus, notifier: Notifier) -> Entry:
    """Upgrade one service's database (when something is pending), record and notify the run."""
    name, env = p.unit.name, session.env
    entry = Entry(
        name, MIGRATE, SUCCEEDED, p.release.fingerprint, p.release.artifact,
        git_sha=p.release.git_sha, who=whoami(), started=now(),
    )  # fmt: skip
    if not status.pending:
        done = _record(session, replace(entry, migration=status.current, reason=f"none pending (at {status.current})"))
        text = f"{entry.who} ran the migrations of {name} in {env}: none pending (at {status.current})"
        notifier.send(_event(MIGRATE_SUCCEEDED, env, text, done))
        return done
    try:
        after = p.run.upgrade()
    except MigrationFailed as exc:
        if exc.output:
            session.say("\n".join(f"    {line}" for line in exc.output.splitlines()))
        reason = exc.message.splitlines()[0]
        failed = _record(session, replace(entry, outcome=FAILED, migration=status.current, reason=reason))
        notifier.send(_event(MIGRATE_FAILED, env, f"migration of {name} in {env} failed: {reason}", failed))
        raise
    except KeyboardInterrupt:
        stopped = _record(session, replace(entry, outcome=INTERRUPTED, reason="interrupted during the migration"))
        notifier.send(_event(MIGRATE_FAILED, env, f"migration of {name} in {env} interrupted", stopped))
        raise
    applied = f"{', '.join(status.pending)} applied ({status.current} -> {after or 'unknown'})"
    done = _record(session, replace(entry, migration=after, reason=applied))
    session.say(f"{name}: migrated to {after or 'an unknown revision'}")
    text = f"{entry.who} migrated {name} in {env} (release {done.release}): {applied}"
    notifier.send(_event(MIGRATE_SUCCEEDED, env, text, done))
    return done


def _event(kind: str, env: str, text: str, entry: Entry) -> Event:
    """The notification of one migrate run, from its ledger entry."""
    return Event(
        kind, env, redact(text), (entry.service,), {entry.service: entry.release}, entry.who, entry.git_sha,
        redact(entry.reason),
    )  # fmt: skip


def _record(session: Session, entry: Entry) -> Entry:
    return session.ledger.append(replace(entry, finished=now()))
