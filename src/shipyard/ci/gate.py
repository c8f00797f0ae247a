"""The CI gate: a deploy takes only content whose lint and tests passed.

``invoke ci`` (and ``invoke lint``/``invoke test``) records each passing job under a *gate
key*: the content the job judged, wherever it ran. That is the unit's files, its libs'
files, every file at the repository root and the unit's settings, plus the task and the
Python version. Unlike a result-cache key, the gate key holds nothing of the machine (no
interpreter patch level, no tool found on PATH), so a pass recorded on a CI runner is found
by the deploy job on another. The records live in the result cache (`.shipyard/cache`, and
the S3 cache when it is writable), as records of the task ``gate``.

``invoke deploy`` to an environment with ``require-ci`` (the default for a protected one)
looks up, for each service it will deploy and each lib the service uses: lint, and test
on every Python version the unit is tested on. It refuses the deploy, naming what has no
passing record; ``--force`` deploys anyway, and the ledger entry and the notification say
what was forced.

Scans are gated the same way (``require-scan``). ``invoke scan`` and ``invoke ci --scan``
record each passing scan (``scan-bandit``, ...; ``scan-ecr`` after a push) once per threshold
its findings pass: a scan whose worst finding is high passes at critical only, so it never
satisfies an environment whose ``scan-fail-on`` is high. A skipped scan (pip-audit that
cannot reach its service) is no pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from shipyard.ci import pythons
from shipyard.core.fingerprint import fingerprint, unit_files
from shipyard.core.graph import lib_closure
from shipyard.core.project import Project, Unit
from shipyard.run.results import PASSED, Result

if TYPE_CHECKING:
    from shipyard.run.cache import ResultCache
    from shipyard.run.jobs import Job
    from shipyard.run.keys import Inputs

TASK = "gate"
SCHEMA = "1"
GATED = ("lint", "test")
SCAN = "scan-"  # the task prefix of every scanner's job (shipyard.scan.run)
ECR_SCAN = "scan-ecr"  # ECR's image scan of a pushed image (shipyard.images.scan)


@dataclass(frozen=True)
class Requirement:
    """One job whose pass a deploy needs: ``unit``'s ``task`` (on ``python``)."""

    unit: str
    task: str
    python: str = ""
    threshold: str = ""  # a scan's: the environment's scan-fail-on

    @property
    def label(self) -> str:
        where = f" on Python {self.python}" if self.python else ""
        return f"{self.unit} {self.task}{where}" + (f" at {self.threshold}" if self.threshold else "")

    @property
    def variant(self) -> str:
        return self.threshold or self.python


class GateKeys:
    """Gate keys over one reading of the working tree; each unit's content is hashed once."""

    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.root_level = list(inputs.root_level.items())
        self.contents: dict[str, str] = {}

    def key(self, unit: Unit, task: str, variant: str) -> str:
        """What a pass of ``task`` on ``unit`` vouches for: the content, not the machine. ``variant``
        is the Python version of a test, the threshold a scan passed at."""
        content = self.contents.get(unit.name) or self._content(unit)
        return hashlib.sha256(f"{SCHEMA}\0{content}\0{task}\0{variant}".encode()).hexdigest()

    def _content(self, unit: Unit) -> str:
        project, by_unit = self.inputs.project, self.inputs.by_unit
        sources = [*self.root_level, *unit_files(by_unit[unit.name], unit)]
        for lib in lib_closure(project, unit):
            sources += unit_files(by_unit[lib.name], lib)
        # task="test": the files a unit names for its tests (an ignored requirements.lock) count too
        digest = fingerprint(project, unit, files=self.inputs.files, task="test", sources=sources).digest
        self.contents[unit.name] = digest
        return digest


def record(cache: ResultCache, inputs: Inputs, jobs: Sequence[Job], results: Sequence[Result]) -> None:
    """Record the gate keys of the jobs that passed (fresh or from the cache) and have no record yet."""
    project, keys = inputs.project, GateKeys(inputs)
    passed: dict[str, Result] = {}
    for job, result in zip(jobs, results, strict=True):
        if job.skip or job.unit not in project.units:
            continue
        unit = project.units[job.unit]
        # only a pass: a skip ("no tests", or not run after a failure) proves nothing
        if job.task in GATED and result.status == PASSED:
            passed[keys.key(unit, job.task, job.python)] = result
        elif job.task.startswith(SCAN) and result.status == PASSED:
            passed.update({keys.key(unit, job.task, t): result for t in passed_thresholds(result)})
    if not passed:
        return
    known = cache.lookup([(TASK, key) for key in passed])
    for key, result in passed.items():
        if key not in known:
            cache.store(TASK, key, replace(result, cached=False, output=""))


