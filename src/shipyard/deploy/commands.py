"""The deploy commands as library functions; the invoke tasks (tasks/deploy.py) call these.

Each takes explicit arguments and returns data (results, entries) or raises ShipyardError.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, Unit
from shipyard.deploy import migrate
from shipyard.deploy.ledger import DEPLOY, FAILED, INTERRUPTED, MIGRATE, ROLLBACK, SUCCEEDED, Entry
from shipyard.deploy.lock import LockInfo, whoami
from shipyard.deploy.migrate import database_url
from shipyard.deploy.migrate_command import run_migrations
from shipyard.deploy.notify import base as events
from shipyard.deploy.plan import DeployPlan, build_plan, deployable, render, with_status
from shipyard.deploy.session import Session
from shipyard.deploy.target import DeployFailed, Progress, Running
from shipyard.deploy.transaction import Transaction, confirm, now
from shipyard.run.proc import sigterm_as_interrupt
from shipyard.run.results import Result, summary_table


@dataclass(frozen=True)
class DeployOptions:
    """The flags of ``invoke deploy``."""

    services: tuple[str, ...] = ()
    plan_only: bool = False
    yes: bool = False
    lock_wait: float = 0.0
    force: bool = False
    verbose: bool = False


def deploy(
    project: Project,
    env: str,
    options: DeployOptions,
    *,
    say: Callable[[str], None] = print,
    ask: Callable[[str], str] = input,
) -> list[Result]:
    """plan -> (print and stop with --plan) -> confirm -> the transaction; returns one Result per service."""
    from shipyard.deploy.artifacts import Artifacts
    from shipyard.settings import check_required

    session = Session.open(project, env, say=say)
    units = deployable(project, options.services, session.environment)
    settings = check_required(project, env, units)
    artifacts = Artifacts(project, env, verbose=options.verbose, say=say)
    if _gate_may_refuse(session, options):  # the gate refuses before anything is built or pushed
        gated(session, build_plan(session, units, settings, artifacts, build=False, force=options.force), options)
    plan = build_plan(session, units, settings, artifacts, build=not options.plan_only, force=options.force)
    plan = gated(session, with_status(plan, _pending(session, plan, settings)), options)
    say(render(plan))
    if options.plan_only:
        return []
    results: list[Result] = []
    if plan.services:
        confirm(plan, options.yes, ask)

        def replan() -> DeployPlan:  # after a wait for the lock, the environment may have moved on
            fresh = build_plan(session, units, settings, artifacts, build=True, force=options.force)
            return gated(session, with_status(fresh, _pending(session, fresh, settings)), options)

        results = Transaction(session, plan, settings, say=say).run(lock_wait=options.lock_wait, replan=replan)
        say(summary_table(results))
    _step_summary(plan, results)
    serving = [*plan.up_to_date, *(r.unit for r in results if r.ok)]
    for service, url in running_urls(session, [project.units[name] for name in serving]).items():
        say(f"{service} is running at {url}")
    return results


def _step_summary(plan: DeployPlan, results: Sequence[Result]) -> None:
    """Inside GitHub Actions: the plan, its waves (Mermaid) and the outcome in the step summary."""
    from shipyard.github import output as gha

    if not gha.active():
        return
    from shipyard.github.mermaid import waves_graph

    outcomes = {r.unit: ("succeeded" if r.ok else "failed") for r in results}
    parts = [f"### deploy to {plan.env}", "", "```text", render(plan), "```", ""]
    if plan.services:
        parts += [waves_graph(plan.waves, outcomes), ""]
    if results:
        parts.append(gha.summary_markdown(results, f"deploy to {plan.env}: results"))
    gha.append_summary("\n".join(parts) + "\n")


def gated(session: Session, plan: DeployPlan, options: DeployOptions) -> DeployPlan:
    """The plan, checked against the CI gate (see shipyard.ci.gate) where the environment requires
    it: refused when a service's content has no passing lint/test record, unless --force, which
    is then written on the service's plan (and so in the ledger and the notification)."""
    from shipyard.ci import gate

    forced: dict[str, list[str]] = {sp.service: [] for sp in plan.services}
    source = session.environment.get("promote-from", "")
    for sp in plan.services:
        if source and not sp.promoted_from:  # only --force lets an unverified release through
            forced[sp.service].append(f"{source} never verified this release")
    absent = _ci_missing(session, plan) if plan.services else {}
    if any(absent.values()) and not options.force and not options.plan_only:
        missing = list(dict.fromkeys(r for service in absent for r in absent[service]))
        raise ShipyardError(
            f"{session.env!r} requires passing CI for what it deploys, and this content has none for: "
            f"{gate.describe(missing)}",
            hint=f"run `{_ci_command(session, missing)}` on this commit (its passes are recorded in the result"
            " cache), or pass --force (recorded in the ledger)",
        )
    for service, requirements in absent.items():
        forced[service] += [f"no passing CI for {r.label}" for r in requirements]
    if options.plan_only:
        refused = {s: f"without --force the deploy is refused: {'; '.join(r)}" for s, r in forced.items() if r}
        notes = {sp.service: "; ".join(n for n in (sp.note, refused.get(sp.service, "")) if n) for sp in plan.services}
        return replace(plan, services=tuple(replace(sp, note=notes[sp.service]) for sp in plan.services))
    return replace(plan, services=tuple(replace(sp, forced="; ".join(forced[sp.service])) for sp in plan.services))


