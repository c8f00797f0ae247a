"""Cache keys: a unit's fingerprint plus the task, its tool versions and its Python.

The working tree is read once per run (``Inputs``): ``git ls-files -s``, ``git diff-files``
and ``git ls-files -o`` (untracked files git does not ignore); files are then indexed by
unit so that each key hashes only the paths it depends on.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from shipyard.core.fingerprint import fingerprint, root_inputs, shipyard_source, tracked_files
from shipyard.core.graph import lib_closure
from shipyard.core.project import Project, Unit

SCHEMA = "2"  # bump when the meaning of a key changes


@dataclass(frozen=True)
class Inputs:
    """The run's view of the working tree: input files by unit, plus the root inputs."""

    project: Project
    files: Mapping[str, str]
    by_unit: Mapping[str, dict[str, str]]
    roots: dict[str, str]

    @classmethod
    def read(cls, project: Project, files: Mapping[str, str] | None = None) -> Inputs:
        files = tracked_files(project.root) if files is None else files
        owner_of = {u.path: u.name for u in project.units.values()}
        by_unit: dict[str, dict[str, str]] = {name: {} for name in project.units}
        for path, blob in files.items():
            folder = path
            while "/" in folder:
                folder = folder.rpartition("/")[0]
                if folder in owner_of:
                    by_unit[owner_of[folder]][path] = blob
                    break
        return cls(project, files, by_unit, dict(root_inputs(files)))

    @functools.cached_property
    def root_level(self) -> dict[str, str]:
        """Every tracked file at the repository root (not in a folder), by path: read by the
        gate, the scanners and the checks' root configuration."""
        return {path: blob for path, blob in self.files.items() if "/" not in path}

    def for_unit(self, unit: Unit, *, include_libs: bool = True) -> dict[str, str]:
        """The subset of the files ``unit``'s fingerprint reads."""
        subset = dict(self.roots)
        subset.update(self.by_unit[unit.name])
        if include_libs:
            for lib in lib_closure(self.project, unit):
                subset.update(self.by_unit[lib.name])
        return subset

    def key(
        self,
        unit: Unit,
        task: str,
        tools: Mapping[str, str],
        *,
        include_libs: bool = True,
        more: Mapping[str, object] | None = None,
    ) -> str:
        """The cache key of ``task`` on ``unit`` with these tool versions (and Python); ``more``
        adds what else the task reads (a check's root configuration)."""
        extra: dict[str, object] = {"cache-schema": SCHEMA, "task": task, "tools": dict(tools)}
        extra.update({"shipyard-source": shipyard_source(), **(more or {})})
        files = self.for_unit(unit, include_libs=include_libs)
        fp = fingerprint(self.project, unit, files=files, extra=extra, include_libs=include_libs, task=task)
        return fp.digest


def digest(value: object) -> str:
    """A short stable hash of a JSON-able value (session definitions, env presence)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
