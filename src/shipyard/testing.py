"""Test: each unit's nox sessions, one per Python version, in isolated venvs."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from shipyard import pythons
from shipyard.errors import ShipyardError
from shipyard.proc import command
from shipyard.project import Project, Unit
from shipyard.sessions import STRICT_ENV, session_name
from shipyard.workflow import Job


def _noxfile(project: Project) -> str:
    path = project.root / "noxfile.py"
    if not path.is_file():
        raise ShipyardError(
            "no noxfile.py at the project root",
            hint="create it with: import nox; from shipyard.sessions import register; register(nox)",
        )
    return str(path)


def test_jobs(
    project: Project, units: Sequence[Unit], *, python: Sequence[str] = (), strict: bool = False
) -> list[Job]:
    """One job per unit x Python version; versions with no interpreter become skips."""
    noxfile = _noxfile(project)
    strict = strict or project.settings["strict-python"]
    env = {STRICT_ENV: "1"} if strict else {}
    jobs: list[Job] = []
    for unit in units:
        if unit.is_python:
            found = pythons.versions(unit, python or project.settings["python"], strict=strict)
            versions: list[str | None] = list(found.found)
            jobs += [Job(unit.name, "test", v, (), skip=f"no python{v} found") for v in found.missing]
        else:
            versions = [None] if unit.settings["test"] else []
        for version in versions:
            argv = (sys.executable, "-m", "nox", "-f", noxfile, "-s", session_name(unit.name, version))
            jobs.append(Job(unit.name, "test", version or "", (command(*argv, cwd=project.root, env=env),)))
        if not versions and not unit.is_python:
            jobs.append(Job(unit.name, "test", "", (), skip="no test command"))
    return jobs
