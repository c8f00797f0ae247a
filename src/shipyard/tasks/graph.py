"""Tasks: graph, matrix."""

from __future__ import annotations

import json
from typing import Any

from invoke.tasks import task

from shipyard.cli.console import guarded
from shipyard.tasks.common import project, selected
from shipyard.tasks.core import SERVICE_HELP


@task(help={"json": "print JSON (nodes with uses/used_by, and edges) instead of text"})
@guarded
def graph(c: Any, json_: bool = False) -> None:
    """The dependency graph: which libs each unit uses (depends-on and path dependencies)."""
    from shipyard.core import graph as graph_lib

    proj = project()
    print(json.dumps(graph_lib.to_json(proj), indent=2) if json_ else graph_lib.to_text(proj))


@task(
    iterable=["service"],
    help={"service": SERVICE_HELP, "since": "only the units affected by changes since this git ref"},
)
@guarded
def matrix(c: Any, service: list[str] | None = None, since: str = "") -> None:
    """The selected units x Python versions as a GitHub Actions matrix (JSON).

    Inside Actions it is also written to $GITHUB_OUTPUT as `matrix` and `count`.
    """
    from shipyard.github.matrix import matrix as build_matrix
    from shipyard.github.matrix import publish

    print(publish(build_matrix(project(), selected(c, service, since=since))))


TOP_LEVEL = [graph, matrix]
PER_SERVICE: list[Any] = []
