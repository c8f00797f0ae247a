"""Discovery: the root configuration and every service and lib it points at."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shipyard.core.config import ROOT_FIELDS, UNIT_FIELDS
from shipyard.core.environments import check_distributions, with_local
from shipyard.core.errors import ConfigError, ShipyardError, unknown_name
from shipyard.core.schema import validate
from shipyard.core.workdir import STATE_DIR as STATE_DIR
from shipyard.core.workdir import read_toml as read_toml
from shipyard.core.workdir import shipyard_dir as shipyard_dir
from shipyard.github.deploy_on import parse_deploy_on

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


@dataclass(frozen=True)
class Unit:
    """A service or lib: where it lives and its validated settings."""

    name: str
    kind: str
    path: str  # relative to the project root, posix
    source: str  # the file its settings came from, relative to the root
    settings: dict[str, Any]
    requires_python: str  # "" for non-Python units
    is_python: bool
    # [tool.uv.sources] path dependencies: root-relative paths, then the units they name
    path_sources: tuple[str, ...] = ()
    path_deps: tuple[str, ...] = ()
    script: bool = False  # a Python service with requirements but no pyproject: tested from its directory

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Direct lib dependencies: ``depends-on`` plus path dependencies on libs."""
        return tuple(dict.fromkeys((*self.settings["depends-on"], *self.path_deps)))

    @property
    def is_lib(self) -> bool:
        return self.kind == "lib"

    @property
    def has_image(self) -> bool:
        return self.kind == "service"


@dataclass(frozen=True)
class Skipped:
    """A directory a services/libs glob matched that is not a unit, and why."""

    path: str  # relative to the project root, posix
    kind: str  # the kind its glob would have given it
    reason: str


@dataclass(frozen=True)
class Project:
    """The validated root configuration and its units, keyed by name."""

    root: Path
    settings: dict[str, Any]
    units: dict[str, Unit]
    skipped: tuple[Skipped, ...] = ()
    # per environment, per key an environment table sets: the environments that set it, the effective one first
    origins: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def services(self) -> list[Unit]:
        return [u for u in self.units.values() if not u.is_lib]

    @property
    def libs(self) -> list[Unit]:
        return [u for u in self.units.values() if u.is_lib]

    def unit(self, name: str) -> Unit:
        if name not in self.units:
            raise unknown_name("service", name, self.units)
        return self.units[name]

    def select(self, names: Sequence[str] | None, *, libs: bool = True) -> list[Unit]:
        """The named units (all when ``names`` is empty), validated, in a stable order."""
        chosen = [self.unit(n) for n in dict.fromkeys(names)] if names else list(self.units.values())
        return [u for u in chosen if libs or not u.is_lib]

    def environment(self, name: str) -> dict[str, Any]:
        envs: dict[str, dict[str, Any]] = self.settings["environments"]
        if name not in envs:
            raise unknown_name("environment", name, envs)
        return envs[name]


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def find_root(start: Path) -> Path:
    """The monorepo root around ``start``.

    Units carry a [tool.shipyard] table too, so the root is the outermost directory
    with one, looking no further up than the enclosing git repository.
    """
    found: Path | None = None
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "shipyard" in read_toml(candidate, folder).get("tool", {}):
            found = folder
        if (folder / ".git").exists():
            break
    if found is None:
        raise ShipyardError(
            f"no pyproject.toml with a [tool.shipyard] table at or above {start}",
            hint="run shipyard from inside a monorepo, or add [tool.shipyard] to its pyproject.toml",
        )
    return found


