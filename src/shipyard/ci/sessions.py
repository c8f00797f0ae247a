"""The nox sessions shipyard generates: ``lint`` and ``tests(service, python)``."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from shipyard.checks import CHECKS
from shipyard.ci import pythons
from shipyard.ci.leftovers import leaves_no_leftovers
from shipyard.core.errors import ShipyardError
from shipyard.core.graph import lib_closure
from shipyard.core.project import STATE_DIR, Project, Unit, find_root, load_project, shipyard_dir
from shipyard.dependencies import READERS, dependency_source, requirements
from shipyard.dependencies.base import TEST_GROUPS
from shipyard.run.results import FAILED, SKIPPED
from shipyard.run.versions import dist_version
from shipyard.runners import default_argv, junit_args, no_tests_status

STRICT_ENV = "SHIPYARD_STRICT_PYTHON"
STAMPS = "venvs"  # in .shipyard: <unit>-<python>.json, which venv a session installed, from which inputs
INSTALL_FILES = ("pyproject.toml", "setup.cfg", "setup.py")  # plus each member's lock files and the unit's pins


@dataclass(frozen=True)
class TestSession:
    """One unit's tests on one Python: the single definition that both the nox session and
    shipyard's direct run (an already installed venv) follow."""

    unit: str
    python: str | None  # None: a non-Python unit's own command, no venv
    cwd: Path
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()  # a script service's directory on PYTHONPATH

    @property
    def external(self) -> bool:
        return self.python is None

    @property
    def name(self) -> str:
        return session_name(self.unit, self.python)


def test_session(project: Project, unit: Unit, python: str | None) -> TestSession:
    cwd = project.root / unit.path
    # a script service is no installed package: its modules import from its directory, as when run there
    env = (("PYTHONPATH", os.pathsep.join([str(cwd), *filter(None, [os.environ.get("PYTHONPATH")])])),)
    python = python if unit.is_python else None
    argv = tuple(test_argv(unit))
    argv += junit_args(argv, junit_path(project, unit, python))  # its cases go into shipyard's JUnit report
    return TestSession(unit.name, python, cwd, argv, env if unit.script else ())


def junit_path(project: Project, unit: Unit, python: str | None) -> Path:
    """Where pytest writes the JUnit XML of ``unit``'s tests on ``python`` (under .shipyard/)."""
    return project.root / STATE_DIR / "junit" / f"{unit.name}-{python or 'command'}.xml"


@functools.cache
def venv_backend() -> str:
    """uv when it is installed (much faster venvs), virtualenv otherwise."""
    try:
        from uv import find_uv_bin  # the uv wheel, installed but maybe not on PATH

        find_uv_bin()
        return "uv"
    except (ImportError, FileNotFoundError):
        return "uv" if shutil.which("uv") else "virtualenv"


def install_steps(project: Project, unit: Unit) -> list[list[str]]:
    """The ``pip install`` runs a Python unit's tests need: its pins, then its libs, itself and
    its test tools. Pins that all have hashes install alone with ``--require-hashes`` (pip's
    hash-checking mode admits no editable install); otherwise everything is one install."""
    source = dependency_source(project, unit)
    rest = install_args(project, unit)
    if source is None:
        return [rest]
    pins = ["-r", str(source.install_file(dev=True))]
    if source.pins(dev=True).hashed:
        return [["--require-hashes", *_uv_pins_only(project), *pins], rest]
    return [[*pins, *rest]]


def _uv_pins_only(project: Project) -> list[str]:
    """With uv, the hashed pins install without the repository's uv settings, which the lock
    has already applied: uv would add the workspace's ``constraint-dependencies`` as
    requirements, and hash-checking mode refuses those as unpinned. Its indexes stay."""
    if venv_backend() != "uv":
        return []
    from shipyard.core.project import read_toml

    uv = read_toml(project.root / "pyproject.toml", project.root).get("tool", {}).get("uv", {})
    args = ["--no-config"]
    if isinstance(uv.get("index-url"), str):
        args += ["--default-index", uv["index-url"]]
    extra = uv.get("extra-index-url", [])
    for url in [extra] if isinstance(extra, str) else extra if isinstance(extra, list) else []:
        args += ["--index", str(url)]
    for index in uv.get("index", []) if isinstance(uv.get("index"), list) else []:
        if isinstance(index, dict) and isinstance(index.get("url"), str):
            args += ["--default-index" if index.get("default") else "--index", index["url"]]
    return args


