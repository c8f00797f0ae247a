"""The deploy lock: one per environment, a lease that a running deploy keeps renewing.

The lock is one JSON object in the environment's state store, created with a
conditional put (If-None-Match), so two deploys can never both hold it. It names who
holds it, for what, since when and until when. A deploy renews the lease in a
background thread; a holder that vanished (a cancelled CI job) stops renewing, and once
the lease has expired the next deploy may take the lock over (If-Match on the stale
object, so two takers cannot both win) — and says so.

Each acquisition is a generation of the lock, named by the holder's random token in the
object. ``fence`` proves, before a write, that the object in the store still carries this
holder's generation with an unexpired lease; every ledger write calls it, and while the
lock is held every ECS write does too (a botocore hook, ``aws.fenced``). A holder whose
lock was taken over or force-released gets LockLost and writes nothing.

A lock that is gone or belongs to someone else is lost: the renewer records why and the
transaction stops. The renewer survives any exception: a renewal that fails (throttled,
a dropped connection, TLS, a 409 from a concurrent conditional write) is retried, and
after RENEW_FAILURES failures in a row, or once half the lease has passed without a
renewal, this holder gives the lock up — while the lease still keeps others out — so
the deploy stops before anyone can take over, and the record of why still reaches the
ledger. A release that fails is retried, then reported with the command that releases
the lock by hand: it never hides the deploy's own result.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from shipyard.aws import fenced
from shipyard.core.errors import ShipyardError
from shipyard.deploy.store import Conflict, Contended, StateStore, Stored

LOCK_KEY = "lock.json"
# Seconds; renewed every quarter of it while a deploy runs. A holder killed with SIGKILL keeps
# the lock this long; a holder whose renewals fail gives it up after half of it (90 s), which
# leaves a renewal 45 s of botocore's retries (standard mode, 8 retries) before it is overdue,
# and gives up while the other half of the lease still keeps every other deploy out.
DEFAULT_LEASE = 180.0
RELEASE_ATTEMPTS = 4  # a release is tried this often, 1 s, 2 s, 4 s apart
RENEW_FAILURES = 3  # renewals failed in a row (each after botocore's own retries): the lock is given up


def whoami() -> str:
    """Who acts: the CI actor and run when in GitHub Actions, else user@host."""
    actor = os.environ.get("GITHUB_ACTOR")
    if actor:
        run = os.environ.get("GITHUB_RUN_ID", "")
        return f"{actor} (github run {run})" if run else actor
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"
    return f"{user}@{socket.gethostname()}"


def utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class LockInfo:
    """The lock object: who holds it, for what, since when, until when."""

    holder: str
    purpose: str
    acquired: float  # epoch seconds (wall clock: leases are compared across machines)
    expires: float
    token: str  # this holder's random id; a renewal checks it is still ours

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LockInfo:
        raw = json.loads(data)
        return cls(
            str(raw["holder"]), str(raw["purpose"]), float(raw["acquired"]), float(raw["expires"]), str(raw["token"])
        )

    def expired(self, now: float) -> bool:
        return now >= self.expires

    def describe(self, now: float) -> str:
        left = self.expires - now
        lease = f"lease expires in {int(left)}s" if left > 0 else f"lease expired {int(-left)}s ago"
        return f"held by {self.holder} for {self.purpose!r} since {utc(self.acquired)} ({lease})"


class LockLost(ShipyardError):
    """Another deploy took the lock over (our lease had expired) or it was force-released."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint or "check `invoke lock.status` and `invoke status` before deploying again")


def _why(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ShipyardError) else f"{type(exc).__name__}: {exc}"


