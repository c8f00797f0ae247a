"""Environments: the implicit ``local`` environment and the checks the schema cannot express.

``local`` always exists: when ``[tool.shipyard.environments.local]`` is not defined it is
added with every service kind on the ``local`` target, so a fresh monorepo can run the
whole pipeline on a laptop with no configuration and no cloud account.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from shipyard.core.config import DEFAULT_TARGETS, ENVIRONMENT_FIELDS, KINDS
from shipyard.core.errors import ConfigError, did_you_mean
from shipyard.core.schema import Field, validate

if TYPE_CHECKING:
    from shipyard.core.project import Unit
    from shipyard.core.registry import Registry

LOCAL = "local"
LOCAL_TARGETS = {"service": "local", "static": "local"}
# names that are not deploy environments: .env.example is documentation, never a layer;
# .env.test holds the settings of `invoke test`
RESERVED = {"example": ".env.example documents settings", "test": ".env.test holds the settings of `invoke test`"}
_ACCOUNT = re.compile(r"^\d{12}$")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_SOURCE = "pyproject.toml"


def registries() -> tuple[Registry[Any], Registry[Any]]:
    """The registries whose plugins add keys to an environment: deploy targets and notifiers."""
    from shipyard.deploy.notify import NOTIFIERS
    from shipyard.deploy.targets import TARGETS

    return TARGETS, NOTIFIERS


def store_fields() -> dict[str, Field]:
    """The state stores' keys (deploy/stores.py); a store is selected by its own key, so
    they are never refused as another plugin's."""
    from shipyard.deploy.stores import STATE_STORES

    return STATE_STORES.fields()


def environment_fields() -> dict[str, Field]:
    """Every key an environment may have: the common ones, then each state store's, target's and notifier's own."""
    import dataclasses

    targets, notifiers = registries()
    common = {
        **ENVIRONMENT_FIELDS,
        "notify": dataclasses.replace(ENVIRONMENT_FIELDS["notify"], choices=notifiers.names()),
    }
    return {**common, **store_fields(), **targets.fields(), **notifiers.fields()}


def with_local(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, list[str]]]]:
    """Add the implicit ``local`` environment, validate every environment, resolve ``extends``
    (see :func:`inherit`, whose origins are returned), then check each merged environment."""
    raw: dict[str, Any] = settings["environments"]
    if LOCAL not in raw:
        raw = {**raw, LOCAL: {"targets": dict(LOCAL_TARGETS)}}
    fields = environment_fields()
    envs = {name: validate(table, fields, _SOURCE, f"tool.shipyard.environments.{name}") for name, table in raw.items()}
    origins = inherit(envs, raw, fields)
    settings["environments"] = envs
    for name, env in envs.items():
        check_environment(name, env, envs)
        check_plugin_keys(name, raw[name], env)
    default = settings["default-environment"]
    if default not in envs:
        raise ConfigError(
            f"{_SOURCE}: tool.shipyard.default-environment: unknown environment {default!r}"
            f"{did_you_mean(default, envs)}",
            hint="environments: " + ", ".join(sorted(envs)),
        )
    return settings, origins


def inherit(
    envs: dict[str, dict[str, Any]], raw: Mapping[str, Any], fields: Mapping[str, Field]
) -> dict[str, dict[str, list[str]]]:
    """Resolve ``extends``: each environment takes every key it does not set from the one it
    extends (a chain: the nearest that sets it), tables whole. ``raw`` holds the tables as
    written (validated already), which say what an environment sets itself. Returns, per
    environment, per key set anywhere in its chain: the environments that set it, the one
    whose value it has first."""
    origins: dict[str, dict[str, list[str]]] = {}
    merged: dict[str, dict[str, Any]] = {}
    for name in envs:
        line = chain(name, envs)
        env, origin = dict(envs[name]), {}
        for key in fields:
            if key == "extends":
                continue  # the environment's own: `invoke config` shows the chain in its header
            setters = [n for n in line if key in raw.get(n, {})]
            if setters:
                env[key] = copy.deepcopy(envs[setters[0]][key])
                origin[key] = setters
        merged[name], origins[name] = env, origin
    envs.update(merged)
    return origins


def chain(name: str, envs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``name`` and the environments it extends, nearest first."""
    found = [name]
    while parent := envs[found[-1]].get("extends", ""):
        where = f"{_SOURCE}: tool.shipyard.environments.{found[-1]}.extends"
        if parent not in envs:
            raise ConfigError(
                f"{where}: unknown environment {parent!r}{did_you_mean(parent, envs)}",
                hint="environments: " + ", ".join(sorted(envs)),
            )
        if parent in found:
            cycle = " -> ".join([*found[found.index(parent) :], parent])
            raise ConfigError(f"{where}: a cycle: {cycle}", hint="one environment of the cycle must extend none")
        found.append(parent)
    return found


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
        registries()[0].get(target, f"{where}.targets.{kind}")
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


def selected_targets(env: Mapping[str, Any]) -> set[str]:
    """The targets an environment deploys with (its ``targets``, else each kind's default)."""
    return {str(env.get("targets", {}).get(kind, default)) for kind, default in DEFAULT_TARGETS.items()}


def check_plugin_keys(name: str, table: Mapping[str, Any], env: Mapping[str, Any]) -> None:
    """A key of a target or notifier the environment does not use is an error naming its plugin."""
    where = f"{_SOURCE}: tool.shipyard.environments.{name}"
    from shipyard.deploy.notify import selected

    targets, notifiers = registries()
    common = [*ENVIRONMENT_FIELDS, *store_fields()]
    targets.check_keys(table, selected_targets(env), [*common, *notifiers.fields()], where)
    notifiers.check_keys(table, selected(env), [*common, *targets.fields()], where)


def static_target(env: Mapping[str, Any]) -> str:
    """The target that deploys an environment's static units."""
    return str(env.get("targets", {}).get("static", DEFAULT_TARGETS["static"]))


def _cloudfront_targets() -> tuple[str, ...]:
    """The targets that serve static units through a CloudFront distribution (they own ``distribution-id``)."""
    return registries()[0].owners("distribution-id")


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
        if static_target(env) in _cloudfront_targets():
            _check_shared(name, env, sites)


def _check_site_environment(unit: Unit, name: str, envs: Mapping[str, Mapping[str, Any]]) -> None:
    where = f"{unit.source}: distribution-id.{name}"
    if name not in envs:
        raise ConfigError(
            f"{where}: unknown environment {name!r}{did_you_mean(name, envs)}",
            hint="environments: " + ", ".join(sorted(envs)),
        )
    target, cloudfront = static_target(envs[name]), _cloudfront_targets()
    if target not in cloudfront:
        raise ConfigError(
            f"{where}: environment {name!r} deploys static units with the {target} target, not to CloudFront",
            hint=f'remove the entry, or set targets = {{ static = "{cloudfront[0]}" }} in '
            f"[tool.shipyard.environments.{name}]",
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