def install_args(project: Project, unit: Unit) -> list[str]:
    """What a Python unit's tests install besides its pins: libs, the unit itself (a script
    service is not a package: its test requirements files instead), its test tools."""
    root = project.root
    args: list[str] = []
    for lib in lib_closure(project, unit):
        args += ["-e", str(root / lib.path)]
    if unit.script:
        tools = [arg for path in requirements.test_files(root / unit.path) for arg in ("-r", str(path))]
        return [*args, *(tools or ["pytest"])]
    extra = "[test]" if _has_test_extra(project, unit) else ""
    args += ["-e", f"{root / unit.path}{extra}"]
    group = group_test_tools(project, unit)
    args += group
    if not extra and not group:
        args.append("pytest")
    return args


def group_test_tools(project: Project, unit: Unit) -> list[str]:
    """The requirements of the unit's ``[dependency-groups]`` test groups (those of ``test``,
    ``tests`` and ``dev`` it has), with ``{include-group = ...}`` entries expanded."""
    from shipyard.core.project import read_toml

    groups = read_toml(project.root / unit.path / "pyproject.toml", project.root).get("dependency-groups", {})
    found = [req for name in TEST_GROUPS if name in groups for req in _group_requirements(groups, name, unit, ())]
    return list(dict.fromkeys(found))


def _group_requirements(groups: dict[str, Any], name: str, unit: Unit, seen: tuple[str, ...]) -> list[str]:
    if name in seen or name not in groups:
        raise ShipyardError(
            f"{unit.source}: dependency-groups.{seen[-1] if seen else name}: "
            + (f"include-group {name!r} is a cycle" if name in seen else f"includes unknown group {name!r}"),
            hint="fix the include-group entries of [dependency-groups]",
        )
    found: list[str] = []
    for entry in groups[name]:
        if isinstance(entry, dict) and "include-group" in entry:
            found += _group_requirements(groups, str(entry["include-group"]), unit, (*seen, name))
        elif isinstance(entry, str):
            found.append(entry)
    return found


def _reinstall(project: Project, unit: Unit, python: str | None) -> list[str]:
    """uv does not reinstall local packages in a reused venv, so a changed pyproject (new
    dependencies) would go unnoticed: when the stamp shows changed install inputs, ask uv
    to reinstall the unit and its libs."""
    if venv_backend() != "uv":
        return []
    from shipyard.core.fingerprint import tracked_files
    from shipyard.core.project import read_toml

    found = _stamp(project, unit, python)
    if found is None or found[1] == install_digest(project, unit, python, tracked_files(project.root)):
        return []  # a new venv installs everything anyway; an unchanged one needs nothing
    names = [
        read_toml(project.root / u.path / "pyproject.toml", project.root).get("project", {}).get("name")
        for u in (*lib_closure(project, unit), unit)
    ]
    return [arg for name in names if name for arg in ("--reinstall-package", name)]


def _install_skipped(session: Any) -> bool:
    """nox --no-install on a reused venv skips session.install: then there is nothing to stamp."""
    runner = getattr(session, "_runner", None)
    no_install = getattr(getattr(runner, "global_config", None), "no_install", False)
    return bool(no_install and getattr(getattr(runner, "venv", None), "_reused", False))


def _has_test_extra(project: Project, unit: Unit) -> bool:
    from shipyard.core.project import read_toml

    data = read_toml(project.root / unit.path / "pyproject.toml", project.root)
    return "test" in data.get("project", {}).get("optional-dependencies", {})


def test_argv(unit: Unit) -> list[str]:
    return list(unit.settings["test"]) or list(default_argv())


def collected_nothing(argv: Sequence[str], returncode: int | None) -> bool:
    """Whether ``argv``'s test runner (shipyard.runners) says, by ``returncode``, it collected no test."""
    status = no_tests_status(argv)
    return status is not None and returncode == status


def no_tests(unit: Unit) -> tuple[str, str]:
    """(status, reason) of a test run that collected no test: the unit's ``no-tests`` setting."""
    if unit.settings["no-tests"] == "fail":
        return FAILED, 'no tests collected (no-tests = "fail")'
    return SKIPPED, "no tests"


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

    @nox.session(tags=["lint"])  # type: ignore[untyped-decorator]  # nox is passed in as a module
    def lint(session: Any) -> None:
        """ruff check and ruff format --check over every Python unit."""
        session.install(f"ruff=={dist_version('ruff')}")
        session.chdir(str(project.root))
        ruff = CHECKS["ruff"]  # this session is ruff's own (`nox -s lint`)
        overrides = ruff.overrides(project) if ruff.overrides is not None else ()
        for args in ruff.invocations(paths, fix=False):
            args = (args[0], *overrides, *args[1:])
            session.run("ruff", *args)