class DeployLock:
    """The lock of one environment's state store."""

    def __init__(
        self,
        store: StateStore,
        env: str,
        *,
        lease: float = DEFAULT_LEASE,
        holder: str | None = None,
        say: Callable[[str], None] = print,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store, self.env, self.lease = store, env, lease
        self.holder = holder or whoami()
        self.say, self.clock, self.sleep = say, clock, sleep
        self.token = uuid.uuid4().hex
        self.etag: str | None = None
        self.info: LockInfo | None = None
        self.took_over: LockInfo | None = None  # the expired lock this one replaced, if any
        self._lost = ""  # why this holder lost (or gave up) the lock; the first reason wins
        self.failures = 0  # renewals failed in a row

    @property
    def lost(self) -> str:
        """Why the lock is lost ("" while it is held or was never taken). A lock not renewed for
        half its lease is lost even while a renewal still hangs."""
        if not self._lost and self.etag is not None and self.info is not None and self.clock() >= self._give_up_at():
            self._lose(f"lost the deploy lock of {self.env!r}: not renewed for half its lease ({self.lease:g}s)")
        return self._lost

    def _give_up_at(self) -> float:
        assert self.info is not None
        return self.info.expires - self.lease / 2

    def status(self) -> LockInfo | None:
        """The current lock object, or None when the environment is unlocked."""
        stored = self.store.get(LOCK_KEY)
        return LockInfo.from_bytes(stored.data) if stored else None

    def _new_info(self, purpose: str) -> LockInfo:
        now = self.clock()
        return LockInfo(self.holder, purpose, now, now + self.lease, self.token)

    def acquire(self, purpose: str, *, wait: float = 0.0, poll: float = 2.0) -> LockInfo:
        """Take the lock; wait up to ``wait`` seconds for a holder; take over an expired lease."""
        deadline = self.clock() + wait
        announced = False
        while True:
            if self._try(purpose):
                assert self.info is not None
                return self.info
            current = self.store.get(LOCK_KEY)
            if current is None:
                continue  # released between our put and our read: try again at once
            info = LockInfo.from_bytes(current.data)
            if info.expired(self.clock()) and self._take_over(purpose, current, info):
                assert self.info is not None
                return self.info
            if self.clock() >= deadline:
                raise self._held_error(info)
            if not announced:
                self.say(f"waiting for the deploy lock of {self.env}: {info.describe(self.clock())}")
                announced = True
            self.sleep(min(poll, max(0.0, deadline - self.clock())))

    def _try(self, purpose: str) -> bool:
        info = self._new_info(purpose)
        try:
            self.etag = self.store.put(LOCK_KEY, info.to_bytes(), if_absent=True)
        except Conflict:
            return False
        self.info = info
        return True

    def _take_over(self, purpose: str, stale: Stored, old: LockInfo) -> bool:
        info = self._new_info(purpose)
        try:
            self.etag = self.store.put(LOCK_KEY, info.to_bytes(), if_match=stale.etag)
        except Conflict:
            return False  # someone else renewed or took it first
        self.info, self.took_over = info, old
        self.say(f"took over the deploy lock of {self.env}: its lease had expired ({old.describe(self.clock())})")
        return True

    def _held_error(self, info: LockInfo) -> ShipyardError:
        return ShipyardError(
            f"the deploy lock of {self.env!r} is {info.describe(self.clock())}",
            hint=f"wait for that deploy (--lock-wait SECONDS), or if it is gone: invoke lock.release --env {self.env}",
        )

    def renew(self) -> None:
        """Extend our lease; raise LockLost when the object is no longer ours (412: someone
        else's generation, or 404: released). Contended (409) and AWS errors are for the caller
        to retry."""
        if self.info is None or self.etag is None:
            raise LockLost(f"the deploy lock of {self.env!r} is not held")
        info = LockInfo(self.info.holder, self.info.purpose, self.info.acquired, self.clock() + self.lease, self.token)
        try:
            self.etag = self.store.put(LOCK_KEY, info.to_bytes(), if_match=self.etag)
        except Contended:
            raise
        except Conflict:
            self.etag = self._renew_after_lost_answer(info)
        self.info = info

    def _renew_after_lost_answer(self, info: LockInfo) -> str:
        """The object changed since our last renewal. When it still carries our generation, an
        earlier renewal landed and only its answer was lost (a dropped connection): renew on top
        of it. Otherwise the lock is someone else's, or gone."""
        current = self.store.get(LOCK_KEY)
        if current is not None and _token(current.data) == self.token:
            try:
                return self.store.put(LOCK_KEY, info.to_bytes(), if_match=current.etag)
            except Contended:
                raise
            except Conflict:
                pass
        raise self._lose(f"lost the deploy lock of {self.env!r}: another deploy took it over or it was released")

    def _lose(self, why: str) -> LockLost:
        """Remember that the lock is lost (the first reason wins); the error to raise."""
        self._lost = self._lost or why
        return LockLost(self._lost)

    def fence(self, write: str = "a write", *, record: bool = False) -> None:
        """The fence of every write made under the lock: raise LockLost (nothing is written)
        unless the lock object in the store still carries this holder's generation (its token)
        with an unexpired lease.

        ``record``: the write records what happened (the ledger). A holder that gave the lock up
        (renewals failing) may still record while the object is its own and unexpired: nobody
        else can hold the lock yet. Any other write refuses once the lock is lost. A lock never
        taken (or already released) fences nothing.
        """
        if self.lost and not record:
            raise LockLost(f"refused {write}: {self.lost}")
        if self.etag is None:
            return
        why = self._not_ours(self.store.get(LOCK_KEY))
        if why:
            self._lose(f"lost the deploy lock of {self.env!r}: {why}")
            raise LockLost(f"refused {write}: {self._lost}")

    def _not_ours(self, current: Stored | None) -> str:
        """Why the stored lock object ``current`` does not prove that we hold the lock ("" if it does)."""
        if current is None:
            return "it was released"
        try:
            info = LockInfo.from_bytes(current.data)
        except (ValueError, KeyError, TypeError):
            return "the lock object is not one shipyard wrote"
        if info.token != self.token:
            return f"another deploy holds it ({info.describe(self.clock())})"
        if info.expired(self.clock()):
            return f"its lease expired at {utc(info.expires)}"
        return ""

    def release(self) -> None:
        """Delete the lock object if it is still ours; a lost lock is left alone.

        A failing delete is retried; when it keeps failing this says so and how to release
        by hand, and returns: the lock then stays until its lease expires.
        """
        if self.etag is None:
            return
        for attempt in range(RELEASE_ATTEMPTS):
            try:
                self.store.delete(LOCK_KEY, if_match=self.etag)
                break
            except Contended as exc:  # 409: a concurrent conditional write; try again
                failed: BaseException = exc
            except Conflict:  # taken over meanwhile: it is not ours to delete
                break
            except Exception as exc:
                failed = exc
            if attempt + 1 == RELEASE_ATTEMPTS:
                self._release_failed(failed)
                break
            self.sleep(2.0**attempt)
        self.etag, self.info = None, None

    def _release_failed(self, exc: BaseException) -> None:
        until = f" (until {utc(self.info.expires)})" if self.info else ""
        self.say(
            f"warning: could not release the deploy lock of {self.env}: {_why(exc)}; it stays held until its "
            f"lease expires{until}. Release it by hand: invoke lock.release --env {self.env}"
        )

    def force_release(self) -> LockInfo | None:
        """Delete whatever lock object exists (``invoke lock.release``); returns what it was."""
        current = self.store.get(LOCK_KEY)
        if current is None:
            return None
        try:
            self.store.delete(LOCK_KEY, if_match=current.etag)
        except Conflict:
            raise ShipyardError(
                f"the deploy lock of {self.env!r} changed while releasing it", hint="check `invoke lock.status` again"
            ) from None
        return LockInfo.from_bytes(current.data)

    @contextmanager
    def held(self, purpose: str, *, wait: float = 0.0, poll: float = 2.0) -> Iterator[LockInfo]:
        """Hold the lock for a block: renewed in the background, released however the block ends."""
        info = self.acquire(purpose, wait=wait, poll=poll)
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew_loop, args=(stop,), name="lock-renewer", daemon=True)
        renewer.start()
        try:
            with fenced(self.fence):  # every ECS write made while the lock is held proves it first
                yield info
        finally:
            stop.set()
            renewer.join(timeout=10)
            self.release()

    def _renew_loop(self, stop: threading.Event) -> None:
        """Renew every quarter of the lease until stopped; survives any exception."""
        wait = self.lease / 4
        while not stop.wait(wait) and not self.lost:
            try:
                self.renew()
                self.failures, wait = 0, self.lease / 4
            except LockLost:
                return
            except Exception as exc:  # throttled, dropped, TLS, 409...: retried, then given up
                wait = self._retry_renewal(exc)
                if not wait:
                    return

    def _retry_renewal(self, exc: BaseException) -> float:
        """Seconds until the next try of a failed renewal; 0 when the lock is given up: after
        RENEW_FAILURES failures in a row, or when the next try would come after half the lease."""
        self.failures += 1
        wait = max(self.lease / 30, 0.05)
        why = "ConditionalRequestConflict (409)" if isinstance(exc, Contended) else _why(exc)
        if self.failures >= RENEW_FAILURES:
            self._lose(f"lost the deploy lock of {self.env!r}: {self.failures} renewals failed in a row ({why})")
            return 0.0
        if self.info is None or self.clock() + wait >= self._give_up_at():
            self._lose(f"lost the deploy lock of {self.env!r}: not renewed for half its lease ({why})")
            return 0.0
        self.say(f"warning: could not renew the deploy lock of {self.env} (retrying): {why}")
        return wait


def _token(data: bytes) -> str:
    try:
        return LockInfo.from_bytes(data).token
    except (ValueError, KeyError, TypeError):
        return ""  # not a lock object we can read: not ours
