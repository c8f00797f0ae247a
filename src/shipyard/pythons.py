"""Which Python versions a unit is tested on: requires-python x configured x installed."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from shipyard.errors import ConfigError, ShipyardError
from shipyard.project import Unit


@dataclass(frozen=True)
class Versions:
    """The versions to test a unit on, and the wanted ones with no interpreter here."""

    found: tuple[str, ...]
    missing: tuple[str, ...]


def allowed(unit: Unit, candidates: Sequence[str]) -> list[str]:
    """The candidate versions the unit's requires-python admits."""
    if not unit.is_python:
        return []
    try:
        spec = SpecifierSet(unit.requires_python)
    except InvalidSpecifier:
        raise ConfigError(
            f"{unit.source}: project.requires-python: invalid specifier {unit.requires_python!r}"
        ) from None
    # A version is admitted when any of its patch releases is (">=3.11.2" admits 3.11).
    return [v for v in candidates if any(spec.contains(f"{v}.{p}") for p in (0, 99))]


def interpreter(version: str) -> str | None:
    return shutil.which(f"python{version}")


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