def _define_tests(nox: ModuleType, project: Project, params: list[tuple[str, str | None]]) -> None:
    def tests(session: Any, service: str) -> None:
        """A unit's test suite in its own virtualenv."""
        unit = project.unit(service)
        plan = test_session(project, unit, session.python or None)
        if unit.is_python:
            with leaves_no_leftovers([project.root / u.path for u in (*lib_closure(project, unit), unit)]):
                steps = install_steps(project, unit)
                for number, step in enumerate(steps, 1):
                    session.install(*step, *(_reinstall(project, unit, plan.python) if number == len(steps) else ()))
            if not _install_skipped(session):
                write_stamp(project, unit, plan.python, session.virtualenv.location)
        session.chdir(str(plan.cwd))
        _setup(nox, session, project, unit)
        try:
            session.run(*plan.argv, *session.posargs, external=plan.external, env=dict(plan.env))
        except nox.command.CommandFailed as exc:
            if collected_nothing(plan.argv, getattr(exc, "return_code", None)):
                status, reason = no_tests(unit)
                (session.skip if status == SKIPPED else session.error)(reason)
            raise

    values = [
        nox.param(service, python or False, id=session_id(service, python), tags=[service, "tests"])
        for service, python in params
    ]
    tests = nox.parametrize(["service", "python"], values)(tests)
    nox.session(name="tests")(tests)


def _setup(nox: ModuleType, session: Any, project: Project, unit: Unit) -> None:
    """The test settings into the session's environment, then the unit's setup commands."""
    from shipyard.ci.testsetup import setup_commands, setup_failed, test_environ

    try:
        env, commands = test_environ(project, unit), setup_commands(unit)
    except ShipyardError as exc:
        session.error(exc.message + (f" (hint: {exc.hint})" if exc.hint else ""))
        return  # not reached: session.error ends the session
    session.env.update(env)
    for line, argv in zip(unit.settings["test-setup"], commands, strict=True):
        try:
            session.run(*argv, external=True)  # the venv is first on PATH; a tool outside it may be meant
        except nox.command.CommandFailed as exc:
            session.error(setup_failed(line, getattr(exc, "return_code", None)))


def install_digest(project: Project, unit: Unit, python: str | None, files: Mapping[str, str]) -> str:
    """What decides a test venv's installed packages: the install inputs (git blob ids of
    each package's pyproject/setup/lock files, from ``files``), the libs and the Python."""
    parts = [f"python={python}", f"backend={venv_backend()}"]
    for member in (*lib_closure(project, unit), unit):
        for name in INSTALL_FILES:
            parts.append(f"{member.name}:{name}={files.get(f'{member.path}/{name}', '-')}")
        parts += [f"{member.name}:{path}={blob}" for path, blob in sorted(_lock_files(files, member))]
    source = dependency_source(project, unit)  # resolved pins: a workspace lock counts by this member's
    parts.append(f"pins={source.pins(dev=True).digest if source else '-'}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _lock_files(files: Mapping[str, str], member: Unit) -> list[tuple[str, str]]:
    """The files directly in the member's directory that a dependency reader recognises."""
    prefix = f"{member.path}/"
    found = [(p, h) for p, h in files.items() if p.startswith(prefix) and "/" not in p[len(prefix) :]]
    return [(p, h) for p, h in found if any(r.matches(p[len(prefix) :]) for r in READERS.values())]


def stamp_path(project: Project, unit: Unit, python: str | None) -> Path:
    return project.root / STATE_DIR / STAMPS / f"{unit.name}-{python or 'none'}.json"


def write_stamp(project: Project, unit: Unit, python: str | None, venv: str) -> None:
    """Record that ``venv`` holds ``unit``'s test install, after nox installed it."""
    from shipyard.core.fingerprint import tracked_files

    path = stamp_path(project, unit, python)
    shipyard_dir(project.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = install_digest(project, unit, python, tracked_files(project.root))
    path.write_text(json.dumps({"venv": str(venv), "install": digest}), encoding="utf-8")


def _stamp(project: Project, unit: Unit, python: str | None) -> tuple[Path, str] | None:
    """(venv, install digest) from the session's stamp, when its venv still exists."""
    try:
        stamp = json.loads(stamp_path(project, unit, python).read_text(encoding="utf-8"))
        venv, digest = Path(stamp["venv"]), str(stamp["install"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (venv, digest) if (venv / "bin" / "python").exists() else None


def stamped_venv(project: Project, unit: Unit, python: str | None) -> Path | None:
    """The venv nox made for this session (installed from whatever inputs), if it exists."""
    found = _stamp(project, unit, python)
    return found[0] if found else None


def ready_venv(project: Project, unit: Unit, python: str | None, files: Mapping[str, str]) -> Path | None:
    """The venv a previous nox run installed for this session, when its install inputs are
    unchanged (so running the tests needs no nox and no pip); None otherwise."""
    found = _stamp(project, unit, python)
    if found is None or found[1] != install_digest(project, unit, python, files):
        return None
    return found[0]


def venv_env(venv: Path) -> dict[str, str]:
    """The environment nox gives a session's commands: the venv first on PATH."""
    return {"VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