def load_project(root: Path) -> Project:
    """Read and validate the root table and every unit; raise ConfigError on the first problem."""
    data = read_toml(root / "pyproject.toml", root)
    table = data["tool"]["shipyard"]
    settings = validate(table, ROOT_FIELDS, "pyproject.toml", "tool.shipyard")
    settings, origins = with_local(settings)
    parse_deploy_on(settings["deploy-on"], settings["environments"])
    _check_versions(settings["python"], "pyproject.toml", "tool.shipyard.python")
    units: dict[str, Unit] = {}
    skipped: list[Skipped] = []
    for kind, globs in (("service", settings["services"]), ("lib", settings["libs"])):
        for folder in _matches(root, globs, f"tool.shipyard.{kind}s"):
            unit = _load_unit(root, folder, kind)
            if unit is None:
                skipped.append(Skipped(folder.relative_to(root).as_posix(), kind, why_not_a_unit(folder)))
                continue
            if unit.name in units:
                raise ConfigError(
                    f"duplicate service name {unit.name!r}: {units[unit.name].path} and {unit.path}",
                    hint="set a distinct `name` in one of their [tool.shipyard] tables",
                )
            units[unit.name] = unit
    units = _resolve_path_sources(units)
    _check_dependencies(units)
    check_distributions(settings["environments"], units.values())
    from shipyard.ci.outputs import check as check_outputs  # declared outputs stay inside their unit
    from shipyard.dependencies import check_keys  # `dependencies` names a reader of the registry
    from shipyard.deploy.targets.runtime_config import check_units  # static sites' runtime config and build-env

    check_keys(units.values())
    check_units(units.values())
    for unit in units.values():
        check_outputs(unit)
    project = Project(root, settings, dict(sorted(units.items())), tuple(skipped), origins)
    from shipyard.deploy.targets.ecs_strategy import check_project  # the ECS strategy keys' combinations

    check_project(project)
    return project


def _matches(root: Path, globs: Iterable[str], key: str) -> list[Path]:
    found: list[Path] = []
    for pattern in globs:
        _inside(pattern, key)
        hits = sorted(p for p in root.glob(pattern) if p.is_dir() and not p.name.startswith((".", "_")))
        outside = [p for p in hits if not p.resolve().is_relative_to(root.resolve())]
        if outside:
            raise ConfigError(
                f"pyproject.toml: {key}: {_rel(outside[0], root)} is a link to {outside[0].resolve()}, "
                "outside the repository",
                hint="units live inside the repository: move it in, or drop the link",
            )
        if not hits and not any(ch in pattern for ch in "*?["):
            raise ConfigError(
                f"pyproject.toml: {key}: directory {pattern!r} does not exist",
                hint="create it or remove it from the list",
            )
        found.extend(hits)
    return found


def _check_versions(values: Iterable[str], source: str, where: str) -> None:
    for value in values:
        if not _VERSION.match(value):
            raise ConfigError(
                f"{source}: {where}: {value!r} is not a Python version",
                hint='write versions as major.minor, e.g. "3.12"',
            )


def _inside(pattern: str, key: str) -> None:
    """A glob names directories inside the repository, one way: no absolute path, no ``..``."""
    if pattern.startswith("/") or ".." in pattern.replace("\\", "/").split("/"):
        raise ConfigError(
            f"pyproject.toml: {key}: {pattern!r} must be a path inside the repository without '..'",
            hint='write it relative to the repository root, e.g. "services/*"',
        )


def _load_unit(root: Path, folder: Path, default_kind: str) -> Unit | None:
    rel = folder.relative_to(root).as_posix()
    pyproject, standalone = folder / "pyproject.toml", folder / "shipyard.toml"
    if pyproject.is_file():
        data = read_toml(pyproject, root)
        # the table holds overrides only: a pyproject.toml under a glob is a unit of the glob's kind
        table = data.get("tool", {}).get("shipyard", {})
        source, prefix = f"{rel}/pyproject.toml", "tool.shipyard"
        requires = data.get("project", {}).get("requires-python", "")
        is_python = True
    elif standalone.is_file():
        data, table = {}, read_toml(standalone, root)
        source, prefix, requires, is_python = f"{rel}/shipyard.toml", "", "", script_requirements(folder) is not None
    elif script_requirements(folder) is not None:
        # a script service: its overrides would go in a shipyard.toml, which hints name
        data, table, source, prefix, requires, is_python = {}, {}, f"{rel}/shipyard.toml", "", "", True
    else:
        return None  # e.g. a deleted service's leftover directory: listed as skipped
    settings = validate(table, UNIT_FIELDS, source, prefix)
    _check_versions([settings["python"]], source, f"{prefix + '.' if prefix else ''}python")
    if "kind" not in table:
        settings["kind"] = default_kind
    _check_applies(table, settings["kind"], is_python, source, prefix)
    name = settings["name"] or folder.name
    if not _NAME.match(name):
        raise ConfigError(
            f"{source}: service name {name!r} must be lowercase letters, digits and dashes",
            hint="rename the directory or set `name` in its [tool.shipyard] table",
        )
    if not isinstance(requires, str):
        raise ConfigError(f"{source}: project.requires-python: expected a string")
    sources = _path_sources(root, folder, data) if is_python else ()
    script = is_python and not pyproject.is_file()
    return Unit(name, settings["kind"], rel, source, settings, requires, is_python, sources, script=script)


