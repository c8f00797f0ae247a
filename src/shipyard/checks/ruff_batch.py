"""Lint many units with one ``ruff check`` and one ``ruff format --check``.

ruff starts in milliseconds and checks hundreds of files in a few more, so one process
per unit is almost all start-up. Both runs use ``--output-format=json``; each finding
names its file, which names its unit, so every unit still ends as its own Result.
The per-file configuration is unchanged: ruff resolves the nearest pyproject for every
file exactly as in a per-unit run. When ruff ends abnormally (exit 2: a syntax error
the formatter cannot parse, a broken config) the batch falls back to the per-unit
commands, so attribution stays exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Sequence
from typing import Any

from shipyard.checks.ruff import ruff_bin, ruff_overrides
from shipyard.core.project import Project
from shipyard.run.jobs import Job, run_job
from shipyard.run.proc import Command, command
from shipyard.run.results import FAILED, PASSED, Result


def batch_commands(project: Project, paths: Sequence[str]) -> list[Command]:
    ruff, overrides = ruff_bin(), ruff_overrides(project)
    return [
        command(ruff, "check", *overrides, "--output-format=json", *paths, cwd=project.root),
        command(ruff, "format", *overrides, "--check", "--output-format=json", *paths, cwd=project.root),
    ]


def run_batch(project: Project, jobs: Sequence[Job]) -> list[Result]:
    """One Result per job, from two ruff processes over all the jobs' units."""
    units = [project.units[j.unit] for j in jobs]
    start = time.monotonic()
    findings: dict[str, list[str]] = {u.name: [] for u in units}
    for cmd in batch_commands(project, [u.path for u in units]):
        done = subprocess.run(cmd.argv, cwd=cmd.cwd, capture_output=True, text=True, errors="replace")
        attributed = _attribute(project, units, done.stdout) if done.returncode in (0, 1) else None
        if attributed is None:
            return [run_job(j) for j in jobs]  # exact per-unit runs
        for name, lines in attributed.items():
            findings[name] += lines
    elapsed = time.monotonic() - start
    return [_result(job, findings[job.unit], elapsed, len(jobs)) for job in jobs]


def _attribute(project: Project, units: Sequence[Any], stdout: str) -> dict[str, list[str]] | None:
    """unit name -> its finding lines; None when the output cannot be read or attributed."""
    try:
        items = json.loads(stdout or "[]")
    except ValueError:
        return None
    owners = sorted(units, key=lambda u: -len(u.path))
    roots = {str(project.root), os.path.realpath(project.root)}
    found: dict[str, list[str]] = {}
    for item in items if isinstance(items, list) else [None]:
        if not isinstance(item, dict):
            return None
        rel = _relative(str(item.get("filename", "")), roots)
        owner = next((u for u in owners if rel.startswith(u.path + "/")), None)
        if owner is None:
            return None
        found.setdefault(owner.name, []).append(_line(rel, item))
    return found


def _relative(filename: str, roots: set[str]) -> str:
    for root in roots:
        if filename.startswith(root + os.sep):
            return filename[len(root) + 1 :].replace(os.sep, "/")
    return filename


def _line(rel: str, item: dict[str, Any]) -> str:
    code = item.get("code") or ""
    if code == "unformatted":
        return f"Would reformat: {rel}"  # as `ruff format --check` says it (and gha.py reads it)
    where = item.get("location") or {}
    fixable = (item.get("fix") or {}).get("applicability") == "safe"  # ruff's concise format marks these [*]
    head = f"{rel}:{where.get('row', 1)}:{where.get('column', 1)}: "
    return head + (f"{code} " if code else "") + ("[*] " if fixable else "") + str(item.get("message", ""))


def _result(job: Job, lines: list[str], elapsed: float, size: int) -> Result:
    details = {"batch": size}
    if not lines:
        return Result(job.unit, job.task, PASSED, elapsed, output="All checks passed!\n", details=details)
    unformatted = sum(line.startswith("Would reformat: ") for line in lines)
    problems = len(lines) - unformatted
    parts = [f"{problems} ruff finding(s)"] if problems else []
    parts += [f"{unformatted} file(s) not formatted"] if unformatted else []
    output = "\n".join(sorted(lines, key=lambda line: line.startswith("Would reformat: "))) + "\n"
    return Result(job.unit, job.task, FAILED, elapsed, ", ".join(parts), output, details=details)
