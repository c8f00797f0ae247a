"""Assemble the invoke namespace from discovery: top-level tasks and one per service."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from invoke.collection import Collection

from shipyard.cli.console import print_error
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, Unit
from shipyard.tasks import core, images
from shipyard.tasks import deploy as deploy_tasks
from shipyard.tasks import graph as graph_tasks
from shipyard.tasks import iam as iam_tasks
from shipyard.tasks import integration as integration_tasks
from shipyard.tasks import settings as settings_tasks
from shipyard.tasks.common import project

# Each task module lists TOP_LEVEL tasks, PER_SERVICE tasks (also mounted as
# `<service>.<task>`) and optionally COLLECTIONS (sub-namespaces such as `lock`).
MODULES = [core, images, settings_tasks, deploy_tasks, graph_tasks, iam_tasks, integration_tasks]


def build_namespace(proj: Project, only: set[str] | None = None) -> Collection:
    """Top-level tasks plus the per-service namespaces (of the ``only`` units, if given)."""
    ns = Collection()
    for module in MODULES:
        for t in module.TOP_LEVEL:
            ns.add_task(t)
        for collection in getattr(module, "COLLECTIONS", ()):
            ns.add_collection(collection)
    for unit in proj.units.values():
        if only is None or unit.name in only:
            ns.add_collection(_service_namespace(proj, unit))
    return ns


# Flags for which invoke needs every task: listing, completion, help.
_NEEDS_ALL = ("-l", "--list", "--complete", "-h", "--help", "--print-completion-script", "-F", "--list-format")


def wanted_units(proj: Project, argv: list[str]) -> set[str] | None:
    """The per-service namespaces a command line can refer to; None means all of them.

    invoke deep-copies every task's parser context on each parse, so with 50 services x
    ~10 per-service tasks its start-up grows by ~0.5 s (measured on 2 cores), paid by
    every `invoke ci`. When invoke itself runs a task list that names no `<unit>.task`,
    those namespaces are left out; listing, completion and help still get all of them.
    """
    program = Path(argv[0]).name if argv else ""
    if program not in ("invoke", "inv", "shipyard") and not argv[0].endswith("invoke/__main__.py"):
        return None  # imported by something else (tests, Collection.from_module): everything
    if any(arg.split("=", 1)[0] in _NEEDS_ALL for arg in argv[1:]):
        return None
    return {arg.split(".", 1)[0] for arg in argv[1:] if "." in arg} & set(proj.units)


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
        proj = project()
        return build_namespace(proj, wanted_units(proj, sys.argv))
    except ShipyardError as exc:
        print_error(exc)
        raise SystemExit(1) from None
