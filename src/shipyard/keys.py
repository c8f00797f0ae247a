"""Cache keys: a unit's fingerprint plus the task, its tool versions and its Python.

The working tree is read once per run (``Inputs``): one ``git ls-files -s`` and one
``git diff-files``; files are then indexed by unit so that each key hashes only the
paths it depends on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from shipyard.fingerprint import fingerprint, root_inputs, tracked_files
from shipyard.graph import lib_closure
from shipyard.project import Project, Unit

SCHEMA = "1"  # bump when the meaning of a key changes


@dataclass(frozen=True)
class Inputs:
    """The run's view of the working tree: tracked files by unit, plus the root inputs."""

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

    def for_unit(self, unit: Unit, *, include_libs: bool = True) -> dict[str, str]:
        """The subset of the files ``unit``'s fingerprint reads."""
        subset = dict(self.roots)
        subset.update(self.by_unit[unit.name])
        if include_libs:
            for lib in lib_closure(self.project, unit):
                subset.update(self.by_unit[lib.name])
        return subset

    def key(self, unit: Unit, task: str, tools: Mapping[str, str], *, include_libs: bool = True) -> str:
        """The cache key of ``task`` on ``unit`` with these tool versions (and Python)."""
        extra = {"cache-schema": SCHEMA, "task": task, "tools": dict(tools)}
        files = self.for_unit(unit, include_libs=include_libs)
        return fingerprint(self.project, unit, files=files, extra=extra, include_libs=include_libs).digest


def digest(value: object) -> str:
    """A short stable hash of a JSON-able value (session definitions, env presence)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
