"""The nox sessions shipyard generates: ``lint`` and ``tests(service, python)``."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from shipyard import pythons
from shipyard.graph import lib_closure
from shipyard.lint import ruff_args, ruff_version
from shipyard.project import Project, Unit, find_root, load_project

STRICT_ENV = "SHIPYARD_STRICT_PYTHON"


def venv_backend() -> str:
    """uv when it is installed (much faster venvs), virtualenv otherwise."""
    try:
        from uv import find_uv_bin  # the uv wheel, installed but maybe not on PATH

        find_uv_bin()
        return "uv"
    except (ImportError, FileNotFoundError):
        return "uv" if shutil.which("uv") else "virtualenv"


def install_args(project: Project, unit: Unit) -> list[str]:
    """What one ``pip install`` needs for a Python unit's tests: pins, libs, the unit itself."""
    root = project.root
    args: list[str] = []
    lock = root / unit.path / "requirements.lock"
    if lock.is_file():
        args += ["-r", str(lock)]
    for lib in lib_closure(project, unit):
        args += ["-e", str(root / lib.path)]
    extra = "[test]" if _has_test_extra(project, unit) else ""
    args += ["-e", f"{root / unit.path}{extra}"]
    if not extra:
        args.append("pytest")
    return args


def _has_test_extra(project: Project, unit: Unit) -> bool:
    from shipyard.project import read_toml

    data = read_toml(project.root / unit.path / "pyproject.toml", project.root)
    return "test" in data.get("project", {}).get("optional-dependencies", {})


def test_argv(unit: Unit) -> list[str]:
    return list(unit.settings["test"]) or ["pytest"]


def session_id(service: str, python: str | None) -> str:
    return f"service='{service}', python='{python}'" if python else f"service='{service}'"


def session_name(service: str, python: str | None) -> str:
    """The nox session name, as ``nox -s`` takes it."""
    return f"tests({session_id(service, python)})"


def session_params(project: Project, strict: bool) -> list[tuple[str, str | None]]:
    """(service, python) pairs; python None for non-Python units."""
    params: list[tuple[str, str | None]] = []
    for unit in project.units.values():
        if not unit.is_python:
            if unit.settings["test"]:
                params.append((unit.name, None))
            continue
        found = pythons.versions(unit, project.settings["python"], strict=strict)
        for version in found.missing:
            print(f"shipyard: {unit.name}: skipping Python {version} (no interpreter found)", file=sys.stderr)
        params.extend((unit.name, v) for v in found.found)
    return params


def register(nox: ModuleType, start: Path | None = None) -> Project:
    """Define the shipyard sessions on the ``nox`` module; call it from a noxfile."""
    project = load_project(find_root(start or Path.cwd()))
    strict = project.settings["strict-python"] or os.environ.get(STRICT_ENV) == "1"
    nox.options.default_venv_backend = venv_backend()
    nox.options.reuse_venv = "yes"
    _define_lint(nox, project)
    _define_tests(nox, project, session_params(project, strict))
    return project


def _define_lint(nox: ModuleType, project: Project) -> None:
    paths = [u.path for u in project.units.values() if u.is_python]

    @nox.session(tags=["lint"])
    def lint(session: Any) -> None:
        """ruff check and ruff format --check over every Python unit."""
        session.install(f"ruff=={ruff_version()}")
        session.chdir(str(project.root))
        for args in ruff_args(paths, fix=False):
            session.run("ruff", *args)


def _define_tests(nox: ModuleType, project: Project, params: list[tuple[str, str | None]]) -> None:
    def tests(session: Any, service: str) -> None:
        """A unit's test suite in its own virtualenv."""
        unit = project.unit(service)
        external = not unit.is_python
        if unit.is_python:
            session.install(*install_args(project, unit))
        session.chdir(str(project.root / unit.path))
        session.run(*test_argv(unit), *session.posargs, external=external)

    values = [
        nox.param(service, python or False, id=session_id(service, python), tags=[service, "tests"])
        for service, python in params
    ]
    tests = nox.parametrize(["service", "python"], values)(tests)
    nox.session(name="tests")(tests)
