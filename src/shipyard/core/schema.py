"""Typed validation of ``[tool.shipyard]`` tables, naming the exact file and key path."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.core.errors import ConfigError, did_you_mean

_EXPECTED = {
    "str": "a string",
    "int": "an integer",
    "bool": "true or false",
    "str-list": "a list of strings",
    "str-table": "a table of strings",
    "table": "a table",
}


@dataclass(frozen=True)
class Field:
    """One key of a table: its type, default, allowed values and (for tables) its fields."""

    type: str
    default: Any = None
    choices: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()  # a value may also be one of these followed by anything (`command:...`)
    fields: Mapping[str, Field] | None = None
    each: Mapping[str, Field] | None = None  # a table of tables, each with these fields
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()  # unit kinds the key applies to; empty: every kind
    python: bool | None = None  # True: Python units only, False: non-Python only, None: both

    def applies(self, kind: str, is_python: bool) -> bool:
        """Whether the key does anything in a unit of this kind and Python-ness."""
        return (not self.kinds or kind in self.kinds) and self.python in (None, is_python)

    def scope(self) -> str:
        """Where the key applies, in words; "" when everywhere."""
        parts = ["/".join(self.kinds)] if self.kinds else []
        if self.python is not None:
            parts.append("Python" if self.python else "non-Python")
        return " ".join(reversed(parts)) + " units" if parts else ""


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str-list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "str-table":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return isinstance(value, dict)


def validate(table: Any, fields: Mapping[str, Field], source: str, path: str) -> dict[str, Any]:
    """Check ``table`` against ``fields`` and return it with defaults filled in.

    ``source`` is the file shown in errors, ``path`` the dotted key path of ``table``.
    """
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: {path or 'top level'}: expected a table, got {_show(table)}")
    out: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{path}.{key}" if path else key
        spec = fields.get(key)
        if spec is None:
            raise ConfigError(
                f"{source}: {where}: unknown key{did_you_mean(key, fields)}",
                hint="known keys: " + ", ".join(sorted(fields)),
            )
        out[key] = _check(value, spec, source, where)
    for key, spec in fields.items():
        if key not in out:
            out[key] = _copy_default(spec.default)
    return out


def _check(value: Any, spec: Field, source: str, where: str) -> Any:
    if not _type_ok(spec.type, value):
        raise ConfigError(f"{source}: {where}: expected {_EXPECTED[spec.type]}, got {_show(value)}")
    for item in value if spec.type == "str-list" else [value]:  # a list's choices are its items'
        if spec.choices and item not in spec.choices and not _prefixed(item, spec.prefixes):
            allowed = ", ".join([*spec.choices, *(f"{p}..." for p in spec.prefixes)])
            raise ConfigError(
                f"{source}: {where}: expected one of {allowed}, got {_show(item)}{did_you_mean(item, spec.choices)}"
            )
    if spec.fields is not None:
        return validate(value, spec.fields, source, where)
    if spec.each is not None:
        return {k: validate(v, spec.each, source, f"{where}.{k}") for k, v in value.items()}
    return value


def _prefixed(item: Any, prefixes: tuple[str, ...]) -> bool:
    return isinstance(item, str) and any(item.startswith(p) and item != p for p in prefixes)


def _copy_default(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return type(value)(value)
    return value
