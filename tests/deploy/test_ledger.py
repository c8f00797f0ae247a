"""The release ledger: numbered append-only entries; concurrent writers never lose one."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.deploy import summary
from shipyard.deploy.ledger import DEPLOY, FAILED, PREFIX, ROLLBACK, SUCCEEDED, Entry, Ledger
from shipyard.deploy.store import LocalStore, StateStore, Stored


def entry(service: str, outcome: str = SUCCEEDED, artifact: str = "", fp: str = "", action: str = DEPLOY) -> Entry:
    return Entry(
        service, action, outcome, fp or f"fp-{artifact}", artifact or "repo@sha256:1", revision=f"td:{artifact}"
    )


def test_entries_are_numbered_and_read_back_newest_first(store: StateStore) -> None:
    ledger = Ledger(store, "staging")
    first = ledger.append(entry("api", artifact="a1"))
    second = ledger.append(entry("worker", artifact="w1"))
    third = ledger.append(entry("api", FAILED, artifact="a2"))
    assert (first.release, second.release, third.release) == (1, 2, 3)
    assert [e.release for e in ledger.history()] == [3, 2, 1]
    assert [e.release for e in ledger.history("api")] == [3, 1]
    assert ledger.history(limit=1) == [third]
    assert ledger.get(2) == second
    with pytest.raises(ShipyardError, match="release 9 is not in the ledger of 'staging'"):
        ledger.get(9)


def test_status_previous_and_verified(store: StateStore) -> None:
    ledger = Ledger(store, "staging")
    ledger.append(entry("api", artifact="a1", fp="f1"))
    ledger.append(entry("api", artifact="a2", fp="f2"))
    ledger.append(entry("api", FAILED, artifact="a3", fp="f3"))
    ledger.append(entry("api", artifact="a1", fp="f1", action=ROLLBACK))
    running, last = ledger.status()["api"]
    assert running is not None and (running.release, running.action, running.artifact) == (4, ROLLBACK, "a1")
    assert last.release == 4
    assert ledger.current("api") == running
    # what runs is release 1 (put back by a rollback that did not record it): nothing is older
    assert ledger.release_running("api", "td:a1") == ledger.get(1)
    assert ledger.rollback_goal("api", "td:a1") is None
    assert ledger.current_of(["api", "worker"]) == {"api": running}
    assert ledger.verified("api", fingerprint="f2") is not None
    assert ledger.verified("api", fingerprint="f3") is None  # failed: not verified
    assert ledger.verified("worker", fingerprint="f1") is None


def test_rollbacks_go_back_never_forward(store: StateStore) -> None:
    """A, B, C deployed: rollback -> B, rollback -> A, then nothing older; C never came back."""
    ledger = Ledger(store, "staging")
    a, b, c = (ledger.append(entry("api", artifact=x)) for x in ("a", "b", "c"))
    ledger.append(entry("api", FAILED, artifact="d"))  # failed releases are never goals
    ledger.append(entry("worker", artifact="w"))  # another service's release neither
    assert ledger.release_running("api", c.revision) == c
    assert ledger.rollback_goal("api", c.revision) == b
    to_b = ledger.append(replace(entry("api", artifact="b", action=ROLLBACK), restores=b.release))
    assert ledger.deploy_of(to_b) == b and ledger.release_running("api", b.revision) == b
    assert ledger.rollback_goal("api", b.revision) == a
    to_a = ledger.append(replace(entry("api", artifact="a", action=ROLLBACK), restores=a.release))
    assert ledger.release_running("api", a.revision) == a
    assert ledger.rollback_goal("api", a.revision) is None
    # a revision shipyard never deployed (what ran before the first deploy): nothing names it
    ledger.append(entry("api", artifact="placeholder", action=ROLLBACK))
    assert ledger.release_running("api", "td:placeholder") is None
    assert ledger.deploy_of(ledger.get(to_a.release + 1)) is None
    assert ledger.rollback_goal("api", "td:placeholder") == c  # from unknown ground: the newest deploy
    assert ledger.deploy_of(ledger.get(4)) is None  # the failed deploy


def test_a_writer_that_picked_a_taken_number_takes_the_next(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers list the ledger at the same moment: the conditional put makes the loser move on."""
    ledger = Ledger(store, "staging")
    ledger.append(entry("api", artifact="a1"))
    stale = Ledger(store, "staging")
    monkeypatch.setattr(stale, "_numbers", lambda: [])  # it saw an empty ledger
    assert stale.append(entry("worker", artifact="w1")).release == 2
    assert [(e.release, e.artifact) for e in ledger.history()] == [(2, "w1"), (1, "a1")]


def test_concurrent_writers_never_lose_an_entry(tmp_path: Path) -> None:
    # Threads racing for real. Local files only: moto's server does not serialize its
    # conditional puts (two racing If-None-Match puts can both win there, unlike on S3).
    store = LocalStore(tmp_path / "state")
    ledger = Ledger(store, "staging")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                Ledger(store, "staging").append(entry(f"svc{n}", artifact=f"{n}-{i}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = ledger.history()
    assert sorted(e.release for e in entries) == list(range(1, 31))
    assert sorted(e.artifact for e in entries) == sorted(f"{n}-{i}" for n in range(6) for i in range(5))


class CountingStore:
    """A store that counts the entries read from it (what `status` costs)."""

    def __init__(self, inner: StateStore) -> None:
        self.inner, self.reads = inner, 0

    def get(self, key: str) -> Stored | None:
        self.reads += key.startswith(PREFIX)
        return self.inner.get(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_status_reads_only_the_entries_written_since_the_last_status(store: StateStore) -> None:
    ledger = Ledger(store, "staging")
    for n in range(30):
        ledger.append(entry(f"svc-{n % 3}", FAILED if n == 28 else SUCCEEDED, artifact=f"a{n}"))
    first = ledger.status()
    counting = CountingStore(store)
    again = Ledger(counting, "staging")
    assert again.status() == first  # from the summary the first status wrote: no entry read
    assert counting.reads == 0
    again.append(entry("svc-1", FAILED, artifact="late"))
    third = again.status()
    assert counting.reads == 1  # the one entry written since
    running, last = third["svc-1"]
    assert (last.artifact, last.outcome) == ("late", FAILED)
    assert running is not None and running.artifact == "a25"  # svc-1's newest succeeded deploy
    assert third["svc-0"] == first["svc-0"] and third["svc-2"] == first["svc-2"]


def test_a_damaged_or_stale_summary_is_rebuilt_from_the_entries(store: StateStore) -> None:
    ledger = Ledger(store, "staging")
    ledger.append(entry("api", artifact="a1"))
    ledger.status()
    store.put(summary.KEY, b'{"version": 1, "through": ')  # a truncated write
    ledger.append(entry("api", artifact="a2"))
    running, _ = ledger.status()["api"]
    assert running is not None and running.artifact == "a2"
    # a summary ahead of a stale reader's is never overwritten by it
    newer = summary.read(store)
    stale = summary.Summary(through=1, etag=None)
    summary.write(store, stale, was=0)
    assert summary.read(store).through == newer.through == 2


def test_an_open_attempt_is_the_last_one_beside_the_summary(store: StateStore) -> None:
    ledger = Ledger(store, "staging")
    ledger.append(entry("api", artifact="a1"))
    ledger.status()
    started = replace(entry("api", artifact="a2"), deploy_id="d2", started="2026-12-02T00:00:00Z")
    ledger.open_attempt(started)
    running, last = ledger.status()["api"]
    assert running is not None and running.artifact == "a1"
    assert (last.artifact, last.outcome) == ("a2", "started")