def _gate_may_refuse(session: Session, options: DeployOptions) -> bool:
    """Whether ``gated`` can refuse this deploy: the environment gates on CI or scans, and
    neither --force nor --plan lets it through anyway."""
    from shipyard.ci import gate

    environment = session.environment
    if options.plan_only or options.force:
        return False
    return gate.required(environment) or bool(gate.scan_required(environment))


def _ci_missing(session: Session, plan: DeployPlan) -> dict[str, list[Any]]:
    """Per planned service: the lint/test passes (``require-ci``) and scan passes at the
    environment's threshold (``require-scan``), its own and its libs', this content has no record of."""
    from shipyard.ci import gate
    from shipyard.run.cache import ResultCache
    from shipyard.run.keys import Inputs

    env, project = session.environment, session.project
    ci, scan = gate.required(env), gate.scan_required(env)
    if not (ci or scan):
        return {}
    ecr_scan = gate.ecr_scan_required(env)
    inputs, cache = Inputs.read(project), ResultCache.of(project)

    def absent(service: str) -> list[Any]:
        return gate.missing(project, [project.units[service]], inputs, cache, ci=ci, scan=scan, ecr_scan=ecr_scan)

    return {sp.service: absent(sp.service) for sp in plan.services}


def _ci_command(session: Session, missing: Sequence[Any]) -> str:
    """The command that records what is missing: ``invoke ci``, with ``--scan --env E`` for scans."""
    from shipyard.ci import gate

    scans = [r.task for r in missing if r.task.startswith(gate.SCAN)]
    if not scans:
        return "invoke ci"
    push = " --push" if gate.ECR_SCAN in scans else ""
    return f"invoke ci --scan{push} --env {session.env}"


def running_urls(session: Session, units: Sequence[Unit]) -> dict[str, str]:
    """Where each deployed unit answers, from its target; services last, so the api ends the output."""
    urls: dict[str, str] = {}
    for unit in sorted(units, key=lambda u: (u.kind == "service", u.name)):
        running = session.targets.for_unit(unit).current(unit)
        url = running.details.get("url", "") if running is not None else ""
        if url:
            urls[unit.name] = str(url)
    return urls


def _pending(session: Session, plan: Any, settings: Any) -> dict[str, migrate.MigrationStatus]:
    """Pending revisions for the plan, where they can be known (docker mode, image pushed).
    A database that cannot be read is a warning here; the deploy itself fails on it, recorded."""
    found = {}
    for sp in plan.services:
        m = sp.migration
        if m is None or m.in_target or not m.image:
            continue
        try:
            found[sp.service] = migrate.check(m, database_url(settings[sp.service], session.environment))
        except ShipyardError as exc:
            session.say(f"warning: {exc.message.splitlines()[0]}")
    return found


def rollback(
    project: Project,
    env: str,
    service: str,
    *,
    to: int = 0,
    yes: bool = False,
    lock_wait: float = 0.0,
    say: Callable[[str], None] = print,
    ask: Callable[[str], str] = input,
) -> Entry:
    """``invoke rollback``: back to the newest successful release older than the one running (or
    release ``to``). Only releases shipyard deployed successfully are goals; refused otherwise."""
    session = Session.open(project, env, say=say)
    unit = project.unit(service)
    target = session.targets.for_unit(unit)
    running = target.current(unit)
    goal = _goal_named(session, service, to) if to else _goal_older(session, service, running)
    if running is not None and goal.revision == running.revision:
        raise ShipyardError(
            f"{service} already runs release {goal.release} in {env!r}: nothing to roll back",
            hint=f"pick another release from invoke history --env {env} -s {service}",
        )
    _confirm_rollback(session, service, goal, yes, ask)
    previous = Running(service, goal.revision, goal.artifact, goal.fingerprint, {"gitSha": goal.git_sha})
    notifier = session.notifier()
    with sigterm_as_interrupt(), session.lock().held(f"rollback {service}", wait=lock_wait):
        entry = _rollback_entry(session, service, goal, running, previous, target)
    text = f"{whoami()} rolled back {service} in {env} to release {goal.release}: {entry.outcome}"
    notifier.send(
        events.Event(events.ROLLBACK, env, text, (service,), {service: entry.release}, entry.who, entry.git_sha)
    )
    notifier.close()
    if not entry.ok:
        raise ShipyardError(f"rollback of {service} failed: {entry.reason}", hint=f"see invoke status --env {env}")
    say(f"{service} is back on release {goal.release} ({goal.artifact}); recorded as release {entry.release}")
    return entry


