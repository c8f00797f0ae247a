"""Helpers shared by the task modules: the project, the selected units, run options."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shipyard.ci import RunOptions
from shipyard.errors import ShipyardError
from shipyard.project import Project, Unit, find_root, load_project
from shipyard.results import Result


@functools.cache
def _load(cwd: str) -> Project:
    return load_project(find_root(Path(cwd)))


def project() -> Project:
    return _load(str(Path.cwd()))


def bound_service(c: Any) -> str | None:
    """The service a per-service namespace (``invoke api.test``) is bound to."""
    shipyard = c.config.get("shipyard") or {}
    return shipyard.get("service") if hasattr(shipyard, "get") else None


def selected(c: Any, service: Sequence[str] | None, *, libs: bool = True) -> list[Unit]:
    """The units named by -s/--service, or the namespace's own service, or all of them."""
    proj = project()
    bound = bound_service(c)
    names = list(service or [])
    if bound:
        if names and names != [bound]:
            raise ShipyardError(f"`{bound}.*` tasks act on {bound} only", hint="drop -s/--service")
        names = [bound]
    return proj.select(names, libs=libs)


def run_options(
    jobs: int = 0, keep_going: bool = True, verbose: bool = False, report: Sequence[str] | None = None
) -> RunOptions:
    return RunOptions(jobs, keep_going, verbose, tuple(Path(p) for p in report or ()))


def exit_for(results: Sequence[Result]) -> None:
    """Exit 1 (after the summary was printed) when any result failed."""
    from invoke.exceptions import Exit

    if any(not r.ok for r in results):
        raise Exit(code=1)
