"""Layered settings per environment and service; every value remembers where it came from.

Precedence, lowest first::

    defaults (the unit's `env` table) < .env < .env.<env> < <unit>/.env < <unit>/.env.<env>
    < the process environment < --set KEY=VALUE

The process environment only contributes keys something else declares (a layer, even as a
bare ``KEY`` line, or the unit's ``required-env``/``secret-env``): a laptop's or CI
runner's whole environment never leaks into a service's settings.

``test`` is the settings environment of ``invoke test`` (never a deploy environment): the
unit's ``test-env`` table sits right above its ``env`` table, and ``.env.test`` files are
the ``.env.<env>`` layers. Test-only layers hold throwaway credentials (the compose file's
database password), so the git guard leaves them alone; their secrets are still secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, Unit
from shipyard.core.secrets import Sensitive, looks_secret, register_secret
from shipyard.settings.files import read_env_file
from shipyard.settings.guard import refuse_tracked_secrets
from shipyard.settings.refs import SecretRef, is_reference, parse_reference

Value = str | Sensitive | SecretRef
ENVIRON, OVERRIDE = "process environment", "--set"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
OWN_PREFIX = "SHIPYARD_"  # shipyard's own knobs (SHIPYARD_DEBUG, SHIPYARD_WHEEL_CACHE, ...)
TEST = "test"  # the settings environment of `invoke test` (environments.RESERVED keeps it free)


@dataclass(frozen=True)
class Setting:
    """One merged setting: its value, the layer it came from, and whether it is secret."""

    key: str
    value: Value
    source: str
    secret: bool
    shadowed: tuple[str, ...] = ()  # lower layers that also set it, lowest first

    @property
    def is_reference(self) -> bool:
        return isinstance(self.value, SecretRef)

    @property
    def shown(self) -> str:
        """The value as it may be displayed: references as written, secrets as [REDACTED]."""
        return str(self.value) if self.value else '""'

    @property
    def origin(self) -> str:
        """Where the value came from, for people: ``process environment (overrides .env.staging)``."""
        if not self.shadowed:
            return self.source
        return f"{self.source} (overrides {', '.join(reversed(self.shadowed))})"


@dataclass(frozen=True)
class Settings:
    """The merged settings of one service in one environment, sorted by key."""

    service: str
    environment: str
    items: tuple[Setting, ...]
    required: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Setting]:
        return iter(self.items)

    def __contains__(self, key: object) -> bool:
        return self.get(str(key)) is not None

    def get(self, key: str) -> Setting | None:
        return next((s for s in self.items if s.key == key), None)

    def missing(self) -> list[str]:
        """Required keys that are unset or empty."""
        return [k for k in self.required if not (s := self.get(k)) or not s.value]

    def references(self) -> list[SecretRef]:
        return list(dict.fromkeys(s.value for s in self.items if isinstance(s.value, SecretRef)))


@dataclass(frozen=True)
class Layer:
    """One source of values; ``path`` is the file it was read from (for the git guard)."""

    source: str
    values: Mapping[str, str | None]
    path: str = ""
    guarded: bool = True  # whether the git guard checks it (test-only layers: no)


@dataclass
class _Merged:
    raw: dict[str, str] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    shadowed: dict[str, list[str]] = field(default_factory=dict)


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``["KEY=VALUE", ...]`` from ``--set`` into a dict; errors never echo a value."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not _KEY.match(key):
            # the argument is not echoed: a mistyped --set may well be a bare secret
            raise ShipyardError(
                "--set: expected KEY=VALUE, KEY made of letters, digits and underscores",
                hint="e.g. --set LOG_LEVEL=debug",
            )
        out[key] = value
    return out


def load_settings(
    project: Project,
    environment: str,
    unit: Unit,
    *,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The merged settings of ``unit`` in ``environment`` (unknown names get a did-you-mean)."""
    if environment != TEST:
        project.environment(environment)
    if unit.is_lib:
        raise ShipyardError(f"{unit.name} is a lib: settings belong to services", hint="name a service")
    return _load(project, environment, unit, overrides or {}, environ)


def load_test_settings(project: Project, unit: Unit, *, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings ``unit``'s tests get (a lib's too): the ``test`` environment's layers."""
    return _load(project, TEST, unit, {}, environ)


def _load(
    project: Project, environment: str, unit: Unit, overrides: Mapping[str, str], environ: Mapping[str, str] | None
) -> Settings:
    env = {} if environment == TEST else project.environment(environment)
    stack = layers(project, environment, unit, overrides, os.environ if environ is None else environ)
    merged = _merge(stack)
    own = own_keys(env, merged.raw)
    secret_keys = set(unit.settings["secret-env"]) | own
    refuse_tracked_secrets(project.root, _offenders(stack, secret_keys))
    items = tuple(_setting(k, merged, secret_keys) for k in sorted(merged.raw) if k not in own)
    required = () if environment == TEST else tuple(unit.settings["required-env"])  # required to deploy
    return Settings(unit.name, environment, items, required)


