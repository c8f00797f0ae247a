"""The Slack notifier against a real local HTTP server: delivered, a 500, a server that never answers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shipyard.deploy.notify import Notifications
from shipyard.deploy.notify.base import DEPLOY_STARTED, Event
from shipyard.deploy.notify.slack import Slack


def event(text: str) -> Event:
    return Event(DEPLOY_STARTED, "staging", text)


class Hook(BaseHTTPRequestHandler):
    status = 200
    received: list[dict[str, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b"ok" if self.status == 200 else b"invalid_payload")

    def log_message(self, *args: object) -> None:
        pass


def serve(status: int) -> Iterator[tuple[str, list[dict[str, str]]]]:
    handler = type("H", (Hook,), {"status": status, "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secret-token", handler.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def ok_hook() -> Iterator[tuple[str, list[dict[str, str]]]]:
    yield from serve(200)


@pytest.fixture
def broken_hook() -> Iterator[tuple[str, list[dict[str, str]]]]:
    yield from serve(500)


@pytest.fixture
def silent_hook() -> Iterator[str]:
    """Accepts connections and reads nothing, answers nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/services/T000/B000/secret-token"
    listener.close()


def test_messages_are_posted_as_slack_json(ok_hook: tuple[str, list[dict[str, str]]]) -> None:
    url, received = ok_hook
    warnings: list[str] = []
    notifier = Slack(url, timeout=5, warn=warnings.append)
    notifier.send(event("deploying api to staging"))
    notifier.send(event("deployed api (release 3) to staging"))
    deliveries = notifier.close()
    assert sorted(m["text"] for m in received) == ["deployed api (release 3) to staging", "deploying api to staging"]
    assert [d.ok for d in deliveries] == [True, True]
    assert warnings == []


def test_a_500_is_a_warning_not_a_failure(broken_hook: tuple[str, list[dict[str, str]]]) -> None:
    url, received = broken_hook
    warnings: list[str] = []
    notifier = Slack(url, timeout=5, warn=warnings.append)
    notifier.send(event("deploy to staging failed"))
    deliveries = notifier.close()
    assert received == [{"text": "deploy to staging failed"}]
    assert [(d.ok, d.error) for d in deliveries] == [(False, "HTTP 500")]
    assert warnings == ["warning: Slack notification not delivered (HTTP 500); the deploy goes on"]


def test_a_server_that_never_answers_does_not_hold_the_deploy(silent_hook: str) -> None:
    warnings: list[str] = []
    notifier = Slack(silent_hook, timeout=0.5, warn=warnings.append)
    notifier.send(event("deploying api to staging"))  # returns at once: the post runs in the background
    deliveries = notifier.close(wait=5)  # bounded by the notifier's own timeout
    assert [(d.ok, d.error) for d in deliveries] == [(False, "TimeoutError")]
    assert "secret-token" not in "".join(warnings) and "secret-token" not in repr(notifier)


def test_no_notifier_means_no_notifications() -> None:
    notifier = Notifications([])
    notifier.send(event("anything"))
    assert not notifier.enabled and notifier.close() == []
