"""The deploy lock: conditional puts, waiting, expired-lease takeover, renewal, release, SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.deploy.lock import LOCK_KEY, DeployLock, LockInfo, LockLost
from shipyard.deploy.store import Contended, StateStore
from shipyard.run.proc import Terminated, sigterm_as_interrupt


class Clock:
    """A wall clock the test moves; ``sleep`` advances it (and runs a hook once)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []
        self.hook = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0.01)
        if self.hook is not None:
            hook, self.hook = self.hook, None
            hook()


def lock(store: StateStore, who: str, clock: Clock, lease: float = 300, said: list[str] | None = None) -> DeployLock:
    out = said if said is not None else []
    return DeployLock(store, "staging", lease=lease, holder=who, say=out.append, clock=clock, sleep=clock.sleep)


def test_a_held_lock_fails_a_second_deploy_clearly(store: StateStore) -> None:
    clock = Clock()
    lock(store, "alice", clock).acquire("deploy api")
    with pytest.raises(ShipyardError) as info:
        lock(store, "bob", clock).acquire("deploy worker")
    assert "the deploy lock of 'staging' is held by alice for 'deploy api' since" in info.value.message
    assert "lease expires in 300s" in info.value.message
    assert info.value.hint is not None and "--lock-wait" in info.value.hint
    assert "invoke lock.release --env staging" in info.value.hint


def test_lock_wait_polls_until_the_holder_releases(store: StateStore) -> None:
    clock, said = Clock(), []
    alice = lock(store, "alice", clock)
    alice.acquire("deploy api")
    clock.hook = alice.release
    bob = lock(store, "bob", clock, said=said)
    info = bob.acquire("deploy worker", wait=60, poll=5)
    assert info.holder == "bob"
    assert said[0].startswith("waiting for the deploy lock of staging: held by alice")
    assert LockInfo.from_bytes(store.get(LOCK_KEY).data).holder == "bob"  # type: ignore[union-attr]


def test_lock_wait_gives_up_at_the_deadline(store: StateStore) -> None:
    clock = Clock()
    lock(store, "alice", clock).acquire("deploy api")
    with pytest.raises(ShipyardError, match="held by alice"):
        lock(store, "bob", clock).acquire("deploy worker", wait=12, poll=5)
    assert clock.slept == [5, 5, 2]


def test_an_expired_lease_is_taken_over_and_the_output_says_so(store: StateStore) -> None:
    clock, said = Clock(), []
    alice = lock(store, "alice", clock, lease=60)
    alice.acquire("deploy api")
    clock.now += 61  # alice's CI job was cancelled: nobody renews
    bob = lock(store, "bob", clock, said=said)
    assert bob.acquire("deploy worker").holder == "bob"
    assert said == [
        "took over the deploy lock of staging: its lease had expired "
        f"(held by alice for 'deploy api' since {_utc(clock.now - 61)} (lease expired 1s ago))"
    ]
    with pytest.raises(LockLost):
        alice.renew()
    alice.release()  # not hers any more: bob's lock stays
    assert bob.status() is not None and bob.status().holder == "bob"  # type: ignore[union-attr]


def _utc(epoch: float) -> str:
    from shipyard.deploy.lock import utc

    return utc(epoch)


def test_renew_extends_the_lease_and_release_deletes(store: StateStore) -> None:
    clock = Clock()
    alice = lock(store, "alice", clock, lease=60)
    first = alice.acquire("deploy api")
    clock.now += 30
    alice.renew()
    assert alice.status().expires == first.expires + 30  # type: ignore[union-attr]
    alice.release()
    assert alice.status() is None


def test_held_releases_on_error_and_on_interrupt(store: StateStore) -> None:
    clock = Clock()
    alice = lock(store, "alice", clock)
    with pytest.raises(RuntimeError), alice.held("deploy api"):
        raise RuntimeError("boom")
    assert alice.status() is None
    with pytest.raises(KeyboardInterrupt), alice.held("deploy api"):
        raise KeyboardInterrupt
    assert alice.status() is None


