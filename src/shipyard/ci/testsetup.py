"""What a unit's tests get besides their venv: the ``test`` settings as environment variables,
and the ``test-setup`` commands run before them (the root compose services: compose.py).

The nox session and shipyard's direct run both take them from here, and the test key hashes
them (``key_inputs``): a changed test setting or setup command reruns the tests, and a secret
value enters the key as a hash only.
"""

from __future__ import annotations

import hashlib
import shlex

from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.project import Project, Unit
from shipyard.core.secrets import Sensitive
from shipyard.settings.layers import Settings, load_test_settings
from shipyard.settings.refs import SecretRef


def test_settings(project: Project, unit: Unit) -> Settings:
    """The unit's ``test`` settings; a reference is refused (tests get values, and resolving
    one would need an environment's AWS account)."""
    settings = load_test_settings(project, unit)
    for setting in settings:
        if isinstance(setting.value, SecretRef):
            raise ShipyardError(
                f"{unit.name}: test setting {setting.key} is a reference ({setting.value}) from {setting.origin}",
                hint=f"tests get values: set {setting.key} in .env.test (or {unit.path}/.env.test), "
                "its `test-env` table, or the process environment",
            )
    return settings


def test_environ(project: Project, unit: Unit) -> dict[str, str]:
    """The test settings as the environment variables of the setup commands and the tests."""
    return {s.key: _reveal(s.value) for s in test_settings(project, unit)}


def _reveal(value: str | Sensitive | SecretRef) -> str:
    return value.reveal() if isinstance(value, Sensitive) else str(value)


def key_inputs(project: Project, unit: Unit) -> dict[str, object]:
    """What of the test setup enters the test key: each setting (a secret as a salted hash,
    never its value) and the setup commands."""
    found = test_settings(project, unit)
    settings = {s.key: _hashed(s.key, _reveal(s.value)) if s.secret else str(s.value) for s in found}
    return {"test-settings": settings, "test-setup": list(unit.settings["test-setup"])}


def _hashed(key: str, value: str) -> str:
    return "sha256:" + hashlib.sha256(f"shipyard test setting\0{key}\0{value}".encode()).hexdigest()


def setup_commands(unit: Unit) -> list[tuple[str, ...]]:
    """The unit's ``test-setup`` lines as argv (split like a shell would, but run without one)."""
    return [_split(unit, index, line) for index, line in enumerate(unit.settings["test-setup"])]


def _split(unit: Unit, index: int, line: str) -> tuple[str, ...]:
    where = f"{unit.source}: test-setup[{index}]"
    try:
        argv = tuple(shlex.split(line))
    except ValueError as exc:
        raise ConfigError(f"{where}: cannot split {line!r}: {exc}", hint="close the quote") from None
    if not argv:
        raise ConfigError(f"{where}: empty command", hint='remove it, or write a command: "alembic upgrade head"')
    return argv


def setup_failed(line: str, returncode: int | None = None) -> str:
    """The reason of a test run whose setup command failed."""
    status = f" (exit {returncode})" if returncode is not None else ""
    return f"test setup `{line}` failed{status}; the tests did not run"
