"""``invoke services``: what discovery found, as rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.ci import pythons
from shipyard.core.config import DEFAULT_TARGETS
from shipyard.core.project import Project, Skipped, Unit


def describe(project: Project, unit: Unit) -> dict[str, Any]:
    return {
        "name": unit.name,
        "kind": unit.kind,
        "path": unit.path,
        "depends_on": list(unit.depends_on),
        "python": pythons.allowed(unit, project.settings["python"]),
        "image": unit.name if unit.has_image else None,
        "target": _target(project, unit),
        "skipped": None,
    }


def describe_skipped(entry: Skipped) -> dict[str, Any]:
    """A matched directory that is not a unit: the same row shape, ``skipped`` saying why."""
    name = entry.path.rsplit("/", 1)[-1]
    empty: dict[str, Any] = {"depends_on": [], "python": [], "image": None, "target": None}
    return {"name": name, "kind": entry.kind, "path": entry.path, **empty, "skipped": entry.reason}


def _target(project: Project, unit: Unit) -> str | None:
    if unit.is_lib:
        return None
    default = project.settings["default-environment"]
    env = project.settings["environments"].get(default, {})
    return str(env.get("targets", {}).get(unit.kind, DEFAULT_TARGETS[unit.kind]))


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The units as a table, then one ``skipped PATH: why`` line per directory that is not one."""
    units = [r for r in rows if not r["skipped"]]
    lines = [_units_table(units)] if units or not rows else []
    lines += [f"skipped {r['path']}: {r['skipped']}" for r in rows if r["skipped"]]
    return "\n".join(lines)


def _units_table(rows: Sequence[dict[str, Any]]) -> str:
    head = ("name", "kind", "path", "depends on", "python", "target")
    body = [
        (
            r["name"],
            r["kind"],
            r["path"],
            ",".join(r["depends_on"]) or "-",
            " ".join(r["python"]) or "-",
            r["target"] or "-",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in (head, *body))
