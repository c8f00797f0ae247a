"""The release ledger: every deploy and rollback attempt of an environment, append-only.

One object per entry under ``ledger/<number>.json``. The number is the release id; it is
claimed with a conditional put (If-None-Match), so two writers that pick the same
number cannot overwrite each other — the loser takes the next one. Nothing is ever
rewritten: an attempt is recorded once, when its outcome is known (including
"interrupted" when Ctrl-C or SIGTERM ended it). Before a deploy acts, each attempt is
marked open under ``attempts/`` (no release number); the marker is removed once the
outcome is recorded, so a deploy killed outright (SIGKILL) shows in history as "started".

A write that fails (throttled, unreachable) is retried with backoff; when it still
fails the caller gets LedgerWriteFailed — an attempt that cannot be recorded is not a
success. Under a deploy lock every write first passes the lock's fence (DeployLock.fence): once the
lock object no longer carries this writer's generation, nothing more is written.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.deploy import summary
from shipyard.deploy.lock import LockLost
from shipyard.deploy.store import Conflict, StateStore

PREFIX = "ledger/"
OPEN = "attempts/"  # one marker per attempt in progress: written before acting, removed once recorded
SUCCEEDED, FAILED, ROLLED_BACK, INTERRUPTED = "succeeded", "failed", "rolled-back", "interrupted"
STARTED = "started"  # an open attempt: what a deploy that died outright (SIGKILL) leaves behind
DEPLOY, ROLLBACK = "deploy", "rollback"
MIGRATE = "migrate"  # an `invoke migrate` run: in history, never what runs (see Entry.runs)
WRITE_ATTEMPTS = 5  # on top of botocore's own retries
WRITE_BACKOFF = 1.0  # seconds before the second try, doubled for each next one (1+2+4+8 s)
READ_AHEAD = 16  # entries read at once (in parallel) when walking the ledger back


@dataclass(frozen=True)
class Entry:
    """One attempt for one service: what, by whom, when, and how it ended."""

    service: str
    action: str  # deploy | rollback | migrate
    outcome: str  # succeeded | failed | rolled-back | interrupted
    fingerprint: str
    artifact: str  # image by digest (repo@sha256:...) or a static release id
    revision: str = ""  # task-definition ARN (or the target's own handle)
    previous: str = ""  # the revision that ran before this attempt
    git_sha: str = ""
    migration: str = ""  # alembic revision after the attempt's migrations
    who: str = ""
    started: str = ""
    finished: str = ""
    reason: str = ""
    deploy_id: str = ""  # groups the services of one `invoke deploy`
    restores: int = 0  # a rollback: the release (a succeeded deploy) it put back; 0 when not known
    forced: str = ""  # what --force overrode (the CI gate, promote-from); "" when nothing was
    release: int = 0  # assigned when appended

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        return cls.from_data(json.loads(data))

    @classmethod
    def from_data(cls, raw: Mapping[str, Any]) -> Entry:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    @property
    def ok(self) -> bool:
        return self.outcome == SUCCEEDED

    @property
    def runs(self) -> bool:
        """A succeeded deploy or rollback: the release that runs from then on (a migration is not one)."""
        return self.ok and self.action != MIGRATE


def _deploy_of(entry: Entry, service: str) -> bool:
    """Whether ``entry`` is a succeeded deploy of ``service`` (what a rollback may go back to)."""
    return entry.service == service and entry.ok and entry.action == DEPLOY


def entry_key(number: int) -> str:
    return f"{PREFIX}{number:010d}.json"


def _number(key: str) -> int:
    return int(key[len(PREFIX) :].split(".", 1)[0])


class LedgerWriteFailed(ShipyardError):
    """An entry could not be written, even after retries (or the deploy lock was lost)."""


def describe_entry(entry: Entry) -> str:
    """One line: what an attempt did, for a report of what ran but is not recorded."""
    where = f", revision {entry.revision}" if entry.revision else ""
    why = f": {entry.reason}" if entry.reason else ""
    return f"{entry.service} {entry.action} {entry.outcome} ({entry.artifact}{where}){why}"


def not_recorded(env: str, failures: Sequence[tuple[Entry, str]]) -> LedgerWriteFailed:
    """The error of a deploy whose attempts ran but could not (all) be recorded."""
    ran = "; ".join(describe_entry(e) for e, _ in failures)
    why = failures[0][1]
    return LedgerWriteFailed(
        f"the release ledger of {env!r} could not record what ran ({why}); not recorded: {ran}",
        hint=f"check `invoke status --env {env}` (the target's own state is the truth) before deploying again",
    )


class Ledger:
    """The ledger of one environment's state store."""

    def __init__(
        self,
        store: StateStore,
        env: str,
        *,
        fence: Callable[[], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store, self.env = store, env
        self.fence = fence  # raises when the writer no longer holds the deploy lock
        self.sleep = sleep

    def _open_key(self, entry: Entry) -> str:
        return f"{OPEN}{entry.deploy_id}-{entry.service}.json"

    def open_attempt(self, entry: Entry) -> None:
        """Mark ``entry`` as started before anything acts: a deploy killed outright leaves a trace."""
        if self.fence is not None:
            self.fence()
        started = replace(entry, outcome=STARTED, reason="started; no outcome was recorded (the deploy died?)")
        try:
            self.store.put(self._open_key(entry), started.to_bytes())
        except ShipyardError as exc:
            raise LedgerWriteFailed(
                f"could not record the start of {describe_entry(entry)} in the ledger of {self.env!r}: {exc.message}",
                hint="nothing was changed; try again",
            ) from None

    def close_attempt(self, entry: Entry) -> None:
        """The attempt's outcome is recorded: its marker goes (a left-over one only shows in history).
        Fenced too: a writer that lost the lock leaves its marker."""
        with contextlib.suppress(ShipyardError):  # history would show it as started beside its outcome
            if self.fence is not None:
                self.fence()
            self.store.delete(self._open_key(entry))

    def open_attempts(self) -> list[Entry]:
        """Attempts that started and never recorded an outcome, newest first."""
        found = []
        for key in self.store.list(OPEN):
            stored = self.store.get(key)
            if stored is not None:
                found.append(Entry.from_bytes(stored.data))
        return sorted(found, key=lambda e: e.started, reverse=True)

    def _numbers(self) -> list[int]:
        return sorted(_number(k) for k in self.store.list(PREFIX) if k.endswith(".json"))

    def append(self, entry: Entry) -> Entry:
        """Record ``entry`` under the next free release number; returns it numbered.

        Retried with backoff; LedgerWriteFailed when it cannot be written (or the lock is lost)."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return self._append_once(entry)
            except LockLost as exc:
                raise LedgerWriteFailed(exc.message, exc.hint) from None
            except ShipyardError as exc:
                if attempt + 1 == WRITE_ATTEMPTS:
                    raise LedgerWriteFailed(
                        f"could not record {describe_entry(entry)} in the release ledger of {self.env!r} "
                        f"after {WRITE_ATTEMPTS} attempts: {exc.message}",
                        hint=exc.hint,
                    ) from None
                self.sleep(WRITE_BACKOFF * 2**attempt)
        raise AssertionError("unreachable")

    def _append_once(self, entry: Entry) -> Entry:
        if self.fence is not None:
            self.fence()
        numbers = self._numbers()
        candidate = (numbers[-1] if numbers else 0) + 1
        for _ in range(100):
            numbered = replace(entry, release=candidate)
            try:
                self.store.put(entry_key(candidate), numbered.to_bytes(), if_absent=True)
            except Conflict:
                if self._is(candidate, numbered):
                    return numbered  # an earlier try wrote it, and only its answer was lost
                candidate += 1  # a concurrent writer took this number
                continue
            return numbered
        raise ShipyardError(f"could not append to the release ledger of {self.env!r}: too many concurrent writers")

    def _is(self, number: int, entry: Entry) -> bool:
        stored = self.store.get(entry_key(number))
        return stored is not None and stored.data == entry.to_bytes()

    def _read(self, number: int) -> Entry | None:
        stored = self.store.get(entry_key(number))
        return Entry.from_bytes(stored.data) if stored else None

    def newest_first(self) -> Iterator[Entry]:
        """Entries from the newest back, read lazily, READ_AHEAD at a time."""
        yield from self._read_back(list(reversed(self._numbers())))

    def _read_back(self, numbers: Sequence[int]) -> Iterator[Entry]:
        """The entries of ``numbers`` in that order; each batch is read in parallel (one GET each)."""
        with ThreadPoolExecutor(max_workers=READ_AHEAD) as pool:
            for start in range(0, len(numbers), READ_AHEAD):
                for entry in pool.map(self._read, numbers[start : start + READ_AHEAD]):
                    if entry is not None:
                        yield entry

    def history(self, service: str | None = None, limit: int = 0) -> list[Entry]:
        """Entries (of ``service``), newest first, after the attempts that never recorded an
        outcome; at most ``limit`` when it is set."""
        found: list[Entry] = [e for e in self.open_attempts() if service is None or e.service == service]
        if limit and len(found) >= limit:
            return found[:limit]
        for entry in self.newest_first():
            if service is None or entry.service == service:
                found.append(entry)
                if limit and len(found) >= limit:
                    break
        return found

    def get(self, release: int) -> Entry:
        entry = self._read(release)
        if entry is None:
            raise ShipyardError(
                f"release {release} is not in the ledger of {self.env!r}",
                hint=f"list releases with `invoke history --env {self.env}`",
            )
        return entry

    def current(self, service: str) -> Entry | None:
        """The release that runs now: the newest succeeded deploy or rollback."""
        return next((e for e in self.newest_first() if e.service == service and e.runs), None)

    def status(self) -> dict[str, tuple[Entry | None, Entry]]:
        """Per service: (what runs now, the last attempt).

        From the stored summary plus the entries after it (see shipyard.deploy.summary), which
        is then written forward: the cost follows the deploys since the last status, not the
        ledger's length."""
        known = summary.read(self.store)
        was = known.through
        newer = [n for n in reversed(self._numbers()) if n > was]
        known.fold((e.release, e.service, e.runs, asdict(e)) for e in self._read_back(newer))
        summary.write(self.store, known, was=was)
        last = {s: Entry.from_data(d) for s, d in known.last.items()}
        running = {s: Entry.from_data(d) for s, d in known.running.items()}
        opened: dict[str, Entry] = {}
        for entry in self.open_attempts():  # newest first; an open attempt is the last one
            opened.setdefault(entry.service, entry)
        last.update(opened)
        return {s: (running.get(s), last[s]) for s in sorted(last)}

    def current_of(self, services: Iterable[str]) -> dict[str, Entry]:
        """``current`` of several services in one pass over the ledger (never-deployed ones left out)."""
        wanted, found = set(services), {}
        for entry in self.newest_first():
            if entry.runs and entry.service in wanted and entry.service not in found:
                found[entry.service] = entry
                if len(found) == len(wanted):
                    break
        return found

    def deploy_of(self, entry: Entry) -> Entry | None:
        """The succeeded deploy whose release ``entry`` runs: itself, or the release a rollback put back.

        None for a rollback to a revision shipyard never deployed (what ran before its first deploy).
        """
        if entry.action == DEPLOY:
            return entry if entry.ok else None
        if entry.action == MIGRATE:
            return None
        if entry.restores:
            restored = self._read(entry.restores)
            return restored if restored is not None and _deploy_of(restored, entry.service) else None
        # a rollback that did not record what it restored: the newest deploy of its revision before it
        older = (e for e in self.newest_first() if e.release < entry.release and e.revision == entry.revision)
        return next((e for e in older if _deploy_of(e, entry.service)), None)

    def release_running(self, service: str, revision: str) -> Entry | None:
        """The succeeded deploy whose release runs as ``revision`` (the target's handle), if shipyard made it."""
        if not revision:
            return None
        latest = next(
            (e for e in self.newest_first() if e.service == service and e.runs and e.revision == revision), None
        )
        return self.deploy_of(latest) if latest is not None else None

    def rollback_goal(self, service: str, revision: str) -> Entry | None:
        """Where a rollback goes from ``revision`` (what runs): the newest succeeded deploy older than the
        release running it, on another revision. Rollbacks are not goals, so a second rollback goes further
        back, never forward; when shipyard never deployed what runs, the newest succeeded deploy."""
        running = self.release_running(service, revision)
        before = running.release if running is not None else None
        goals = (e for e in self.newest_first() if _deploy_of(e, service) and e.revision != revision)
        return next((e for e in goals if before is None or e.release < before), None)

    def verified(self, service: str, *, fingerprint: str = "", artifact: str = "") -> Entry | None:
        """The newest successful deploy of ``service`` with this fingerprint (or artifact)."""
        for entry in self.newest_first():
            if entry.service != service or not entry.ok or entry.action != DEPLOY:
                continue
            if (fingerprint and entry.fingerprint == fingerprint) or (artifact and entry.artifact == artifact):
                return entry
        return None
