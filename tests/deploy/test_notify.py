"""The Slack notifier against a real local HTTP server: delivered (coloured, with fields and the run
link), a 500, a server that never answers; a bot token posting with chat.postMessage, and refused."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shipyard.core.secrets import Sensitive
from shipyard.deploy.notify import Notifications
from shipyard.deploy.notify.base import DEPLOY_FAILED, DEPLOY_STARTED, DEPLOY_SUCCEEDED, Event, NotifierContext
from shipyard.deploy.notify.slack import API_ENV, Slack, SlackBot, make


def event(text: str) -> Event:
    return Event(DEPLOY_STARTED, "staging", text)


class Hook(BaseHTTPRequestHandler):
    status = 200
    answer = b""  # what a 200 says; "" is an incoming webhook's plain "ok"
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        message = json.loads(body)
        message["_path"], message["_auth"] = self.path, self.headers.get("Authorization", "")
        type(self).received.append(message)
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(self.answer or (b"ok" if self.status == 200 else b"invalid_payload"))

    def log_message(self, *args: object) -> None:
        pass


def serve(status: int, answer: bytes = b"") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    handler = type("H", (Hook,), {"status": status, "received": [], "answer": answer})
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
    assert [m["text"] for m in received] == ["deploy to staging failed"]
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


RUN = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42"}


def done(text: str = "deployed api (release 3) to staging") -> Event:
    return Event(DEPLOY_SUCCEEDED, "staging", text, ("api",), {"api": 3}, "ci@runner", "0a1b2c3d4e5f6a7b8c9d")


def test_a_message_is_coloured_titled_with_fields_and_the_run_link(
    ok_hook: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in RUN.items():
        monkeypatch.setenv(name, value)
    url, received = ok_hook
    notifier = Slack(url, timeout=5)
    notifier.send(done())
    notifier.send(Event(DEPLOY_FAILED, "staging", "deploy to staging failed: api: health", ("api",), reason="health"))
    notifier.close()
    ok, failed = (m["attachments"][0] for m in received)
    assert ok["color"] == "#2eb886" and failed["color"] == "#a30200"
    assert ok["title"] == "staging: deploy succeeded"
    assert ok["title_link"] == "https://github.com/acme/shop/actions/runs/42"
    fields = {f["title"]: f["value"] for f in ok["fields"]}
    assert fields == {
        "Environment": "staging", "Services": "api", "Release": "api 3", "Who": "ci@runner", "Git sha": "0a1b2c3d4e5f",
    }  # fmt: skip


@pytest.fixture
def slack_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    for url, received in serve(200, b'{"ok": true, "ts": "1.2"}'):
        monkeypatch.setenv(API_ENV, url.split("/services")[0])
        yield received


def test_a_bot_token_posts_to_its_channel_with_chat_post_message(slack_api: list[dict[str, Any]]) -> None:
    token = Sensitive("xoxb-1234-secret")
    ctx = NotifierContext("staging", {"slack-token": "SLACK_BOT_TOKEN", "slack-channel": "#deploys"},
                          secret=lambda key: token if key == "slack-token" else None)  # fmt: skip
    notifier = make(ctx)
    assert isinstance(notifier, SlackBot)
    notifier.send(done())
    assert [d.ok for d in notifier.close()] == [True]
    (message,) = slack_api
    assert message["_path"] == "/chat.postMessage" and message["_auth"] == "Bearer xoxb-1234-secret"
    assert message["channel"] == "#deploys" and message["attachments"][0]["title"] == "staging: deploy succeeded"
    assert "xoxb-1234-secret" not in json.dumps({k: v for k, v in message.items() if k != "_auth"})
    assert "xoxb" not in repr(notifier)


def test_a_message_slack_refuses_is_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    for url, received in serve(200, b'{"ok": false, "error": "channel_not_found"}'):
        monkeypatch.setenv(API_ENV, url.split("/services")[0])
        warnings: list[str] = []
        notifier = SlackBot("xoxb-1", "#nowhere", timeout=5, warn=warnings.append)
        notifier.send(done())
        notifier.send(done("again"))
        deliveries = notifier.close()
        assert [(d.ok, d.error) for d in deliveries] == [(False, "Slack said channel_not_found")] * 2
        assert warnings == [
            "warning: Slack notification not delivered (Slack said channel_not_found); the deploy goes on"
        ]
        assert len(received) == 2
