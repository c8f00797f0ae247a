"""What a notifier is, and the delivery every webhook notifier shares — never in the deploy's way.

An :class:`Event` is what happened (a deploy started, succeeded, failed, was rolled back; a
migration; a lock takeover; a forced release), as data: each notifier renders it its own way.
Messages are posted in order from a daemon thread per endpoint, each with a short timeout; the
deploy only waits (boundedly) at the very end for messages still in flight. An endpoint that is down, slow or
returns an error costs one warning line, never the deploy. Webhook URLs are secrets (they
are the credential): never printed, and no error message that could contain one is shown.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from shipyard.core.secrets import Sensitive

# the events shipyard notifies
DEPLOY_STARTED = "deploy.started"
DEPLOY_SUCCEEDED = "deploy.succeeded"
DEPLOY_FAILED = "deploy.failed"
DEPLOY_STOPPED = "deploy.stopped"  # ended before changing anything
DEPLOY_ROLLED_BACK = "deploy.rolled-back"  # the automatic rollback after a failure
DEPLOY_FORCED = "deploy.forced"  # --force: past the CI gate, or a release promote-from never verified
ROLLBACK = "rollback"  # invoke rollback
MIGRATE_SUCCEEDED = "migrate.succeeded"
MIGRATE_FAILED = "migrate.failed"
LOCK_TAKEOVER = "lock.takeover"


@dataclass(frozen=True)
class Event:
    """One thing that happened in an environment; ``text`` is its line for people (redacted)."""

    event: str
    environment: str
    text: str
    services: tuple[str, ...] = ()
    releases: Mapping[str, int] = field(default_factory=dict)  # service -> ledger release, once recorded
    who: str = ""
    git_sha: str = ""
    reason: str = ""


def run_url(environ: Mapping[str, str] | None = None) -> str:
    """The GitHub Actions run this process belongs to ("" outside GitHub Actions)."""
    environ = os.environ if environ is None else environ
    parts = [environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else ""


@dataclass(frozen=True)
class Delivery:
    """How one message fared."""

    text: str
    ok: bool
    error: str = ""


def no_secrets(key_field: str) -> Sensitive | None:
    return None


@dataclass(frozen=True)
class NotifierContext:
    """What a notifier factory gets: one environment, ``secret(key_field)`` (the value of the
    setting an environment key such as ``slack-webhook`` names, or None) and where warnings go."""

    env: str
    environment: Mapping[str, Any]
    secret: Callable[[str], Sensitive | None] = no_secrets
    warn: Callable[[str], None] = print
    timeout: float = 5.0


class Notifier(Protocol):
    """Sends events somewhere; ``send`` returns at once, ``close`` waits (boundedly) for what is in flight."""

    def send(self, event: Event) -> None: ...

    def close(self, wait: float | None = None) -> list[Delivery]: ...


NotifierFactory = Callable[[NotifierContext], "Notifier | None"]  # None: not configured here


class Poster:
    """Posts JSON bodies to one URL from one background thread, in the order they were sent
    (a "rolled back" never arrives before its "failed"); ``label`` names it in the warning."""

    def __init__(
        self,
        url: str,
        label: str,
        *,
        timeout: float = 5.0,
        warn: Callable[[str], None] = print,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._url, self.label = url, label
        self._headers = {"Content-Type": "application/json", **(headers or {})}  # may hold a token: never shown
        self.timeout, self.warn = timeout, warn
        self.deliveries: list[Delivery] = []
        self._queue: queue.SimpleQueue[tuple[str, Mapping[str, Any]]] = queue.SimpleQueue()
        self._pending = 0
        self._worker: threading.Thread | None = None
        self._done = threading.Condition()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label}, [REDACTED])"

    def post(self, text: str, body: Mapping[str, Any]) -> None:
        """Queue ``body`` (``text`` is what the delivery record shows); returns at once."""
        with self._done:
            self._pending += 1
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name=f"notify-{self.label}", daemon=True)
                self._worker.start()
        self._queue.put((text, body))

    def _run(self) -> None:
        while True:
            text, body = self._queue.get()
            try:
                self._post(text, body)
            finally:
                with self._done:
                    self._pending -= 1
                    self._done.notify_all()

    def _post(self, text: str, body: Mapping[str, Any]) -> None:
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode()
        request = urllib.request.Request(self._url, data=data, headers=self._headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                refused = self.refused(response.read())
            delivery = Delivery(text, not refused, refused)
        except urllib.error.HTTPError as exc:
            delivery = Delivery(text, False, f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            # str(exc) of a URLError can contain the URL: name only the kind of failure
            reason = getattr(exc, "reason", exc)
            delivery = Delivery(text, False, type(reason).__name__ if not isinstance(reason, str) else "unreachable")
        with self._done:
            first_failure = not delivery.ok and all(d.ok for d in self.deliveries)
            self.deliveries.append(delivery)
        if first_failure:  # one warning per endpoint: a dead one would repeat it for every event
            self.warn(f"warning: {self.label} notification not delivered ({delivery.error}); the deploy goes on")

    def refused(self, answer: bytes) -> str:
        """Why an endpoint that answered 2xx did not take the message ("" when it did)."""
        return ""

    def close(self, wait: float | None = None) -> list[Delivery]:
        """Wait at most ``wait`` seconds (default: the timeout) for messages in flight."""
        deadline = time.monotonic() + (self.timeout if wait is None else wait)
        with self._done:
            while self._pending and time.monotonic() < deadline:
                self._done.wait(max(0.0, deadline - time.monotonic()))
            return list(self.deliveries)
