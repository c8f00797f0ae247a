"""Text renderings of deploy state: status, history, the lock."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.core.secrets import redact
from shipyard.deploy.ledger import Entry
from shipyard.deploy.lock import LockInfo


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in (head, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return redact("\n".join(lines))


def short_artifact(artifact: str) -> str:
    """``repo@sha256:0123456789ab`` — enough of a digest to tell releases apart."""
    repo, sep, digest = artifact.partition("@")
    return f"{repo.rsplit('/', 1)[-1]}@{digest[:19]}" if sep else artifact


def status_table(env: str, rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return f"{env}: nothing deployed yet (the release ledger is empty)"
    body = [
        (
            r["service"],
            str(r["release"] or "-"),
            short_artifact(r["artifact"]) or "-",
            r["git_sha"][:12] or "-",
            r["last"],
            r["who"],
            r["when"],
            r.get("url") or "-",
            (r["drift"] or r["reason"])[:80],
        )
        for r in rows
    ]
    return _table(("service", "release", "artifact", "git", "last attempt", "who", "when", "url", "note"), body)


def history_table(env: str, entries: Sequence[Entry]) -> str:
    if not entries:
        return f"{env}: no releases recorded"
    body = [
        (
            str(e.release or "-"),  # an open attempt has no release number yet
            e.service,
            e.action,
            e.outcome,
            short_artifact(e.artifact) or "-",
            e.git_sha[:12] or "-",
            e.who,
            e.finished,
            e.reason[:80],
        )
        for e in entries
    ]
    return _table(("release", "service", "action", "outcome", "artifact", "git", "who", "finished", "reason"), body)


def lock_line(env: str, info: LockInfo | None) -> str:
    if info is None:
        return f"{env}: unlocked"
    return f"{env}: locked, {info.describe(time.time())}"
