"""A generic JSON webhook: each event POSTed as one JSON object, for any endpoint a team runs.

``webhook-url`` names the setting that holds the URL (a CI secret, or an ssm:/secretsmanager:
reference in the root .env.<env>): the URL is the credential, so it is never printed. The body::

    {"event": "deploy.succeeded", "environment": "staging", "services": ["api"],
     "release": {"api": 3}, "who": "ci@runner", "git_sha": "0a1b2c...", "run_url": "https://...",
     "text": "deployed api (release 3) to staging", "reason": ""}

``run_url`` is the GitHub Actions run (null outside GitHub Actions); ``release`` holds the
ledger release of each service once the event's attempt is recorded.
"""

from __future__ import annotations

from typing import Any

from shipyard.core.registry import Plugin
from shipyard.core.schema import Field
from shipyard.deploy.notify.base import Event, NotifierContext, NotifierFactory, Poster, run_url

FIELDS = {
    "webhook-url": Field(
        "str", "", doc="setting key holding the URL the JSON webhook notifier POSTs to", extra={"secret-setting": True}
    ),
}


def body(event: Event, run: str) -> dict[str, Any]:
    """The JSON object one event is sent as."""
    return {
        "event": event.event,
        "environment": event.environment,
        "services": list(event.services),
        "release": dict(event.releases),
        "who": event.who,
        "git_sha": event.git_sha,
        "run_url": run or None,
        "text": event.text,
        "reason": event.reason,
    }


class Webhook(Poster):
    """One endpoint; every event becomes one POST of :func:`body`."""

    def send(self, event: Event) -> None:
        self.post(event.text, body(event, run_url()))


def make(ctx: NotifierContext) -> Webhook | None:
    url = ctx.secret("webhook-url")
    return Webhook(url.reveal(), "webhook", timeout=ctx.timeout, warn=ctx.warn) if url else None


PLUGIN: Plugin[NotifierFactory] = Plugin(
    "webhook", make, FIELDS, frozenset({"structured"}), "each event as a JSON object POSTed to a URL"
)
