"""Assemble the invoke namespace from discovery: top-level tasks and one per service."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from invoke import Collection

from shipyard.console import print_error
from shipyard.errors import ShipyardError
from shipyard.project import Project, Unit
from shipyard.tasks import core
from shipyard.tasks.common import project

# Each task module lists TOP_LEVEL tasks, PER_SERVICE tasks (also mounted as
# `<service>.<task>`) and optionally COLLECTIONS (sub-namespaces such as `lock`).
MODULES = [core]


def build_namespace(proj: Project) -> Collection:
    ns = Collection()
    for module in MODULES:
        for t in module.TOP_LEVEL:
            ns.add_task(t)
        for collection in getattr(module, "COLLECTIONS", ()):
            ns.add_collection(collection)
    for unit in proj.units.values():
        ns.add_collection(_service_namespace(proj, unit))
    return ns


def _service_namespace(proj: Project, unit: Unit) -> Collection:
    sub = Collection(unit.name)
    for module in MODULES:
        for t in module.PER_SERVICE:
            sub.add_task(t)
    local = proj.root / unit.path / "tasks.py"
    if local.is_file():
        for name, t in _load_local(unit, local).tasks.items():
            sub.add_task(t, name=name)
    sub.configure({"shipyard": {"service": unit.name}})
    return sub


def _load_local(unit: Unit, path: Path) -> Collection:
    """A service's own tasks.py, imported under a private module name."""
    module_name = f"shipyard_local_tasks_{unit.name.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ShipyardError(f"{unit.path}/tasks.py: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ShipyardError(
            f"{unit.path}/tasks.py: {type(exc).__name__}: {exc}", hint="fix the error in that file"
        ) from None
    return Collection.from_module(module)


def namespace_for_cwd() -> Collection:
    """The namespace for the monorepo around the current directory; config errors exit 1."""
    try:
        return build_namespace(project())
    except ShipyardError as exc:
        print_error(exc)
        raise SystemExit(1) from None
