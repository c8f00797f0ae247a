"""Notifiers, by name: the notifier registry. A notifier is a module with a ``PLUGIN``
(see slack.py, webhook.py); adding one is one module and one line below.

An environment selects its notifiers with ``notify = [...]`` (unset: each notifier one of
whose keys is set, so ``slack-webhook = "..."`` alone still turns Slack on); each notifier
reads its own keys. :class:`Notifications` fans every event out to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.core.registry import Registry
from shipyard.deploy.notify.base import Delivery, Event, Notifier, NotifierContext, NotifierFactory

STRUCTURED = "structured"

NOTIFIERS: Registry[NotifierFactory] = Registry(
    "notifier",
    [
        "shipyard.deploy.notify.slack",
        "shipyard.deploy.notify.webhook",
    ],
    {STRUCTURED: "sends each event's fields as data (environment, services, release, who, git sha, run link)"},
)


def secret_keys(environment: Mapping[str, Any]) -> set[str]:
    """The settings named by the environment's notifier keys marked secret (``slack-webhook``,
    ``webhook-url``): shipyard's own secrets, never a service's settings."""
    return {
        str(environment[key])
        for plugin in NOTIFIERS
        for key, spec in plugin.fields.items()
        if spec.extra.get("secret-setting") and environment.get(key)
    }


class Notifications:
    """Every notifier the environment selected; ``send`` returns at once."""

    def __init__(self, notifiers: list[Notifier]) -> None:
        self.notifiers = notifiers

    def __repr__(self) -> str:
        return f"Notifications({len(self.notifiers)} notifier(s), [REDACTED])"

    @property
    def enabled(self) -> bool:
        return bool(self.notifiers)

    def send(self, event: Event) -> None:
        for notifier in self.notifiers:
            notifier.send(event)

    def close(self, wait: float | None = None) -> list[Delivery]:
        return [d for n in self.notifiers for d in n.close(wait)]


def selected(environment: Mapping[str, Any]) -> list[str]:
    """The environment's ``notify`` list; unset, every notifier one of whose keys is set
    (``slack-webhook = "..."`` alone turns Slack on, as before notifiers were plugins)."""
    if environment.get("notify"):
        return list(environment["notify"])
    return [p.name for p in NOTIFIERS if any(environment.get(k) not in (None, "", [], {}) for k in p.fields)]


def open_notifications(ctx: NotifierContext) -> Notifications:
    """The environment's notifiers, each made from its own keys (one not configured is left out)."""
    made = [NOTIFIERS.load(name)(ctx) for name in selected(ctx.environment)]
    return Notifications([n for n in made if n is not None])


__all__ = ["NOTIFIERS", "Event", "Notifications", "Notifier", "NotifierContext", "open_notifications", "secret_keys"]