def test_the_background_thread_renews_the_lease(store: StateStore) -> None:
    alice = DeployLock(store, "staging", lease=0.6, holder="alice", say=lambda _: None)
    with alice.held("deploy api") as info:
        deadline = time.monotonic() + 10
        while alice.status().expires == info.expires and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.05)
        assert alice.status().expires > info.expires  # type: ignore[union-attr]
        assert not alice.lost
    assert alice.status() is None


def test_force_release_removes_any_holder(store: StateStore) -> None:
    clock = Clock()
    lock(store, "alice", clock).acquire("deploy api")
    released = lock(store, "ops", clock).force_release()
    assert released is not None and released.holder == "alice"
    assert lock(store, "ops", clock).force_release() is None


def test_sigterm_unwinds_like_ctrl_c_while_guarded() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises long before this ends
    assert signal.getsignal(signal.SIGTERM) is before
    assert issubclass(Terminated, KeyboardInterrupt)


def test_the_fence_passes_for_the_holders_generation_and_refuses_after_a_takeover(store: StateStore) -> None:
    clock = Clock()
    alice = lock(store, "alice", clock, lease=60)
    alice.fence("ecs UpdateService")  # never taken: nothing to prove
    alice.acquire("deploy api")
    alice.fence("ecs UpdateService")
    alice.fence("a ledger write", record=True)
    bob = lock(store, "bob", Clock(clock.now + 61))  # to bob's clock alice's lease has expired
    bob.acquire("deploy worker")
    assert not alice.lost  # alice has not noticed: only the fence's proof tells her
    for record in (False, True):
        with pytest.raises(LockLost) as info:
            alice.fence("ecs UpdateService", record=record)
        assert info.value.message.startswith(
            "refused ecs UpdateService: lost the deploy lock of 'staging': another deploy holds it (held by bob"
        )
    assert alice.lost.startswith("lost the deploy lock of 'staging': another deploy holds it")
    bob.fence("ecs UpdateService")


def test_a_holder_that_gave_up_may_still_record_until_its_lease_expires(store: StateStore) -> None:
    clock = Clock()
    alice = lock(store, "alice", clock, lease=60)
    alice.acquire("deploy api")
    clock.now += 30  # half the lease without a renewal: given up
    assert alice.lost == "lost the deploy lock of 'staging': not renewed for half its lease (60s)"
    with pytest.raises(LockLost, match="refused ecs RunTask: lost the deploy lock"):
        alice.fence("ecs RunTask")
    alice.fence("a ledger write", record=True)  # nobody else can hold it yet: the record of why goes in
    clock.now += 30
    with pytest.raises(LockLost, match="refused a ledger write: lost the deploy lock of 'staging': not renewed"):
        alice.fence("a ledger write", record=True)


def test_the_fence_refuses_a_released_lock(store: StateStore) -> None:
    clock = Clock()
    alice = lock(store, "alice", clock)
    alice.acquire("deploy api")
    lock(store, "ops", clock).force_release()
    with pytest.raises(LockLost, match="refused a ledger write: lost the deploy lock of 'staging': it was released"):
        alice.fence("a ledger write", record=True)


class FailingPuts:
    """A store whose puts fail with ``error`` while ``failing`` is set."""

    def __init__(self, store: StateStore, error: Exception) -> None:
        self.store, self.error, self.failing = store, error, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def put(self, key: str, data: bytes, **kwargs: Any) -> str:
        if self.failing:
            raise self.error
        return self.store.put(key, data, **kwargs)


@pytest.mark.parametrize("error", [Contended(LOCK_KEY), ValueError("no JSON"), ShipyardError("cannot write")])
def test_renewals_failing_in_a_row_give_the_lock_up_whatever_the_error(store: StateStore, error: Exception) -> None:
    said: list[str] = []
    failing = FailingPuts(store, error)
    alice = DeployLock(failing, "staging", lease=6, holder="alice", say=said.append)  # type: ignore[arg-type]
    with alice.held("deploy api"):
        failing.failing = True
        deadline = time.monotonic() + 30
        while not alice.lost and time.monotonic() < deadline:
            time.sleep(0.02)
        assert alice.lost.startswith("lost the deploy lock of 'staging': 3 renewals failed in a row (")
        assert len(said) == 2 and alice.failures == 3
        failing.failing = False
    assert alice.status() is None