def passed_thresholds(result: Result) -> list[str]:
    """The thresholds a passing scan passes: those above its worst finding, as its verdict
    recorded it (none when it recorded nothing: a pass proves only what it says)."""
    from shipyard.scan.base import SEVERITIES
    from shipyard.scan.run import WORST

    worst = result.details.get(WORST)
    if not isinstance(worst, str) or (worst and worst not in SEVERITIES):
        return []
    return list(SEVERITIES[SEVERITIES.index(worst) + 1 :]) if worst else list(SEVERITIES)


def requirements(
    project: Project, units: Iterable[Unit], *, ci: bool = True, scan: str = "", ecr_scan: bool = False
) -> list[Requirement]:
    """What deploying ``units`` needs, for each and every lib it uses: with ``ci``, lint and tests
    as ci runs them; with ``scan`` (a threshold), every scanner that applies, passed at it (and,
    with ``ecr_scan``, ECR's scan of each pushed image)."""
    wanted: dict[str, Unit] = {}
    for unit in units:
        for dep in [*lib_closure(project, unit), unit]:
            wanted.setdefault(dep.name, dep)
    needed = []
    for unit in wanted.values():
        needed += _ci_requirements(project, unit) if ci else []
        needed += _scan_requirements(project, unit, scan, ecr_scan) if scan else []
    return needed


def _ci_requirements(project: Project, unit: Unit) -> list[Requirement]:
    from shipyard.ci.lint import unit_checks

    needed = []
    if unit_checks(unit) or (not unit.is_python and unit.settings["lint"]):
        needed.append(Requirement(unit.name, "lint"))
    if unit.is_python:
        found = pythons.versions(unit, project.settings["python"], strict=False)
        needed += [Requirement(unit.name, "test", v) for v in (*found.found, *found.missing)]
    elif unit.settings["test"]:
        needed.append(Requirement(unit.name, "test"))
    return needed


def _scan_requirements(project: Project, unit: Unit, threshold: str, ecr_scan: bool) -> list[Requirement]:
    from shipyard.scan import SCANNERS

    names = [p.name for p in SCANNERS if p.load().applies(project, unit)]
    needed = [Requirement(unit.name, f"{SCAN}{name}", threshold=threshold) for name in names]
    if ecr_scan and unit.has_image:
        needed.append(Requirement(unit.name, ECR_SCAN, threshold=threshold))
    return needed


def missing(
    project: Project,
    units: Iterable[Unit],
    inputs: Inputs,
    cache: ResultCache,
    *,
    ci: bool = True,
    scan: str = "",
    ecr_scan: bool = False,
) -> list[Requirement]:
    """The requirements of deploying ``units`` that have no passing record for this content."""
    needed, gate_keys = requirements(project, units, ci=ci, scan=scan, ecr_scan=ecr_scan), GateKeys(inputs)
    keys = {r: gate_keys.key(project.units[r.unit], r.task, r.variant) for r in needed}
    found = cache.lookup([(TASK, key) for key in keys.values()])
    return [r for r in needed if keys[r] not in found]


def describe(absent: Sequence[Requirement]) -> str:
    """``api test on Python 3.12, worker lint``: what has no passing record."""
    return ", ".join(r.label for r in absent)


def required(environment: Mapping[str, object]) -> bool:
    """``require-ci`` of the environment; unset, a protected environment requires it."""
    value = environment.get("require-ci")
    return bool(environment.get("protected")) if value is None else bool(value)


def scan_required(environment: Mapping[str, object]) -> str:
    """The threshold scans must have passed at (the environment's ``scan-fail-on``) when it has
    ``require-scan``; "" when it does not."""
    from shipyard.scan.base import fail_on

    return fail_on(environment) if environment.get("require-scan") else ""


def ecr_scan_required(environment: Mapping[str, object]) -> bool:
    """Whether the deploy also needs ECR's image scan: ``require-scan`` with ``ecr-scan`` on, and
    an ECR registry (another one has no ECR scan to read)."""
    from shipyard.images.registry import parse_registry

    registry = str(environment.get("registry") or "")
    if not (environment.get("require-scan") and environment.get("ecr-scan") and registry):
        return False
    return parse_registry(registry, str(environment.get("registry-kind") or "")).is_ecr
