"""The dependency graph: services -> libs, libs -> libs.

Edges come from ``depends-on`` in a unit's [tool.shipyard] table and from path
dependencies in its ``[tool.uv.sources]`` (resolved at discovery, see project.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipyard.core.errors import ConfigError
from shipyard.core.project import Project, Unit


@dataclass(frozen=True)
class Edge:
    """``unit`` uses ``lib``; ``via`` says where the edge was declared."""

    unit: str
    lib: str
    via: str  # "depends-on", "path" or "depends-on+path"


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


def edges(project: Project) -> list[Edge]:
    """Every direct dependency, in unit order."""
    found = []
    for unit in project.units.values():
        configured = set(unit.settings["depends-on"])
        for dep in unit.depends_on:
            via = [v for v, hit in (("depends-on", dep in configured), ("path", dep in unit.path_deps)) if hit]
            found.append(Edge(unit.name, dep, "+".join(via)))
    return found


def to_json(project: Project) -> dict[str, Any]:
    """Nodes (with their transitive libs and users) and edges, for ``invoke graph --json``."""
    closures = {u.name: [d.name for d in lib_closure(project, u)] for u in project.units.values()}
    nodes = [
        {
            "name": u.name,
            "kind": u.kind,
            "path": u.path,
            "uses": closures[u.name],
            "used_by": [n for n, libs in closures.items() if u.name in libs],
        }
        for u in project.units.values()
    ]
    links = [{"from": e.unit, "to": e.lib, "via": e.via} for e in edges(project)]
    return {"nodes": nodes, "edges": links}


def to_text(project: Project) -> str:
    """One line per unit: ``name (kind) -> libs``, plus who uses each lib."""
    data = to_json(project)
    direct: dict[str, list[str]] = {}
    for e in edges(project):
        direct.setdefault(e.unit, []).append(e.lib + ("" if e.via == "depends-on" else f" [{e.via}]"))
    lines = []
    for node in data["nodes"]:
        head = f"{node['name']} ({node['kind']})"
        uses = direct.get(node["name"])
        line = f"{head} -> {', '.join(uses)}" if uses else head
        if node["kind"] == "lib":
            line += f"  used by: {', '.join(node['used_by']) or 'nothing'}"
        lines.append(line)
    return "\n".join(lines)
