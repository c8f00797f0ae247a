"""``invoke config`` renderings: the environment's own keys (each with the environment table it
came from, ``extends`` followed) and a table per service; or a JSON document. Both redacted."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.core.project import Project
from shipyard.core.secrets import redact
from shipyard.settings.layers import TEST, Setting, Settings

_TABLE = "tool.shipyard.environments."


@dataclass(frozen=True)
class EnvKey:
    """One key of an environment's table: its value, the table it came from, the tables it overrides."""

    key: str
    value: Any
    source: str  # e.g. tool.shipyard.environments.staging
    shadowed: tuple[str, ...] = ()  # further up the extends chain, nearest first

    @property
    def origin(self) -> str:
        return f"{self.source} (overrides {', '.join(self.shadowed)})" if self.shadowed else self.source


def environment_keys(project: Project, name: str) -> list[EnvKey]:
    """The keys set in ``name``'s table or inherited through ``extends``, in schema order (none for
    ``test``, the settings of `invoke test`, which is no deploy environment)."""
    if name == TEST:
        return []
    env = project.environment(name)
    origins = project.origins.get(name, {})
    return [
        EnvKey(key, env[key], _TABLE + setters[0], tuple(_TABLE + s for s in setters[1:]))
        for key, setters in origins.items()
    ]


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


def to_json(
    environment: str, loaded: Mapping[str, Settings], keys: Sequence[EnvKey] = (), parents: Sequence[str] = ()
) -> str:
    document = {
        "environment": environment,
        "extends": list(parents),
        "keys": [{"key": k.key, "value": k.value, "source": k.source, "overrides": list(k.shadowed)} for k in keys],
        "services": {
            name: {"settings": [row(s) for s in settings], "missing": settings.missing()}
            for name, settings in loaded.items()
        },
    }
    return redact(json.dumps(document, indent=2))


def extends(project: Project, name: str) -> list[str]:
    """The environments ``name`` extends, nearest first."""
    from shipyard.core.environments import chain

    if name == TEST:
        return []
    return chain(name, project.settings["environments"])[1:]


def to_table(
    environment: str, loaded: Mapping[str, Settings], keys: Sequence[EnvKey] = (), parents: Sequence[str] = ()
) -> str:
    lines = [f"environment: {environment}" + (f" (extends {' -> '.join(parents)})" if parents else "")]
    width = max((len(k.key) for k in keys), default=0)
    values = [json.dumps(k.value) for k in keys]
    value_width = max((len(v) for v in values), default=0)
    lines += [f"  {k.key.ljust(width)}  {v.ljust(value_width)}  {k.origin}" for k, v in zip(keys, values, strict=True)]
    for name, settings in loaded.items():
        lines += ["", name]
        rows = [(s.key, s.shown, s.origin) for s in settings]
        rows += [(key, "-", "missing (required)") for key in settings.missing() if key not in settings]
        if not rows:
            lines.append("  (no settings)")
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(2)]
        lines += [f"  {k.ljust(widths[0])}  {v.ljust(widths[1])}  {src}".rstrip() for k, v, src in rows]
    return redact("\n".join(lines))
