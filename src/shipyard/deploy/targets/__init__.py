"""Deploy targets, by name. A target is a module; adding one is one line in TARGETS.

Entries are ``"module:factory"`` strings imported on first use, so listing tasks never
imports boto3 or docker. A factory takes a TargetContext and returns a Target.
"""

from __future__ import annotations

import importlib

from shipyard.config import DEFAULT_TARGETS
from shipyard.deploy.target import Target, TargetContext, TargetFactory
from shipyard.errors import ShipyardError, unknown_name
from shipyard.project import Unit

TARGETS: dict[str, str] = {
    "ecs": "shipyard.deploy.targets.ecs:EcsTarget",
    "local": "shipyard.deploy.targets.local:LocalTarget",
    "static": "shipyard.deploy.targets.static:StaticTarget",
}


def target_name(ctx: TargetContext, unit: Unit) -> str:
    """The target of ``unit``'s kind in the environment (as `invoke services` shows it)."""
    if unit.is_lib:
        raise ShipyardError(f"{unit.name} is a lib: libs are not deployed", hint="name a service")
    return str(ctx.environment.get("targets", {}).get(unit.kind, DEFAULT_TARGETS[unit.kind]))


def factory(name: str) -> TargetFactory:
    """The factory registered under ``name``."""
    if name not in TARGETS:
        raise unknown_name("deploy target", name, TARGETS)
    module_name, _, attr = TARGETS[name].partition(":")
    found: TargetFactory = getattr(importlib.import_module(module_name), attr)
    return found


class Targets:
    """The targets of one environment, made once each."""

    def __init__(self, ctx: TargetContext) -> None:
        self.ctx = ctx
        self._made: dict[str, Target] = {}

    def for_unit(self, unit: Unit) -> Target:
        name = target_name(self.ctx, unit)
        if name not in self._made:
            self._made[name] = factory(name)(self.ctx)
        return self._made[name]

    def names(self, units: list[Unit]) -> set[str]:
        return {target_name(self.ctx, u) for u in units}
