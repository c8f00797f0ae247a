"""Slack: each event as a coloured message with a title, fields and a link to the CI run.

Two ways to reach Slack, whichever the environment names:

- an incoming webhook: ``slack-webhook`` names the setting that holds its URL;
- a bot token and a channel: ``slack-token`` names the setting that holds the token (``xoxb-...``)
  and ``slack-channel`` is the channel (``#deploys`` or an id), posted with ``chat.postMessage``.

The URL and the token are credentials: never printed, the token travels only in the
Authorization header. Slack's Web API answers 200 with ``{"ok": false, "error": ...}`` when
it refuses a message (a wrong channel, a revoked token): that is a failed delivery, one warning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from shipyard.core.registry import Plugin
from shipyard.core.schema import Field
from shipyard.deploy.notify.base import Event, NotifierContext, NotifierFactory, Poster, run_url

FIELDS = {
    "slack-webhook": Field(
        "str", "", doc="setting key holding a Slack incoming-webhook URL", extra={"secret-setting": True}
    ),
    "slack-token": Field(
        "str",
        "",
        doc="setting key holding a Slack bot token (chat.postMessage; with slack-channel)",
        extra={"secret-setting": True},
    ),
    "slack-channel": Field("str", "", doc="the channel a slack-token posts to, e.g. #deploys"),
}
API_ENV = "SHIPYARD_SLACK_API_URL"  # Slack's Web API base URL; tests point it at a local server
API = "https://slack.com/api"
COLOURS = {"succeeded": "#2eb886", "failed": "#a30200", "rolled-back": "#daa038", "forced": "#daa038",
           "takeover": "#daa038"}  # fmt: skip
NEUTRAL = "#439fe0"


def colour(event: Event) -> str:
    return COLOURS.get(event.event.rsplit(".", 1)[-1], NEUTRAL)


def message(event: Event, run: str) -> dict[str, Any]:
    """The Slack message of one event: a fallback text and one coloured attachment."""
    fields = [("Environment", event.environment), ("Services", ", ".join(event.services))]
    fields += [("Release", ", ".join(f"{s} {n}" for s, n in sorted(event.releases.items())))]
    fields += [("Who", event.who), ("Git sha", event.git_sha[:12])]
    attachment: dict[str, Any] = {
        "color": colour(event),
        "title": f"{event.environment}: {event.event.replace('.', ' ')}",
        "text": event.text,
        "fields": [{"title": t, "value": v, "short": True} for t, v in fields if v],
        "fallback": event.text,
    }
    if run:
        attachment["title_link"] = run
    if event.reason and event.reason not in event.text:
        attachment["fields"].append({"title": "Why", "value": event.reason, "short": False})
    return {"text": event.text, "attachments": [attachment]}


class Slack(Poster):
    """One incoming webhook; each event is one :func:`message`."""

    def __init__(self, url: str, *, timeout: float = 5.0, warn: Callable[[str], None] = print) -> None:
        super().__init__(url, "Slack", timeout=timeout, warn=warn)

    def send(self, event: Event) -> None:
        self.post(event.text, message(event, run_url()))


class SlackBot(Poster):
    """A bot token posting to one channel with chat.postMessage."""

    def __init__(self, token: str, channel: str, *, timeout: float = 5.0, warn: Callable[[str], None] = print) -> None:
        url = os.environ.get(API_ENV, API).rstrip("/") + "/chat.postMessage"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"}
        super().__init__(url, "Slack", timeout=timeout, warn=warn, headers=headers)
        self.channel = channel

    def send(self, event: Event) -> None:
        self.post(event.text, {"channel": self.channel, **message(event, run_url())})

    def refused(self, answer: bytes) -> str:
        try:
            reply = json.loads(answer)
        except ValueError:
            return "not a Slack API answer"
        if isinstance(reply, dict) and reply.get("ok") is True:
            return ""
        error = reply.get("error") if isinstance(reply, dict) else None
        return f"Slack said {error}" if isinstance(error, str) and error.replace("_", "").isalnum() else "refused"


def make(ctx: NotifierContext) -> Slack | SlackBot | None:
    token = ctx.secret("slack-token")
    channel = str(ctx.environment.get("slack-channel", ""))
    if token and channel:
        return SlackBot(token.reveal(), channel, timeout=ctx.timeout, warn=ctx.warn)
    url = ctx.secret("slack-webhook")
    return Slack(url.reveal(), timeout=ctx.timeout, warn=ctx.warn) if url else None


PLUGIN: Plugin[NotifierFactory] = Plugin(
    "slack", make, FIELDS, doc="coloured messages with fields to Slack: an incoming webhook, or a bot token + channel"
)
