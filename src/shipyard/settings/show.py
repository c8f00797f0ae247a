"""``invoke config`` renderings: a table per service and a JSON document, both redacted."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shipyard.secrets import redact
from shipyard.settings.layers import Setting, Settings


def row(setting: Setting) -> dict[str, Any]:
    """One setting as plain data; secrets are [REDACTED], references shown as written."""
    return {
        "key": setting.key,
        "value": setting.shown,
        "source": setting.source,
        "secret": setting.secret,
        "reference": setting.is_reference,
        "overrides": list(setting.shadowed),
    }


def to_json(environment: str, loaded: Mapping[str, Settings]) -> str:
    document = {
        "environment": environment,
        "services": {
            name: {"settings": [row(s) for s in settings], "missing": settings.missing()}
            for name, settings in loaded.items()
        },
    }
    return redact(json.dumps(document, indent=2))


def to_table(environment: str, loaded: Mapping[str, Settings]) -> str:
    lines = [f"environment: {environment}"]
    for name, settings in loaded.items():
        lines += ["", name]
        rows = [(s.key, s.shown, s.origin) for s in settings]
        rows += [(key, "-", "missing (required)") for key in settings.missing() if key not in settings]
        if not rows:
            lines.append("  (no settings)")
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(2)]
        lines += [f"  {k.ljust(widths[0])}  {v.ljust(widths[1])}  {src}".rstrip() for k, v, src in rows]
    return redact("\n".join(lines))