def _goal_older(session: Session, service: str, running: Running | None) -> Entry:
    """The newest successful release older than the one running (never a newer one)."""
    ledger = session.ledger
    goal = ledger.rollback_goal(service, running.revision if running else "")
    if goal is not None:
        return goal
    now_on = ledger.release_running(service, running.revision) if running else None
    than = f"than release {now_on.release} (which runs now) " if now_on else ""
    raise ShipyardError(
        f"{service} has no older successful release {than}in {session.env!r} to roll back to",
        hint=f"nothing was changed; see invoke history --env {session.env} -s {service}",
    )


def _goal_named(session: Session, service: str, release: int) -> Entry:
    """Release ``release``, when it is a successful deploy of ``service`` (a rollback: the release it put back)."""
    entry = session.ledger.get(release)
    goal = session.ledger.deploy_of(entry) if entry.service == service else None
    if goal is None or not goal.revision:
        raise ShipyardError(
            f"cannot roll {service} back to release {release} in {session.env!r}: {_not_a_goal(entry, service)}",
            hint=f"nothing was changed; pick a succeeded deploy from invoke history --env {session.env} -s {service}",
        )
    return goal


def _not_a_goal(entry: Entry, service: str) -> str:
    if entry.service != service:
        return f"it is a release of {entry.service}"
    if entry.action == MIGRATE:
        return "it is a migration run, not a release"
    if not entry.ok:
        return f"it never succeeded (its {entry.action} ended {entry.outcome})"
    return "it put back a revision shipyard never deployed"


def _confirm_rollback(session: Session, service: str, goal: Entry, yes: bool, ask: Callable[[str], str]) -> None:
    import sys

    if not session.protected or yes:
        return
    if not sys.stdin.isatty():
        raise ShipyardError(
            f"{session.env} is protected: a rollback needs confirmation and there is no terminal", hint="pass --yes"
        )
    if ask(f"roll {service} in {session.env} back to release {goal.release}? [y/N] ").strip().lower() not in (
        "y",
        "yes",
    ):
        raise ShipyardError("rollback not confirmed: nothing was changed")


def _rollback_entry(
    session: Session, service: str, goal: Entry, running: Running | None, previous: Running, target: Any
) -> Entry:
    unit = session.project.unit(service)
    started, outcome, reason = now(), SUCCEEDED, f"rollback to release {goal.release}"
    try:
        target.rollback(unit, previous, Progress(service, session.say))
    except (DeployFailed, ShipyardError) as exc:
        outcome, reason = FAILED, f"{reason} failed: {getattr(exc, 'reason', None) or exc}"
    except KeyboardInterrupt:
        outcome, reason = INTERRUPTED, f"{reason} interrupted"
        session.ledger.append(_manual(goal, running, outcome, reason, started))
        raise
    return session.ledger.append(_manual(goal, running, outcome, reason, started))


def _manual(goal: Entry, running: Running | None, outcome: str, reason: str, started: str) -> Entry:
    return Entry(
        goal.service,
        ROLLBACK,
        outcome,
        goal.fingerprint,
        goal.artifact,
        revision=goal.revision,
        previous=running.revision if running else "",
        git_sha=goal.git_sha,
        who=whoami(),
        started=started,
        finished=now(),
        reason=reason,
        restores=goal.release,
    )


def status(project: Project, env: str) -> list[dict[str, Any]]:
    """Per service: the release that runs (from the ledger), the last attempt, and what the target runs."""
    session = Session.open(project, env)
    rows = []
    for service, (running, last) in session.ledger.status().items():
        row = {
            "service": service,
            "release": running.release if running else None,
            "artifact": running.artifact if running else "",
            "git_sha": running.git_sha if running else "",
            "who": last.who,
            "when": last.finished,
            "last": f"{last.action} {last.outcome}",
            "reason": last.reason,
            "drift": "",
            "url": "",
        }
        unit = project.units.get(service)
        if unit is not None and running is not None:
            actual = session.targets.for_unit(unit).current(unit)
            row["url"] = str(actual.details.get("url", "")) if actual is not None else ""
            if actual is not None and running.revision and actual.revision != running.revision:
                row["drift"] = f"the target runs {actual.revision}"
        rows.append(row)
    return rows


def history(project: Project, env: str, service: str | None = None, limit: int = 20) -> list[Entry]:
    """Ledger entries, newest first."""
    if service:
        project.unit(service)
    return Session.open(project, env).ledger.history(service, limit)


def lock_status(project: Project, env: str) -> LockInfo | None:
    return Session.open(project, env).lock().status()


def lock_release(project: Project, env: str) -> LockInfo | None:
    """Delete the environment's lock, whoever holds it (for a holder that is gone)."""
    return Session.open(project, env).lock().force_release()


__all__ = [
    "DEPLOY",
    "DeployOptions",
    "deploy",
    "history",
    "lock_release",
    "lock_status",
    "rollback",
    "run_migrations",
    "status",
]
