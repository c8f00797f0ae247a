"""The dependency graph: services -> libs, libs -> libs."""

from __future__ import annotations

from shipyard.errors import ConfigError
from shipyard.project import Project, Unit


def lib_closure(project: Project, unit: Unit) -> list[Unit]:
    """Every lib ``unit`` depends on, transitively, dependencies first."""
    order: dict[str, Unit] = {}

    def visit(current: Unit, path: tuple[str, ...]) -> None:
        for dep in current.depends_on:
            if dep in path:
                cycle = " -> ".join((*path, dep))
                raise ConfigError(f"dependency cycle: {cycle}", hint="remove one of the depends-on entries")
            if dep not in order:
                visit(project.units[dep], (*path, dep))
                order.setdefault(dep, project.units[dep])

    visit(unit, (unit.name,))
    return list(order.values())


def dependents(project: Project, lib: str) -> list[Unit]:
    """Every unit that uses ``lib``, directly or through other libs."""
    return [u for u in project.units.values() if lib in {d.name for d in lib_closure(project, u)}]
