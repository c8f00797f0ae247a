"""Slack: each event's line posted to an incoming webhook (``slack-webhook`` names the setting
that holds its URL, e.g. a CI secret or an ssm:/ reference in the root .env.<env>)."""

from __future__ import annotations

from collections.abc import Callable

from shipyard.deploy.notify.base import Event, NotifierContext, NotifierFactory, Poster
from shipyard.registry import Plugin
from shipyard.schema import Field

FIELDS = {
    "slack-webhook": Field(
        "str", "", doc="setting key holding a Slack incoming-webhook URL", extra={"secret-setting": True}
    ),
}


class Slack(Poster):
    """One Slack incoming webhook; messages are ``{"text": ...}``."""

    def __init__(self, url: str, *, timeout: float = 5.0, warn: Callable[[str], None] = print) -> None:
        super().__init__(url, "Slack", timeout=timeout, warn=warn)

    def send(self, event: Event) -> None:
        self.post(event.text, {"text": event.text})


def make(ctx: NotifierContext) -> Slack | None:
    url = ctx.secret("slack-webhook")
    return Slack(url.reveal(), timeout=ctx.timeout, warn=ctx.warn) if url else None


PLUGIN: Plugin[NotifierFactory] = Plugin("slack", make, FIELDS, doc="each event's line to a Slack incoming webhook")
