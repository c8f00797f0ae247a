"""The ledger's summary: per service, its last attempt and the release that runs, as of one release.

Entries are immutable and numbered in order (a number is taken only once every lower one
exists), so "the status as of release N" never changes once N exists. `invoke status`
reads the summary, then only the entries written after it, and writes the summary
forward; its cost no longer grows with the ledger. The summary is derived data: a missing,
unreadable or unwritable one only means reading more entries, never a wrong answer.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.deploy.store import Conflict, StateStore

KEY = "index/summary.json"
VERSION = 1


@dataclass
class Summary:
    """What ``status`` needs, folded over the entries up to release ``through``.

    ``last`` and ``running`` hold entries as dicts (the ledger's Entry, kept as data so
    this module does not import it)."""

    through: int = 0
    last: dict[str, dict[str, Any]] = field(default_factory=dict)
    running: dict[str, dict[str, Any]] = field(default_factory=dict)
    etag: str | None = None  # of the stored summary this one was read from; None: none was

    def fold(self, newest_first: Iterable[tuple[int, str, bool, dict[str, Any]]]) -> None:
        """Take in entries newer than ``through`` (number, service, runs, data), newest first."""
        newer_last: dict[str, dict[str, Any]] = {}
        newer_running: dict[str, dict[str, Any]] = {}
        top = self.through
        for number, service, runs, data in newest_first:
            top = max(top, number)
            newer_last.setdefault(service, data)
            if runs:
                newer_running.setdefault(service, data)
        self.last.update(newer_last)
        self.running.update(newer_running)
        self.through = top

    def to_bytes(self) -> bytes:
        body = {"version": VERSION, "through": self.through, "last": self.last, "running": self.running}
        return json.dumps(body, sort_keys=True).encode()


def read(store: StateStore) -> Summary:
    """The stored summary, or an empty one when there is none or it cannot be used."""
    try:
        stored = store.get(KEY)
    except ShipyardError:
        return Summary()
    if stored is None:
        return Summary()
    try:
        raw = json.loads(stored.data)
        if raw.get("version") != VERSION:
            return Summary(etag=stored.etag)
        return Summary(int(raw["through"]), dict(raw["last"]), dict(raw["running"]), stored.etag)
    except (ValueError, KeyError, TypeError, AttributeError):  # truncated or foreign: rebuilt from the entries
        return Summary(etag=stored.etag)


def write(store: StateStore, summary: Summary, *, was: int) -> None:
    """Store ``summary`` when it is ahead of the one read (``was``); best effort, never over a newer one."""
    if summary.through <= was:
        return
    with contextlib.suppress(Conflict, ShipyardError):  # another reader wrote first, or no write access
        if summary.etag is None:
            store.put(KEY, summary.to_bytes(), if_absent=True)
        else:
            store.put(KEY, summary.to_bytes(), if_match=summary.etag)
