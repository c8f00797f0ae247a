"""Tasks: config — the merged settings of an environment, redacted, with their sources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from invoke.tasks import task

from shipyard.cli.console import guarded
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.tasks.common import project, selected

CONFIG_HELP = {
    "env": "environment (default: default-environment, usually `local`)",
    "service": "service name (repeatable); default: all services",
    "json": "print JSON instead of a table",
    "check": "only check that every required setting is set; list all missing keys",
    "set_": "override a setting: KEY=VALUE (repeatable; highest precedence)",
}


@task(iterable=["service", "set_"], help=CONFIG_HELP)
@guarded
def config(
    c: Any,
    env: str = "",
    service: list[str] | None = None,
    json_: bool = False,
    check: bool = False,
    set_: list[str] | None = None,
) -> None:
    """Show the environment's keys and the merged settings, secrets redacted, each with where it came from."""
    from shipyard.settings import check_required, load_all, parse_overrides
    from shipyard.settings.show import environment_keys, extends, to_json, to_table

    proj = project()
    name = env or proj.settings["default-environment"]
    units = services(selected(c, service), explicit=bool(service))
    overrides = parse_overrides(set_ or [])
    if check:
        loaded = check_required(proj, name, units, overrides=overrides)
        print(f"ok: every required setting is set for {', '.join(loaded) or 'no services'} in {name!r}")
        return
    loaded = load_all(proj, name, units, overrides=overrides)
    keys, parents = environment_keys(proj, name), extends(proj, name)
    print(to_json(name, loaded, keys, parents) if json_ else to_table(name, loaded, keys, parents))


def services(units: Sequence[Unit], *, explicit: bool) -> list[Unit]:
    """The services among ``units``; a lib named explicitly (or bound) is an error."""
    libs = [u.name for u in units if u.is_lib]
    if libs and (explicit or len(units) == 1):
        raise ShipyardError(f"{libs[0]} is a lib: settings belong to services", hint="name a service")
    return [u for u in units if not u.is_lib]


TOP_LEVEL = [config]
PER_SERVICE = [config]
