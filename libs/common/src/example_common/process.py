"""Job processing: pure functions from (kind, payload) to a JSON-able result."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")


class UnknownJobKind(ValueError):
    """The job kind has no processor."""


class InvalidPayload(ValueError):
    """The payload does not fit the job kind."""


def _text(payload: dict[str, Any]) -> str:
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        raise InvalidPayload('payload must be an object with a string "text"')
    return payload["text"]


def wordcount(payload: dict[str, Any]) -> dict[str, Any]:
    """Count the words of ``payload["text"]`` (case-insensitive)."""
    words = [w.lower() for w in _WORD.findall(_text(payload))]
    counts = Counter(words)
    return {
        "words": len(words),
        "unique": len(counts),
        "top": [[word, n] for word, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))[:10]],
    }


def reverse(payload: dict[str, Any]) -> dict[str, Any]:
    """Reverse ``payload["text"]``."""
    return {"text": _text(payload)[::-1]}


PROCESSORS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "wordcount": wordcount,
    "reverse": reverse,
}
KINDS = tuple(sorted(PROCESSORS))


def process(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run the processor for ``kind``; raise UnknownJobKind or InvalidPayload."""
    try:
        processor = PROCESSORS[kind]
    except (KeyError, TypeError):
        raise UnknownJobKind(f"unknown job kind {kind!r}; known: {', '.join(KINDS)}") from None
    return processor(payload)