def script_requirements(folder: Path) -> str | None:
    """The requirements file that makes a directory without a pyproject.toml a (script) Python unit."""
    found = sorted(p.name for p in (*folder.glob("requirements*.txt"), folder / "requirements.lock") if p.is_file())
    return next((n for n in ("requirements.txt", "requirements.lock") if n in found), found[0] if found else None)


# files that show what a directory was meant to be, in the order they are named
_HINTS = ("setup.py", "setup.cfg", "Dockerfile", "package.json")


def why_not_a_unit(folder: Path) -> str:
    """Why a matched directory is not a unit, naming what it does have."""
    present = [("a " + n if n == "Dockerfile" else n) for n in _HINTS if (folder / n).exists()]
    if not present:
        empty = not any(folder.iterdir())
        return "empty directory" if empty else "no pyproject.toml or shipyard.toml"
    listed = ", ".join(present[:-1]) + " and " + present[-1] if len(present) > 1 else present[0]
    return f"has {listed} but no pyproject.toml or shipyard.toml"


def _check_applies(table: dict[str, Any], kind: str, is_python: bool, source: str, prefix: str) -> None:
    """A key that does nothing in this unit (``build`` in a Python service) is an error, not ignored."""
    for key in table:
        spec = UNIT_FIELDS[key]
        if not spec.applies(kind, is_python):
            what = ("Python " if is_python else "non-Python ") + kind
            raise ConfigError(
                f"{source}: {prefix + '.' if prefix else ''}{key}: does nothing in a {what} unit",
                hint=f"`{key}` applies to {spec.scope()} only; remove it",
            )


def _path_sources(root: Path, folder: Path, data: dict[str, Any]) -> tuple[str, ...]:
    """Root-relative paths of the ``[tool.uv.sources] X = {path = ...}`` entries inside the root."""
    found = []
    for spec in data.get("tool", {}).get("uv", {}).get("sources", {}).values():
        for entry in spec if isinstance(spec, list) else [spec]:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                target = os.path.normpath(folder / entry["path"])
                if os.path.commonpath([target, str(root)]) == str(root):
                    found.append(Path(target).relative_to(root).as_posix())
    return tuple(found)


def _resolve_path_sources(units: dict[str, Unit]) -> dict[str, Unit]:
    """Turn path dependencies into unit names; a path to a unit that is not a lib is an error."""
    by_path = {u.path: u for u in units.values()}
    resolved = {}
    for name, unit in units.items():
        deps = [by_path[p] for p in unit.path_sources if p in by_path]
        for dep in deps:
            if not dep.is_lib:
                raise ConfigError(f"{unit.source}: tool.uv.sources: {dep.path!r} is a {dep.kind}, not a lib")
        resolved[name] = replace(unit, path_deps=tuple(d.name for d in deps)) if deps else unit
    return resolved


def _check_dependencies(units: dict[str, Unit]) -> None:
    for unit in units.values():
        for dep in unit.depends_on:
            if dep not in units:
                raise ConfigError(
                    f"{unit.source}: depends-on: unknown lib {dep!r}",
                    hint="libs: " + (", ".join(u.name for u in units.values() if u.is_lib) or "none"),
                )
            if not units[dep].is_lib:
                raise ConfigError(f"{unit.source}: depends-on: {dep!r} is a {units[dep].kind}, not a lib")
