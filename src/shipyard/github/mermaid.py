"""Mermaid diagrams for the GitHub step summary: the units of a run, and a deploy's order.

GitHub renders a ```mermaid block in Markdown, so the summary shows which units ran (libs
feeding the services that use them), each coloured by how its tasks ended, and which
services a deploy rolled out in which wave.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from shipyard.core.project import Project
from shipyard.run.results import Result

STYLES = {
    "failed": "fill:#f8d7da,stroke:#b02a37",
    "passed": "fill:#d1e7dd,stroke:#146c43",
    "cached": "fill:#e9ecef,stroke:#6c757d",
    "skipped": "fill:#fff3cd,stroke:#997404",
}


def _node(name: str) -> str:
    return "u_" + re.sub(r"\W", "_", name)


def _label(text: str) -> str:
    return text.replace('"', "'")


def units_graph(project: Project, statuses: Mapping[str, str]) -> str:
    """``statuses``: unit -> failed | passed | cached | skipped, for the units the run touched."""
    lines = ["```mermaid", "graph LR"]
    for name, status in statuses.items():
        kind = project.units[name].kind if name in project.units else ""
        lines.append(f'  {_node(name)}["{_label(name)}<br/>{kind}: {status}"]:::{status}')
    for name in statuses:
        unit = project.units.get(name)
        for lib in unit.depends_on if unit is not None else ():
            if lib in statuses:
                lines.append(f"  {_node(lib)} --> {_node(name)}")
    lines += [f"  classDef {status} {style}" for status, style in STYLES.items()]
    return "\n".join([*lines, "```"])


def waves_graph(waves: Sequence[Sequence[str]], outcomes: Mapping[str, str]) -> str:
    """A deploy's waves left to right; ``outcomes``: service -> succeeded | failed | ..."""
    lines = ["```mermaid", "graph LR"]
    for number, wave in enumerate(waves, 1):
        lines.append(f'  subgraph w{number}["wave {number}"]')
        for service in wave:
            outcome = outcomes.get(service, "planned")
            status = {"succeeded": "passed", "planned": "cached"}.get(outcome, "failed")
            lines.append(f'    {_node(service)}["{_label(service)}<br/>{outcome}"]:::{status}')
        lines.append("  end")
    lines += [f"  w{n} --> w{n + 1}" for n in range(1, len(waves))]
    lines += [f"  classDef {status} {style}" for status, style in STYLES.items()]
    return "\n".join([*lines, "```"])


def run_statuses(results: Sequence[Result]) -> dict[str, str]:
    """unit -> the worst of its results: failed, else passed (anything run), else cached, else skipped."""
    found: dict[str, set[str]] = {}
    for r in results:
        found.setdefault(r.unit, set()).add("cached" if r.cached and r.status == "passed" else r.status)
    order = ("failed", "error", "passed", "cached", "skipped")
    out = {}
    for unit, seen in found.items():
        worst = next((s for s in order if s in seen), "skipped")
        out[unit] = "failed" if worst == "error" else worst
    return out
