"""Test: each unit's nox sessions, one per Python version, in isolated venvs.

The canonical job runs the nox session. ``direct`` then swaps in the session's own
test command for sessions whose venv nox already installed from unchanged inputs
(sessions.ready_venv): the same command in the same venv, without nox's start-up and
its reinstall (uv rebuilds editable packages on every install: ~5 s per session).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.ci import compose, pythons
from shipyard.ci.sessions import (
    STRICT_ENV,
    TestSession,
    collected_nothing,
    no_tests,
    ready_venv,
    session_name,
    stamped_venv,
    test_session,
    venv_env,
)
from shipyard.ci.testsetup import key_inputs, setup_commands, setup_failed, test_environ
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, Unit, shipyard_dir
from shipyard.run.jobs import Job
from shipyard.run.keys import digest
from shipyard.run.proc import Command, Completed, command
from shipyard.run.results import FAILED, SKIPPED
from shipyard.run.versions import dist_version, interpreter_version, venv_version

if TYPE_CHECKING:
    from shipyard.run.keys import Inputs

ENV_IN_KEY = ("CI",)  # besides a unit's required-env: whether each is set, never its value


def _noxfile(project: Project) -> str:
    path = project.root / "noxfile.py"
    if not path.is_file():
        raise ShipyardError(
            "no noxfile.py at the project root",
            hint="create it with: import nox; from shipyard.sessions import register; register(nox)",
        )
    return str(path)


def test_jobs(
    project: Project,
    units: Sequence[Unit],
    *,
    python: Sequence[str] = (),
    strict: bool = False,
    inputs: Inputs | None = None,
) -> list[Job]:
    """One job per unit x Python version; versions with no interpreter become skips.
    With ``inputs`` each job carries its cache key."""
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
            key = test_key(project, unit, version, inputs) if inputs is not None else ""
            if unit.is_python:
                report = nox_report(project, unit, version)
                argv = (sys.executable, "-m", "nox", "-f", noxfile, "--report", str(report))
                cmd = command(*argv, "-s", session_name(unit.name, version), cwd=project.root, env=env)
                outcome: Outcome = functools.partial(_nox_outcome, report)
                cmds: tuple[Command, ...] = (cmd,)
            else:  # nox would only run it as an external command
                cmds, outcome = direct_commands(project, unit, test_session(project, unit, None), {})
            jobs.append(Job(unit.name, "test", version or "", cmds, key=key, outcome=outcome))
        if not versions and not unit.is_python:
            jobs.append(Job(unit.name, "test", "", (), skip="no test command"))
    return jobs


def test_key(project: Project, unit: Unit, version: str | None, inputs: Inputs) -> str:
    """Fingerprint (unit + libs) + interpreter, nox and shipyard versions + which env is set."""
    names = sorted({*ENV_IN_KEY, *unit.settings["required-env"]})
    tools = {
        "python": version or "",
        "interpreter": _interpreter(project, unit, version) if version else "",
        "nox": dist_version("nox"),
        "shipyard": dist_version("shipyard"),
        "env-set": digest({n: bool(os.environ.get(n)) for n in names}),
    }
    more = {**key_inputs(project, unit), "test-services": compose.services_key(project, unit)}
    return inputs.key(unit, "test", tools, more=more)


def _interpreter(project: Project, unit: Unit, version: str) -> str:
    """The full Python version the session runs on: its venv's, once nox made one (a reused
    venv keeps its interpreter), else that of ``python<version>`` on PATH."""
    venv = stamped_venv(project, unit, version)
    found = venv_version(venv) if venv is not None else ""
    return found or interpreter_version(version, shipyard_dir(project.root) / "interpreters.json")


def direct(project: Project, jobs: Sequence[Job], files: Mapping[str, str]) -> list[Job]:
    """Jobs whose nox session has a ready venv run its test command there directly."""
    out = []
    for job in jobs:
        unit = project.units.get(job.unit)
        venv = None
        if job.task == "test" and not job.skip and job.action is None and unit is not None and unit.is_python:
            venv = ready_venv(project, unit, job.python, files)
        if venv is None or unit is None:
            out.append(job)
            continue
        cmds, outcome = direct_commands(project, unit, test_session(project, unit, job.python), venv_env(venv))
        out.append(replace(job, commands=cmds, outcome=outcome))
    return out


Outcome = Callable[[Completed], "tuple[str, str] | None"]


def direct_commands(
    project: Project, unit: Unit, plan: TestSession, env: Mapping[str, str]
) -> tuple[tuple[Command, ...], Outcome]:
    """The unit's setup commands then its test command, as the nox session runs them: with the
    test settings in their environment (``env``, a venv's PATH, over them)."""
    full = {**test_environ(project, unit), **dict(plan.env), **env}  # plan.env: a script service's PYTHONPATH
    setup = [command(*argv, cwd=plan.cwd, env=full) for argv in setup_commands(unit)]
    lines = dict(zip(setup, unit.settings["test-setup"], strict=True))
    cmds = (*setup, command(*plan.argv, cwd=plan.cwd, env=full))
    return cmds, functools.partial(_direct_outcome, unit, plan.argv, lines)


@contextlib.contextmanager
def services_for(project: Project, jobs: Sequence[Job]) -> Iterator[None]:
    """The compose services the test jobs among ``jobs`` need, healthy while they run."""
    names = [
        name
        for job in jobs
        if job.task == "test" and not job.skip and job.unit in project.units
        for name in project.units[job.unit].settings["test-services"]
    ]
    if not names:
        yield
        return
    with compose.running(project, list(dict.fromkeys(names))):
        yield


def nox_report(project: Project, unit: Unit, version: str | None) -> Path:
    """Where the nox session's JSON report (its status and reason) is written; nox makes
    no directory for it, so this does."""
    folder = shipyard_dir(project.root) / "nox"
    folder.mkdir(exist_ok=True)
    return folder / f"{unit.name}-{version or 'none'}.json"


def _nox_outcome(report: Path, done: Completed) -> tuple[str, str] | None:
    """A session nox skipped (no tests, say) is a skip, not a pass; a failure with a reason
    ("no tests collected") says it instead of nox's exit status."""
    try:
        sessions = json.loads(report.read_text(encoding="utf-8"))["sessions"]
        report.unlink()
    except (OSError, ValueError, KeyError, TypeError):
        return None  # nox did not get as far as its report: its exit status says it all
    for found in sessions:
        if found.get("result") == "skipped":
            return SKIPPED, str(found.get("reason") or "skipped by nox")
        if found.get("result") in ("failed", "aborted") and found.get("reason"):
            return FAILED, str(found["reason"])
    return None


def _direct_outcome(
    unit: Unit, argv: tuple[str, ...], setup: Mapping[Command, str], done: Completed
) -> tuple[str, str] | None:
    """A failed setup command says so; "no test collected" (pytest's exit 5) run directly: the unit's ``no-tests``
    setting decides."""
    if done.command in setup:
        return None if done.ok else (FAILED, setup_failed(setup[done.command], done.returncode))
    return no_tests(unit) if collected_nothing(argv, done.returncode) else None
