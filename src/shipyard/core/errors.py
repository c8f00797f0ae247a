"""One error family: expected problems become one readable line plus a hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ShipyardError(Exception):
    """An expected problem: printed as ``error: <message>`` and ``hint: <hint>``, exit 1."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(ShipyardError):
    """The configuration is malformed; the message names the file and key path."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name(kind: str, name: str, known: Iterable[str]) -> ShipyardError:
    """The error for a name that is not one of ``known`` (services, environments, ...)."""
    known = sorted(known)
    listed = ", ".join(known) if known else "none"
    return ShipyardError(
        f"unknown {kind} {name!r}{did_you_mean(name, known)}",
        hint=f"known {kind}s: {listed}",
    )
