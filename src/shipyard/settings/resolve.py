"""Resolving references for the local target: each through its secret backend (SSM, Secrets Manager).

Only deploys to a target that cannot resolve references itself call this; ``invoke config``
never does. Every resolved value comes back wrapped in ``Sensitive`` (so it is registered
with the redactor), and every missing parameter, secret or JSON key is listed in one error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import Sensitive
from shipyard.settings.backends import BACKENDS
from shipyard.settings.layers import Settings
from shipyard.settings.refs import SecretRef


def resolve(settings: Settings, environment: Mapping[str, Any]) -> dict[str, str | Sensitive]:
    """The values of ``settings`` with every reference fetched (``environment``: profile, region)."""
    return resolve_all({settings.service: settings}, environment)[settings.service]


def resolve_all(
    loaded: Mapping[str, Settings], environment: Mapping[str, Any]
) -> dict[str, dict[str, str | Sensitive]]:
    """``resolve`` for several services, fetching each distinct reference once."""
    users: dict[SecretRef, list[str]] = {}
    for name, settings in loaded.items():
        for s in settings:
            if isinstance(s.value, SecretRef):
                users.setdefault(s.value, []).append(f"{name}: {s.key}")
    values, missing = fetch(list(users), environment)
    if missing:
        listed = "; ".join(
            f"{ref} {missing[ref]} (used by {', '.join(who)})" for ref, who in users.items() if ref in missing
        )
        raise ShipyardError(f"cannot resolve secret references: {listed}", hint=_hint(missing))
    return {
        name: {s.key: values[s.value] if isinstance(s.value, SecretRef) else s.value for s in settings}
        for name, settings in loaded.items()
    }


def fetch(
    refs: list[SecretRef], environment: Mapping[str, Any]
) -> tuple[dict[SecretRef, Sensitive], dict[SecretRef, str]]:
    """(values, missing): each reference's value, or why it could not be found; each secret
    backend (``shipyard.settings.backends``) reads its own references, in one go."""
    values: dict[SecretRef, Sensitive] = {}
    missing: dict[SecretRef, str] = {}
    for name in BACKENDS.names():
        mine = [r for r in refs if r.store == name]
        if mine:
            found, lost = BACKENDS.load(name).fetch(mine, environment)
            values.update(found)
            missing.update(lost)
    return values, missing


def _hint(missing: Mapping[SecretRef, str]) -> str:
    ref = next(iter(missing))
    return BACKENDS.load(ref.store).create_hint(ref)
