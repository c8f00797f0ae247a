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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from shipyard import pythons
from shipyard.fingerprint import fingerprint, unit_files
from shipyard.graph import lib_closure
from shipyard.project import Project, Unit
from shipyard.results import PASSED, SKIPPED, Result

if TYPE_CHECKING:
    from shipyard.cache import ResultCache
    from shipyard.keys import Inputs
    from shipyard.workflow import Job

TASK = "gate"
SCHEMA = "1"
GATED = ("lint", "test")


@dataclass(frozen=True)
class Requirement:
    """One job whose pass a deploy needs: ``unit``'s ``task`` (on ``python``)."""

    unit: str
    task: str
    python: str = ""

    @property
    def label(self) -> str:
        return f"{self.unit} {self.task}" + (f" on Python {self.python}" if self.python else "")


class GateKeys:
    """Gate keys over one reading of the working tree; each unit's content is hashed once."""

    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.root_level = [(p, h) for p, h in inputs.files.items() if "/" not in p]
        self.contents: dict[str, str] = {}

    def key(self, unit: Unit, task: str, python: str) -> str:
        """What a pass of ``task`` on ``unit`` (on ``python``) vouches for: the content, not the machine."""
        content = self.contents.get(unit.name) or self._content(unit)
        return hashlib.sha256(f"{SCHEMA}\0{content}\0{task}\0{python}".encode()).hexdigest()

    def _content(self, unit: Unit) -> str:
        project, by_unit = self.inputs.project, self.inputs.by_unit
        sources = [*self.root_level, *_own(unit, by_unit[unit.name])]
        for lib in lib_closure(project, unit):
            sources += _own(lib, by_unit[lib.name])
        # task="test": the files a unit names for its tests (an ignored requirements.lock) count too
        digest = fingerprint(project, unit, files=self.inputs.files, task="test", sources=sources).digest
        self.contents[unit.name] = digest
        return digest


def _own(unit: Unit, files: Mapping[str, str]) -> list[tuple[str, str]]:
    """``unit``'s files, less what it builds (see fingerprint.unit_files)."""
    return unit_files(files, unit)


def record(cache: ResultCache, inputs: Inputs, jobs: Sequence[Job], results: Sequence[Result]) -> None:
    """Record the gate keys of the jobs that passed (fresh or from the cache) and have no record yet."""
    project, keys = inputs.project, GateKeys(inputs)
    passed = {
        keys.key(project.units[job.unit], job.task, job.python): result
        for job, result in zip(jobs, results, strict=True)
        if job.task in GATED and not job.skip and job.unit in project.units and result.status in (PASSED, SKIPPED)
    }
    if not passed:
        return
    known = cache.lookup([(TASK, key) for key in passed])
    for key, result in passed.items():
        if key not in known:
            cache.store(TASK, key, replace(result, cached=False, output=""))


def requirements(project: Project, units: Iterable[Unit]) -> list[Requirement]:
    """What deploying ``units`` needs: lint and tests of each and of every lib it uses, as ci runs them."""
    from shipyard.lint import unit_checks

    wanted: dict[str, Unit] = {}
    for unit in units:
        for dep in [*lib_closure(project, unit), unit]:
            wanted.setdefault(dep.name, dep)
    needed = []
    for unit in wanted.values():
        if unit_checks(unit) or (not unit.is_python and unit.settings["lint"]):
            needed.append(Requirement(unit.name, "lint"))
        if unit.is_python:
            found = pythons.versions(unit, project.settings["python"], strict=False)
            needed += [Requirement(unit.name, "test", v) for v in (*found.found, *found.missing)]
        elif unit.settings["test"]:
            needed.append(Requirement(unit.name, "test"))
    return needed


def missing(project: Project, units: Iterable[Unit], inputs: Inputs, cache: ResultCache) -> list[Requirement]:
    """The requirements of deploying ``units`` that have no passing record for this content."""
    needed, gate_keys = requirements(project, units), GateKeys(inputs)
    keys = {r: gate_keys.key(project.units[r.unit], r.task, r.python) for r in needed}
    found = cache.lookup([(TASK, key) for key in keys.values()])
    return [r for r in needed if keys[r] not in found]


def describe(absent: Sequence[Requirement]) -> str:
    """``api test on Python 3.12, worker lint``: what has no passing record."""
    return ", ".join(r.label for r in absent)


def required(environment: Mapping[str, object]) -> bool:
    """``require-ci`` of the environment; unset, a protected environment requires it."""
    value = environment.get("require-ci")
    return bool(environment.get("protected")) if value is None else bool(value)
