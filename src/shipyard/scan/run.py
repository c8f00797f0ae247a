"""``invoke scan``: every scanner that applies, per unit; findings at or above the threshold fail.

One job per unit and scanner (``api scan-bandit``), run in parallel like lint and tests. A
job's output lists every finding, one line each (``path:line: [scanner rule severity]
message``): the summary, the GitHub annotations and the SARIF report are made from it, so a
cached pass (no finding at or above the threshold) still reports its lower ones. A scanner
whose verdict can change with nothing in the repository changing (pip-audit's live
vulnerability database) is never cached. A scanner that cannot reach its service is a skip
that says so, and a failure with ``--strict``; a scanner that is not installed is a failure.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from shipyard.core.project import Project, Unit
from shipyard.run.jobs import Job
from shipyard.run.keys import Inputs
from shipyard.run.results import FAILED, PASSED, SKIPPED, Result
from shipyard.run.versions import dist_version
from shipyard.scan import SCANNERS
from shipyard.scan.base import SEVERITIES, CannotReach, Finding, Scanner, fail_on

TASK = "scan"


def threshold_of(project: Project, env: str) -> str:
    return fail_on(project.environment(env))


def scan_jobs(project: Project, units: Sequence[Unit], inputs: Inputs, *, threshold: str, strict: bool) -> list[Job]:
    jobs = []
    for unit in units:
        for plugin in SCANNERS:
            scanner = plugin.load()
            if not scanner.applies(project, unit):
                continue
            key = _key(inputs, unit, scanner, threshold) if scanner.cacheable else ""
            action = functools.partial(run_scanner, project, unit, scanner, threshold, strict)
            jobs.append(Job(unit.name, f"{TASK}-{scanner.name}", "", (), action=action, key=key))
    return jobs


def _key(inputs: Inputs, unit: Unit, scanner: Scanner, threshold: str) -> str:
    """The unit's own files, the scanner's version and the threshold, and every file at the
    repository root (where a scanner's own configuration lives: .bandit, .hadolint.yaml, ...)."""
    tools = {
        "scanner": scanner.name,
        scanner.name: dist_version(scanner.dist) or "not installed",
        "threshold": threshold,
    }
    return inputs.key(unit, "unit", tools, include_libs=False, more={"scan-root": inputs.root_level})


def run_scanner(project: Project, unit: Unit, scanner: Scanner, threshold: str, strict: bool) -> Result:
    task, start = f"{TASK}-{scanner.name}", time.monotonic()
    argv = list(scanner.argv(project, unit))
    if not (Path(argv[0]).is_file() or shutil.which(argv[0])):
        return Result(unit.name, task, FAILED, 0.0, f"{scanner.name} is not installed (pip install {scanner.dist})")
    done = subprocess.run(argv, cwd=project.root, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if done.returncode not in scanner.ok_codes:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return Result(unit.name, task, FAILED, elapsed, f"{scanner.name} failed: {tail[0]}", done.stdout + done.stderr)
    try:
        findings = scanner.parse(done.stdout, project, unit)
    except CannotReach as exc:
        why = f"{scanner.name} cannot reach its vulnerability service: {exc}"
        return Result(
            unit.name, task, FAILED if strict else SKIPPED, elapsed, why + ("" if strict else " (--strict fails)")
        )
    except (ValueError, KeyError, TypeError) as exc:
        return Result(unit.name, task, FAILED, elapsed, f"{scanner.name}: unreadable output ({type(exc).__name__})")
    return verdict(unit, task, findings, threshold, elapsed)


WORST = "worst-severity"  # in a scan Result's details: its worst finding's severity ("" for none)


def verdict(unit: Unit, task: str, findings: Sequence[Finding], threshold: str, elapsed: float = 0.0) -> Result:
    """Failed when a finding is at or above ``threshold``; the output lists every finding."""
    blocking = [f for f in findings if f.at_least(threshold)]
    output = "".join(f"{f.line_text()}\n" for f in findings)
    # the worst severity, for the gate (never read back from the output's text)
    details = {WORST: max((f.severity for f in findings), key=SEVERITIES.index, default="")}
    if blocking:
        reason = f"{len(blocking)} finding(s) at or above {threshold}" + _others(findings, blocking)
        return Result(unit.name, task, FAILED, elapsed, reason, output, details=details)
    reason = f"{len(findings)} finding(s) below {threshold}" if findings else ""
    return Result(unit.name, task, PASSED, elapsed, reason, output, details=details)


def _others(findings: Sequence[Finding], blocking: Sequence[Finding]) -> str:
    rest = len(findings) - len(blocking)
    return f" (and {rest} below)" if rest else ""
