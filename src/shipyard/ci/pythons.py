"""Which Python versions a unit is tested on: requires-python x configured x installed."""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import zip_longest

from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.project import Unit


@dataclass(frozen=True)
class Versions:
    """The versions to test a unit on, and the wanted ones with no interpreter here."""

    found: tuple[str, ...]
    missing: tuple[str, ...]


def allowed(unit: Unit, candidates: Sequence[str]) -> list[str]:
    """The candidate versions the unit's requires-python admits."""
    if not unit.is_python:
        return []
    # A version is admitted when any of its patch releases is (">=3.11.2" admits 3.11).
    return [v for v in candidates if any(_contains(unit, f"{v}.{p}") for p in (0, 99))]


def _contains(unit: Unit, version: str) -> bool:
    fast = simple_contains(unit.requires_python, version)
    return fast if fast is not None else _packaging_contains(unit, version)


def _packaging_contains(unit: Unit, version: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = SpecifierSet(unit.requires_python)
    except InvalidSpecifier:
        raise ConfigError(
            f"{unit.source}: project.requires-python: invalid specifier {unit.requires_python!r}"
        ) from None
    return spec.contains(version)


_CLAUSE = re.compile(r"\s*(~=|==|!=|<=|>=|<|>)\s*(\d+(?:\.\d+)*)(\.\*)?\s*")


@functools.cache
def simple_contains(spec: str, version: str) -> bool | None:
    """PEP 440's answer for a final release ``version`` when every clause of ``spec`` is an
    operator and a plain release number (">=3.10", "<4", "==3.11.*", "~=3.10"), the only
    shapes requires-python takes in practice; None for anything else, which goes to
    ``packaging`` (whose import costs ~20 ms of every task's start-up)."""
    have = tuple(int(part) for part in version.split("."))
    parsed = []
    for clause in spec.split(",") if spec.strip() else []:
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            return None
        op, number, star = match.groups()
        want = tuple(int(part) for part in number.split("."))
        if (star and op not in ("==", "!=")) or (op == "~=" and len(want) < 2):
            return None
        parsed.append((op, want, bool(star)))
    return all(_admits(have, op, want, star) for op, want, star in parsed)


def _admits(have: tuple[int, ...], op: str, want: tuple[int, ...], star: bool) -> bool:
    if op == "~=":
        return _compare(have, want) >= 0 and have[: len(want) - 1] == want[:-1]
    if star:
        prefix = (have + (0,) * len(want))[: len(want)] == want
        return prefix if op == "==" else not prefix
    return _OPS[op](_compare(have, want))


_OPS: dict[str, Callable[[int], bool]] = {
    "==": lambda c: c == 0,
    "!=": lambda c: c != 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
}


def _compare(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """-1, 0 or 1 as release ``a`` is below, equal to or above ``b`` (missing parts are 0)."""
    for x, y in zip_longest(a, b, fillvalue=0):
        if x != y:
            return -1 if x < y else 1
    return 0


def interpreter(version: str) -> str | None:
    return _which(f"python{version}", os.environ.get("PATH", ""))


@functools.cache
def _which(program: str, path: str) -> str | None:
    """shutil.which, once per program and PATH (every unit asks for the same few)."""
    return shutil.which(program, path=path)


def versions(unit: Unit, candidates: Sequence[str], *, strict: bool) -> Versions:
    """Split the allowed versions into found and missing; ``strict`` makes missing an error."""
    wanted = allowed(unit, candidates)
    found = tuple(v for v in wanted if interpreter(v))
    missing = tuple(v for v in wanted if v not in found)
    if strict and missing:
        raise ShipyardError(
            f"{unit.name}: no interpreter for Python {', '.join(missing)}",
            hint="install it (e.g. with pyenv) or run without --strict-python",
        )
    return Versions(found, missing)
