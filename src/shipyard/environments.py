"""Environments: the implicit ``local`` environment and the checks the schema cannot express.

``local`` always exists: when ``[tool.shipyard.environments.local]`` is not defined it is
added with every service kind on the ``local`` target, so a fresh monorepo can run the
whole pipeline on a laptop with no configuration and no cloud account.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from shipyard.config import DEFAULT_TARGETS, ENVIRONMENT_FIELDS, KINDS, TARGETS
from shipyard.errors import ConfigError, did_you_mean
from shipyard.schema import validate

if TYPE_CHECKING:
    from shipyard.project import Unit

LOCAL = "local"
LOCAL_TARGETS = {"service": "local", "static": "local"}
# names that are not deploy environments: .env.example is documentation, never a layer;
# .env.test holds the settings of `invoke test`
RESERVED = {"example": ".env.example documents settings", "test": ".env.test holds the settings of `invoke test`"}
_ACCOUNT = re.compile(r"^\d{12}$")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_SOURCE = "pyproject.toml"


def with_local(settings: dict[str, Any]) -> dict[str, Any]:
    """Add the implicit ``local`` environment, then check every environment."""
    envs: dict[str, dict[str, Any]] = settings["environments"]
    if LOCAL not in envs:
        envs[LOCAL] = validate({"targets": dict(LOCAL_TARGETS)}, ENVIRONMENT_FIELDS, _SOURCE, "")
    for name, env in envs.items():
        check_environment(name, env, envs)
    default = settings["default-environment"]
    if default not in envs:
        raise ConfigError(
            f"{_SOURCE}: tool.shipyard.default-environment: unknown environment {default!r}"
            f"{did_you_mean(default, envs)}",
            hint="environments: " + ", ".join(sorted(envs)),
        )
    return settings


def check_environment(name: str, env: dict[str, Any], envs: dict[str, Any]) -> None:
    """Names, targets, account id and promote-from of one environment."""
    where = f"{_SOURCE}: tool.shipyard.environments.{name}"
    if not _NAME.match(name):
        raise ConfigError(f"{where}: environment names are lowercase letters, digits and dashes")
    if name in RESERVED:
        raise ConfigError(f"{where}: {name!r} is reserved ({RESERVED[name]})", hint="pick another name")
    for kind, target in env["targets"].items():
        if kind not in KINDS or kind == "lib":
            raise ConfigError(
                f"{where}.targets.{kind}: unknown kind{did_you_mean(kind, ('service', 'static'))}",
                hint="kinds with a deploy target: service, static",
            )
        if target not in TARGETS:
            raise ConfigError(
                f"{where}.targets.{kind}: unknown target {target!r}{did_you_mean(target, TARGETS)}",
                hint="targets: " + ", ".join(TARGETS),
            )
    if env["account-id"] and not _ACCOUNT.match(env["account-id"]):
        raise ConfigError(f"{where}.account-id: expected 12 digits, got {env['account-id']!r}")
    promote = env["promote-from"]
    if promote == name:
        raise ConfigError(f"{where}.promote-from: an environment cannot promote from itself")
    if promote and promote not in envs:
        raise ConfigError(
            f"{where}.promote-from: unknown environment {promote!r}{did_you_mean(promote, envs)}",
            hint="name another environment of this project",
        )


def static_target(env: Mapping[str, Any]) -> str:
    """The target that deploys an environment's static units."""
    return str(env.get("targets", {}).get("static", DEFAULT_TARGETS["static"]))


def distribution_id(unit: Unit, name: str, env: Mapping[str, Any]) -> str:
    """The CloudFront distribution of static ``unit`` in environment ``name`` ("" when none):
    the unit's own ``distribution-id.<name>``, else the environment's ``distribution-id``."""
    return str(unit.settings["distribution-id"].get(name) or env.get("distribution-id", ""))


def check_distributions(envs: Mapping[str, Mapping[str, Any]], units: Iterable[Unit]) -> None:
    """Each static unit's ``distribution-id`` names real environments, and no two static units
    of an environment share one distribution: a deploy of one would repoint the other's site."""
    sites = [u for u in units if u.kind == "static"]
    for unit in sites:
        for name in unit.settings["distribution-id"]:
            _check_site_environment(unit, name, envs)
    for name, env in envs.items():
        if static_target(env) == "static":
            _check_shared(name, env, sites)


def _check_site_environment(unit: Unit, name: str, envs: Mapping[str, Mapping[str, Any]]) -> None:
    where = f"{unit.source}: distribution-id.{name}"
    if name not in envs:
        raise ConfigError(
            f"{where}: unknown environment {name!r}{did_you_mean(name, envs)}",
            hint="environments: " + ", ".join(sorted(envs)),
        )
    target = static_target(envs[name])
    if target != "static":
        raise ConfigError(
            f"{where}: environment {name!r} deploys static units with the {target} target, not to CloudFront",
            hint=f'remove the entry, or set targets = {{ static = "static" }} in [tool.shipyard.environments.{name}]',
        )


def _check_shared(name: str, env: Mapping[str, Any], sites: Iterable[Unit]) -> None:
    owners: dict[str, Unit] = {}
    for unit in sites:
        ident = distribution_id(unit, name, env)
        if ident in owners:
            first = owners[ident]
            raise ConfigError(
                f"{_SOURCE}: tool.shipyard.environments.{name}: static units {first.name} and {unit.name} would share "
                f"CloudFront distribution {ident} (each deploy points it at its own release)",
                hint=f'give each its own distribution: distribution-id = {{ {name} = "E…" }} in {unit.source}'
                f" (the environment's distribution-id serves at most one static unit)",
            )
        if ident:
            owners[ident] = unit
