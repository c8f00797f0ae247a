"""Deploy notifications to a Slack incoming webhook — never in the deploy's way.

Each message is posted from a daemon thread with a short timeout; the deploy only
waits (boundedly) at the very end for messages still in flight. A webhook that is
down, slow or returns an error costs a warning line, never the deploy.
The webhook URL is a secret (it is the credential): it is never printed.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    """How one message fared."""

    text: str
    ok: bool
    error: str = ""


class Notifier:
    """Posts messages to one webhook; ``url`` may be empty (notifications off)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        warn: Callable[[str], None] = print,
    ) -> None:
        self._url = url
        self.timeout, self.warn = timeout, warn
        self.deliveries: list[Delivery] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Notifier({'[REDACTED]' if self._url else 'off'})"

    @property
    def enabled(self) -> bool:
        return bool(self._url)

    def send(self, text: str) -> None:
        """Post ``text`` in the background; returns at once."""
        if not self._url:
            return
        thread = threading.Thread(target=self._post, args=(text,), name="slack-notify", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _post(self, text: str) -> None:
        body = json.dumps({"text": text}).encode()
        request = urllib.request.Request(self._url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
            delivery = Delivery(text, True)
        except urllib.error.HTTPError as exc:
            delivery = Delivery(text, False, f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            # str(exc) of a URLError can contain the URL: name only the kind of failure
            reason = getattr(exc, "reason", exc)
            delivery = Delivery(text, False, type(reason).__name__ if not isinstance(reason, str) else "unreachable")
        with self._lock:
            self.deliveries.append(delivery)
        if not delivery.ok:
            self.warn(f"warning: Slack notification not delivered ({delivery.error}); the deploy goes on")

    def close(self, wait: float | None = None) -> list[Delivery]:
        """Wait at most ``wait`` seconds (default: the timeout) for messages in flight."""
        deadline = time.monotonic() + (self.timeout if wait is None else wait)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            return list(self.deliveries)
