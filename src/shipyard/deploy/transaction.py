"""A deploy is a transaction per environment.

    plan -> confirm -> lock -> migrate -> roll out (waves) -> verify -> record -> notify

Under the lock: migrations first (a failure stops everything before any service
changes); then each wave of services in parallel, each one rolled out by its target and
smoke-checked. When a service fails, the rest stop (siblings still waiting are told to
stop, later waves never start) and every service this deploy changed goes back to what
ran before — or, deployed for the first time, is taken out of service. Every attempt
ends in the ledger — succeeded, failed, rolled back, or interrupted by Ctrl-C/SIGTERM —
and the lock is released however it ends.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import redact
from shipyard.deploy import migrate
from shipyard.deploy.ledger import DEPLOY, FAILED, INTERRUPTED, ROLLBACK, ROLLED_BACK, SUCCEEDED, Entry, not_recorded
from shipyard.deploy.lock import whoami
from shipyard.deploy.notify import Event, Notifications
from shipyard.deploy.notify import base as events
from shipyard.deploy.plan import DeployPlan, ServicePlan
from shipyard.deploy.target import Cancelled, DeployFailed, Progress, Running
from shipyard.deploy.verify import run_smoke_check, smoke_check_for
from shipyard.run.proc import Terminated, sigterm_as_interrupt
from shipyard.run.results import FAILED as R_FAILED
from shipyard.run.results import PASSED, SKIPPED, Result

if TYPE_CHECKING:
    from shipyard.deploy.session import Session
    from shipyard.settings import Settings

CANCELLED = "cancelled"  # internal: told to stop; ends as rolled-back or interrupted


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Attempt:
    """How one service fared in this deploy (mutable while the deploy runs)."""

    sp: ServicePlan
    outcome: str = ""  # "" = never started
    reason: str = ""
    running: Running | None = None
    migration: str = ""
    started: str = ""
    finished: str = ""
    seconds: float = 0.0
    rollback: Entry | None = None
    entry: Entry | None = field(default=None, repr=False)
    pointed: str = ""  # the revision the target switched to, known before the roll-out ends

    @property
    def revision(self) -> str:
        return self.running.revision if self.running else self.pointed


def confirm(plan: DeployPlan, yes: bool, ask: Callable[[str], str] = input) -> None:
    """Protected environments need ``--yes`` or an interactive yes; no terminal means no."""
    if not plan.services:
        return
    question = f"deploy {', '.join(s.service for s in plan.services)} to {plan.env}? [y/N] "
    confirm_protected(plan.env, plan.protected, "deploy", question, yes, ask)


def confirm_protected(
    env: str, protected: bool, what: str, question: str, yes: bool, ask: Callable[[str], str] = input
) -> None:
    """The confirmation of a ``what`` (deploy, migration) in a protected environment: ``--yes``,
    or an interactive yes to ``question``; without a terminal to ask on, refused."""
    if not protected or yes:
        return
    if not sys.stdin.isatty():
        raise ShipyardError(
            f"{env} is protected: a {what} needs confirmation, and there is no terminal to ask on",
            hint="pass --yes to confirm non-interactively (as CI does)",
        )
    if ask(question).strip().lower() not in ("y", "yes"):
        raise ShipyardError(f"{what} not confirmed: nothing was changed")


class Transaction:
    """One execution of a plan."""

    def __init__(
        self,
        session: Session,
        plan: DeployPlan,
        settings: Mapping[str, Settings],
        *,
        lease: float | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.session, self.plan, self.settings = session, plan, settings
        self.say = say or session.say
        self.deploy_id = uuid.uuid4().hex[:12]
        self.attempts = {sp.service: Attempt(sp) for sp in plan.services}
        self.stop = threading.Event()
        self.stop_reason = ""
        self.lock = session.lock(lease) if lease else session.lock()
        self.notifier: Notifications = session.notifier()
        self.who = whoami()

    # -- the whole thing -----------------------------------------------------------------

    def run(self, *, lock_wait: float = 0.0, replan: Callable[[], DeployPlan] | None = None) -> list[Result]:
        """Run the plan under the lock; ``replan`` makes a fresh plan when the environment changed
        while this deploy waited for the lock (a queued deploy), instead of refusing."""
        names = ", ".join(self.attempts)
        try:
            with sigterm_as_interrupt(), self.lock.held(f"deploy {names}", wait=lock_wait):
                self.say(f"deploy lock of {self.plan.env} acquired ({self.lock.store.describe()})")
                self._notify_start(names)
                self._check_unchanged(replan)
                self._open()
                try:
                    self._migrate()
                    self._roll_out()
                except KeyboardInterrupt as exc:
                    self._interrupted(exc)
                    raise
                finally:
                    unrecorded = self._record()
                    self._notify_end()
                    if unrecorded:  # it ran, but is not in the ledger: not a success
                        raise not_recorded(self.plan.env, unrecorded)
        finally:
            self.notifier.close()
        return self.results()

    def _changed(self) -> str:
        """What runs now where the plan saw something else ("" when nothing changed)."""
        for sp in self.plan.services:
            unit = self.session.project.units[sp.service]
            now_running = self.session.targets.for_unit(unit).current(unit)
            before = sp.running.revision if sp.running else None
            if (now_running.revision if now_running else None) != before:
                return f"{sp.service} now runs {now_running.revision if now_running else 'nothing'}"
        return ""

    def _check_unchanged(self, replan: Callable[[], DeployPlan] | None) -> None:
        """The environment must still run what the plan saw (another deploy may have run since);
        with ``replan``, a changed environment is planned again and the releases confirmed still go."""
        changed = self._changed()
        if not changed:
            return
        hint = "run the deploy again to plan against what runs now"
        if replan is None:
            raise ShipyardError(f"{self.plan.env} changed since the plan was made: {changed}", hint=hint)
        fresh = replan()
        confirmed = {sp.service: sp.release for sp in self.plan.services}
        if any(confirmed.get(sp.service) != sp.release for sp in fresh.services):
            raise ShipyardError(
                f"{self.plan.env} changed while waiting for the lock ({changed}) and the new plan "
                "ships other releases than the one confirmed",
                hint=hint,
            )
        self.say(f"{self.plan.env} changed while this deploy waited for the lock ({changed}): planned again")
        for sp in self.plan.services:
            if sp.service not in {f.service for f in fresh.services}:
                self.say(f"  {sp.service}: up to date now, nothing to do")
        self.plan = fresh
        self.attempts = {sp.service: Attempt(sp) for sp in fresh.services}

    def _open(self) -> None:
        """Every attempt is marked started before anything acts; when that cannot be written,
        nothing acts (and the markers already written go)."""
        ledger, opened = self.session.ledger, []
        try:
            for attempt in self.attempts.values():
                entry = replace(self._entry(attempt), started=now())
                ledger.open_attempt(entry)
                opened.append(entry)
        except ShipyardError:
            for entry in opened:
                if entry.action == DEPLOY:
                    ledger.close_attempt(entry)
            raise

    # -- migrations ----------------------------------------------------------------------

    def _migrate(self) -> None:
        for sp in self.plan.services:
            if sp.migration is None:
                continue
            try:
                self.attempts[sp.service].migration = self._migrate_one(sp)
            except ShipyardError as exc:
                if isinstance(exc, migrate.MigrationFailed) and exc.output:
                    self.say("\n".join(f"    {line}" for line in exc.output.splitlines()))
                first = exc.message.splitlines()[0]
                for attempt in self.attempts.values():
                    attempt.outcome, attempt.started, attempt.finished = FAILED, now(), now()
                    attempt.reason = (
                        first if attempt.sp is sp else f"not deployed: the migration of {sp.service} failed"
                    )
                raise

    def _migrate_one(self, sp: ServicePlan) -> str:
        """The service's migrations, before any roll-out; the revision the database is at after them."""
        from shipyard.deploy.migrate_run import runner_for

        assert sp.migration is not None
        m, unit = sp.migration, self.session.project.units[sp.service]
        progress = Progress(sp.service, self.say, self.stop, lambda: self.stop_reason)
        run = runner_for(self.session, unit, m, sp.release, self.settings[sp.service], progress)
        if m.in_target:  # the one-off task checks, upgrades and reads the revision back in one go
            progress(f"{m.upgrade_label} in {run.where}")
            now = run.upgrade()
            progress(f"migrations applied ({run.where}): now at {now or 'an unknown revision'}")
            return now
        status = run.check()
        if not status.pending:
            progress(f"migrations: none pending (at {status.current})")
            return status.current
        progress(f"migrating {status.current} -> {status.head}: {', '.join(status.pending)}")
        now = run.upgrade()
        progress(f"migrations applied: now at {now}")
        return now

    # -- roll-out ------------------------------------------------------------------------

    def _roll_out(self) -> None:
        for wave in self.plan.waves:
            if self.stop.is_set():
                break
            self._run_wave(wave)
            failed = [a for a in self.attempts.values() if a.outcome == FAILED]
            if failed and self.lock.lost:  # another deploy may own the environment now: hands off
                self.say(f"not rolling back: {self.lock.lost}")
                return
            if failed:
                self._undo(failed)
                return

    def _run_wave(self, wave: tuple[str, ...]) -> None:
        pool = ThreadPoolExecutor(max_workers=len(wave), thread_name_prefix="deploy")
        futures: list[Future[None]] = [pool.submit(self._deploy_one, self.attempts[name]) for name in wave]
        try:
            self._wait_all(futures)
        except KeyboardInterrupt as exc:
            self._halt("interrupted by SIGTERM" if isinstance(exc, Terminated) else "interrupted (Ctrl-C)")
            wait_futures(futures)  # the targets notice the stop at their next poll
            raise
        finally:
            pool.shutdown(wait=False)

    def _wait_all(self, futures: list[Future[None]]) -> None:
        """Wait in short slices: signals reach the main thread, and a lost lock stops the deploy."""
        while wait_futures(futures, timeout=0.5).not_done:
            if self.lock.lost and not self.stop.is_set():
                self._halt(self.lock.lost)
            failed = [a.sp.service for a in self.attempts.values() if a.outcome == FAILED]
            if failed and not self.stop.is_set():
                self._halt(f"stopped: {', '.join(failed)} failed")

    def _halt(self, reason: str) -> None:
        self.stop_reason = reason
        self.stop.set()

    def _pause(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise Cancelled(self.stop_reason)

    def _deploy_one(self, attempt: Attempt) -> None:
        sp = attempt.sp
        unit = self.session.project.units[sp.service]
        progress = Progress(sp.service, self.say, self.stop, lambda: self.stop_reason)
        attempt.started, start = now(), time.monotonic()
        try:
            progress.check()
            target = self.session.targets.for_unit(unit)
            attempt.outcome = CANCELLED  # from here on the target may have changed something
            attempt.running = target.deploy(unit, sp.release, self.settings[sp.service], progress)
            check = smoke_check_for(
                unit,
                self.session.environment,
                attempts=self.session.environment.get("smoke-attempts", 10),
                interval=self.session.environment.get("smoke-interval", 3),
            )
            if check is not None:
                run_smoke_check(check, progress, sleep=self._pause)
            attempt.outcome = SUCCEEDED
        except Cancelled as exc:
            attempt.reason = exc.reason
        except DeployFailed as exc:
            attempt.outcome, attempt.reason = FAILED, exc.reason
        except ShipyardError as exc:
            attempt.outcome, attempt.reason = FAILED, exc.message
        except Exception as exc:
            attempt.outcome, attempt.reason = FAILED, f"unexpected {type(exc).__name__}: {exc}"
        finally:
            attempt.finished, attempt.seconds = now(), time.monotonic() - start
            attempt.pointed = progress.revision
        word = {SUCCEEDED: "✓ deployed", FAILED: "✗ failed"}.get(attempt.outcome, "- stopped")
        progress(word + (f": {attempt.reason}" if attempt.reason else ""))

    # -- undo ----------------------------------------------------------------------------

    def _undo(self, failed: list[Attempt]) -> None:
        """Failure policy: every service this deploy changed goes back to what ran before."""
        names = ", ".join(a.sp.service for a in failed)
        changed = [a for a in self.attempts.values() if a.outcome in (FAILED, CANCELLED, SUCCEEDED)]
        for attempt in reversed(changed):
            if attempt.outcome != FAILED:
                attempt.outcome, attempt.reason = ROLLED_BACK, f"rolled back because {names} failed"
            self._rollback(attempt)

    def _rollback(self, attempt: Attempt) -> None:
        sp = attempt.sp
        previous = sp.running
        if previous is None:
            self._undo_first(attempt)
            return
        unit = self.session.project.units[sp.service]
        progress = Progress(sp.service, self.say)
        start, outcome, reason = now(), SUCCEEDED, f"automatic rollback after: {attempt.reason}"
        try:
            self.session.targets.for_unit(unit).rollback(unit, previous, progress)
        except (DeployFailed, ShipyardError) as exc:
            outcome = FAILED
            reason = f"ROLLBACK FAILED: {getattr(exc, 'reason', None) or exc}; fix by hand, see invoke status"
        except KeyboardInterrupt:
            attempt.rollback = self._rollback_entry(
                attempt, previous, INTERRUPTED, "interrupted during rollback", start
            )
            raise
        attempt.rollback = self._rollback_entry(attempt, previous, outcome, reason, start)

    def _undo_first(self, attempt: Attempt) -> None:
        """A first deploy has nothing to go back to: its target takes it out of service."""
        unit = self.session.project.units[attempt.sp.service]
        try:
            self.session.targets.for_unit(unit).undo_first_deploy(unit, Progress(unit.name, self.say))
        except (DeployFailed, ShipyardError) as exc:
            why = getattr(exc, "reason", None) or exc
            attempt.reason += f" (first deploy: TAKING IT OUT OF SERVICE FAILED: {why}; fix by hand, see invoke status)"
            return
        attempt.reason += " (first deploy: nothing runs now)"

    def _rollback_entry(self, attempt: Attempt, previous: Running, outcome: str, reason: str, start: str) -> Entry:
        return Entry(
            attempt.sp.service,
            ROLLBACK,
            outcome,
            previous.fingerprint,
            previous.artifact,
            revision=previous.revision,
            previous=attempt.revision,
            git_sha=str(previous.details.get("gitSha", "")),
            who=self.who,
            started=start,
            finished=now(),
            reason=reason,
            deploy_id=self.deploy_id,
            restores=self._release_of(previous),
        )

    def _release_of(self, previous: Running) -> int:
        """The release an automatic rollback puts back (0: not one shipyard deployed, or unreadable)."""
        try:
            found = self.session.ledger.release_running(previous.service, previous.revision)
        except ShipyardError:
            return 0  # the ledger is unreadable: _record warns about it
        return found.release if found is not None else 0

    def _interrupted(self, exc: KeyboardInterrupt) -> None:
        reason = self.stop_reason or (
            "interrupted by SIGTERM" if isinstance(exc, Terminated) else "interrupted (Ctrl-C)"
        )
        for attempt in self.attempts.values():
            if attempt.outcome in (CANCELLED, "") and attempt.started:
                attempt.outcome = INTERRUPTED
                attempt.reason = f"{reason} while rolling out; the target may still be finishing it"
            elif attempt.outcome == "" and self._migrating(attempt):
                attempt.outcome, attempt.reason = INTERRUPTED, f"{reason} during migrations"
                attempt.started = attempt.finished = now()
        self.say(f"{reason}: recording the attempt and releasing the lock")

    def _migrating(self, attempt: Attempt) -> bool:
        return not any(a.started for a in self.attempts.values())

    # -- records -------------------------------------------------------------------------

    def _entry(self, attempt: Attempt) -> Entry:
        sp, running = attempt.sp, attempt.running
        ok = attempt.outcome == SUCCEEDED and running is not None
        return Entry(
            sp.service,
            DEPLOY,
            attempt.outcome,
            sp.release.fingerprint,
            (running.artifact if ok and running else "") or sp.release.artifact,
            revision=attempt.revision,
            previous=sp.running.revision if sp.running else "",
            git_sha=sp.release.git_sha,
            migration=attempt.migration,
            who=self.who,
            started=attempt.started,
            finished=attempt.finished,
            reason=attempt.reason,
            deploy_id=self.deploy_id,
            forced=sp.forced,
        )

    def _record(self) -> list[tuple[Entry, str]]:
        """Append every attempt (and its rollback) to the ledger (retried there); returns what
        could not be recorded, with why."""
        ledger, unrecorded = self.session.ledger, []
        for attempt in self.attempts.values():
            if not attempt.outcome:
                ledger.close_attempt(self._entry(attempt))  # never started: nothing to record
                continue
            if attempt.outcome == CANCELLED:
                attempt.outcome = INTERRUPTED
            for entry in (self._entry(attempt), attempt.rollback):
                if entry is None:
                    continue
                try:
                    written = ledger.append(entry)
                except ShipyardError as exc:
                    unrecorded.append((entry, exc.message))
                    continue
                if entry.action == DEPLOY:
                    ledger.close_attempt(entry)
                if entry.action == DEPLOY:
                    attempt.entry = written
                else:
                    attempt.rollback = written
        return unrecorded

    def _event(self, kind: str, text: str, attempts: list[Attempt] | None = None, reason: str = "") -> Event:
        chosen = list(self.attempts.values()) if attempts is None else attempts
        shas = {a.sp.release.git_sha for a in chosen if a.sp.release.git_sha}
        releases = {a.sp.service: a.entry.release for a in chosen if a.entry is not None}
        services = tuple(a.sp.service for a in chosen)
        sha = shas.pop() if len(shas) == 1 else ""
        return Event(kind, self.plan.env, redact(text), services, releases, self.who, sha, redact(reason))

    def _notify_start(self, names: str) -> None:
        if self.lock.took_over is not None:
            old = self.lock.took_over
            text = f"{self.who} took over the deploy lock of {self.plan.env} from {old.holder}: its lease had expired"
            self.notifier.send(self._event(events.LOCK_TAKEOVER, text, reason=old.purpose))
        self.notifier.send(self._event(events.DEPLOY_STARTED, f"{self.who} is deploying {names} to {self.plan.env}"))
        forced = [a for a in self.attempts.values() if a.sp.forced]  # what --force let through, and why
        if forced:
            names = ", ".join(a.sp.service for a in forced)
            why = "; ".join(f"{a.sp.service}: {a.sp.forced}" for a in forced)
            text = f"{self.who} forced {names} to {self.plan.env}: {why}"
            self.notifier.send(self._event(events.DEPLOY_FORCED, text, forced, reason=why))

    def _notify_end(self) -> None:
        if not any(a.outcome for a in self.attempts.values()):
            text = f"deploy to {self.plan.env} stopped before changing anything"
            self.notifier.send(self._event(events.DEPLOY_STOPPED, text))
            return
        failed = [a for a in self.attempts.values() if a.outcome != SUCCEEDED]
        if not failed:
            releases = ", ".join(
                f"{a.sp.service} (release {a.entry.release if a.entry else '?'})" for a in self.attempts.values()
            )
            self.notifier.send(self._event(events.DEPLOY_SUCCEEDED, f"deployed {releases} to {self.plan.env}"))
            return
        reasons = "; ".join(f"{a.sp.service}: {a.outcome}: {a.reason}" for a in failed)
        text = f"deploy to {self.plan.env} failed: {reasons}"
        self.notifier.send(self._event(events.DEPLOY_FAILED, text, reason=reasons))
        back = [a for a in failed if a.rollback is not None and a.rollback.ok]
        if back:
            text = f"rolled back {', '.join(a.sp.service for a in back)} in {self.plan.env}"
            self.notifier.send(self._event(events.DEPLOY_ROLLED_BACK, text, back))

    def results(self) -> list[Result]:
        out = []
        for attempt in self.attempts.values():
            status = {SUCCEEDED: PASSED, "": SKIPPED}.get(attempt.outcome, R_FAILED)
            reason = attempt.reason or ("not started: an earlier service failed" if not attempt.outcome else "")
            if attempt.rollback is not None:
                reason += f"; rollback {attempt.rollback.outcome}"
            details = {
                "outcome": attempt.outcome or "skipped",
                "artifact": attempt.sp.release.artifact,
                "release": attempt.entry.release if attempt.entry else 0,
            }
            out.append(Result(attempt.sp.service, "deploy", status, attempt.seconds, redact(reason), details=details))
        return out