def load_all(
    project: Project,
    environment: str,
    units: Sequence[Unit],
    *,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Settings]:
    """Settings of every service among ``units`` (libs are skipped)."""
    if environment != TEST:
        project.environment(environment)
    return {
        u.name: load_settings(project, environment, u, overrides=overrides, environ=environ)
        for u in units
        if not u.is_lib
    }


def own_keys(environment: Mapping[str, object], keys: Iterable[str]) -> set[str]:
    """The keys among ``keys`` that shipyard itself consumes: those named by the environment's
    notifier keys (``slack-webhook``, ``webhook-url``) and every ``SHIPYARD_*`` key. They are secret
    and never a service's settings (a webhook in the root ``.env.<env>`` would otherwise reach every
    task definition)."""
    from shipyard.deploy.notify import secret_keys

    webhooks = secret_keys(environment)
    return {k for k in keys if k in webhooks or k.startswith(OWN_PREFIX)}


def check_required(
    project: Project,
    environment: str,
    units: Sequence[Unit],
    *,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Settings]:
    """Load the settings and fail listing every missing required key of every service at once."""
    loaded = load_all(project, environment, units, overrides=overrides, environ=environ)
    gaps = {name: s.missing() for name, s in loaded.items() if s.missing()}
    if gaps:
        listed = "; ".join(f"{name}: {', '.join(keys)}" for name, keys in gaps.items())
        raise ShipyardError(
            f"missing required settings for environment {environment!r}: {listed}",
            hint=f"set them in .env.{environment} or <service>/.env.{environment}, "
            "the process environment, or with --set KEY=VALUE (see .env.example)",
        )
    return loaded


def layers(
    project: Project, environment: str, unit: Unit, overrides: Mapping[str, str], environ: Mapping[str, str]
) -> list[Layer]:
    """The layers of ``unit`` in ``environment``, lowest precedence first."""
    files = [".env", f".env.{environment}", f"{unit.path}/.env", f"{unit.path}/.env.{environment}"]
    stack = [Layer(f"default ({unit.source})", unit.settings["env"], unit.source)]
    if environment == TEST:
        stack.append(Layer(f"test-env ({unit.source})", unit.settings["test-env"], unit.source, guarded=False))
    stack += [
        Layer(rel, read_env_file(project.root / rel, rel), rel, guarded=not rel.endswith(f".env.{TEST}"))
        for rel in files
        if _is_file(project.root, rel)
    ]
    known = {k for layer in stack for k in layer.values}
    known |= set(unit.settings["required-env"]) | set(unit.settings["secret-env"])
    stack.append(Layer(ENVIRON, {k: environ[k] for k in sorted(known) if k in environ}))
    stack.append(Layer(OVERRIDE, dict(overrides)))
    return stack


def _is_file(root: Path, rel: str) -> bool:
    """Whether the layer ``rel`` exists; something there that is not a file is an error, not
    a layer silently left out."""
    path = root / rel
    if path.is_file():
        return True
    if path.exists():
        raise ShipyardError(
            f"{rel}: is not a file (a directory?); settings layers are KEY=VALUE files",
            hint=f"remove or rename {rel}, and write the settings in a file of that name",
        )
    return False


def _merge(stack: Sequence[Layer]) -> _Merged:
    merged = _Merged()
    for layer in stack:
        for key, value in layer.values.items():
            if value is None:
                continue  # a bare `KEY` line declares the key without setting it
            if key in merged.source:
                merged.shadowed.setdefault(key, []).append(merged.source[key])
            merged.raw[key], merged.source[key] = value, layer.source
    return merged


def _is_secret(key: str, value: str, secret_keys: set[str]) -> bool:
    return key in secret_keys or looks_secret(key, value)


def _offenders(stack: Sequence[Layer], secret_keys: set[str]) -> dict[str, list[str]]:
    """Per file: secret keys holding a literal value (not a reference). Registers those values."""
    found: dict[str, list[str]] = {}
    for layer in stack:
        for key, value in layer.values.items():
            if value and not is_reference(value) and _is_secret(key, value, secret_keys):
                register_secret(value)  # shadowed values too: they must not surface either
                if layer.path and layer.guarded:
                    found.setdefault(layer.path, []).append(key)
    return found


def _setting(key: str, merged: _Merged, secret_keys: set[str]) -> Setting:
    raw, source = merged.raw[key], merged.source[key]
    shadowed = tuple(merged.shadowed.get(key, ()))
    if is_reference(raw):
        return Setting(key, parse_reference(raw, f"{source}: {key}"), source, True, shadowed)
    if _is_secret(key, raw, secret_keys):
        return Setting(key, Sensitive(raw), source, True, shadowed)
    return Setting(key, raw, source, False, shadowed)
