"""``invoke matrix``: the selected units x Python versions as a GitHub Actions matrix.

A job per (unit, Python version) the unit's requires-python admits among the
configured versions; the runner installs that Python, so no interpreter needs to be
present here. Non-Python units with a test command get one entry with the Python of
their image. ``count`` lets a workflow skip the matrix job when nothing is affected
(an empty ``include`` is an error in Actions).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shipyard.ci import pythons
from shipyard.core.project import Project, Unit
from shipyard.github import output as gha


def matrix(project: Project, units: Sequence[Unit]) -> dict[str, list[dict[str, Any]]]:
    """``{"include": [{"service": ..., "python": ...}, ...]}`` in unit order."""
    include = []
    for unit in units:
        if unit.is_python:
            versions = pythons.allowed(unit, project.settings["python"])
        else:
            versions = [unit.settings["python"]] if unit.settings["test"] else []
        include += [{"service": unit.name, "python": v} for v in versions]
    return {"include": include}


def publish(value: dict[str, list[dict[str, Any]]]) -> str:
    """The matrix as compact JSON, also written to $GITHUB_OUTPUT (``matrix``, ``count``)
    when running inside GitHub Actions."""
    text = json.dumps(value, separators=(",", ":"))
    if gha.active():
        gha.write_output("matrix", text)
        gha.write_output("count", str(len(value["include"])))
    return text
