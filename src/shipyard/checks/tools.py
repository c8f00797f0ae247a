"""Where a check's tool comes from, and the version that enters its lint key.

1. **The version the unit pins** (``black==24.4.2`` in a ``[dependency-groups]`` group, an
   extra, a Poetry group or a ``requirements-dev.txt``-style file) runs from a tool venv of
   the unit's, ``.shipyard/tools/<unit>/<dist>-<version>``, installed the first time it is
   needed and stamped; the pin is the version in the key.
2. Otherwise the tool shipyard's interpreter has (beside it, or where its wheel says), then
   one on ``PATH``; the key has its distribution's version, or what ``<tool> --version``
   says (asked once per executable and run).
3. Found nowhere: one error naming the ``pip install`` or the dev-group pin.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.checks.base import Check
from shipyard.core.errors import ShipyardError
from shipyard.core.project import STATE_DIR, Project, Unit, read_toml
from shipyard.run.proc import Command, command
from shipyard.run.versions import dist_version

TOOLS = "tools"  # in .shipyard: <unit>/<dist>-<version>, the tool venvs of pinned checks
STAMP = "shipyard-tool.json"
# the requirement files a unit keeps its dev tools in, besides pyproject.toml
DEV_REQUIREMENTS = (
    "requirements-dev.txt", "requirements-test.txt", "requirements-lint.txt", "dev-requirements.txt",
    "test-requirements.txt", "requirements/dev.txt", "requirements/test.txt", "requirements/lint.txt",
)  # fmt: skip
# name[extras] == version (; marker): an exact pin, the only kind that says which version runs
_PIN = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*===?\s*(?P<version>[^\s;,*]+)\s*(;.*)?$")
_NORMAL = re.compile(r"[-_.]+")


@dataclass(frozen=True)
class ToolVenv:
    """A pinned tool's own venv: where it is, and what it holds once installed."""

    path: Path
    requirement: str  # black==24.4.2

    @property
    def ready(self) -> bool:
        try:
            stamp = json.loads((self.path / STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(stamp, dict) and stamp.get("requirement") == self.requirement


@dataclass(frozen=True)
class Tool:
    """A check as it runs for one unit: the executable, the version for the key, and the
    venv to install first (None: the executable is there already)."""

    check: Check
    executable: str
    version: str
    venv: ToolVenv | None = None

    @property
    def pinned(self) -> bool:
        return self.venv is not None


def normal(name: str) -> str:
    return _NORMAL.sub("-", name).lower()


def resolve(project: Project, unit: Unit, check: Check) -> Tool:
    """How ``check`` runs for ``unit`` (see the module docs); a tool found nowhere is an error."""
    pin = unit_pins(project, unit).get(normal(check.dist)) if check.dist else None
    if pin is not None:
        folder = project.root / STATE_DIR / TOOLS / unit.name / f"{normal(check.dist)}-{pin}"
        venv = ToolVenv(folder, f"{check.dist}=={pin}")
        return Tool(check, str(venv.path / "bin" / check.executable), pin, venv)
    executable = find_executable(project, unit, check)
    return Tool(check, executable, _version(check, executable))


def find_executable(project: Project, unit: Unit, check: Check) -> str:
    """Beside this interpreter, where the tool's wheel says, on PATH (a relative command: the unit's)."""
    if "/" in check.executable:
        if (project.root / unit.path / check.executable).is_file():
            return check.executable  # run from the unit's directory
    else:
        beside = Path(sys.executable).parent / check.executable
        if beside.is_file() and os.access(beside, os.X_OK):
            return str(beside)
        if check.locate is not None:
            return check.locate()
        found = shutil.which(check.executable)
        if found is not None:
            return found
    raise ShipyardError(
        f"{unit.path}: check {check.name!r} needs {check.executable}, which is not installed", hint=_hint(check)
    )


def _hint(check: Check) -> str:
    if not check.dist:
        return f"install {check.executable} or put it on PATH, or fix the command in `checks`"
    return (
        f"pip install {check.dist} where shipyard runs ({sys.prefix}), or pin it in the unit's dev group"
        f' (e.g. [dependency-groups] dev = ["{check.dist}==<version>"]), or remove it from `checks`'
    )


def _version(check: Check, executable: str) -> str:
    """The version for the key: the distribution's when it is shipyard's own tool, else the executable's word."""
    own = executable == str(Path(sys.executable).parent / check.executable) or check.locate is not None
    found = dist_version(check.dist) if own and check.dist else ""
    return found or (asked_version(executable) if check.dist else "")


@functools.cache
def asked_version(executable: str) -> str:
    """``<tool> --version``, asked once per executable and run (every unit's key needs it)."""
    done = subprocess.run([executable, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip() or "unknown"


def unit_pins(project: Project, unit: Unit) -> dict[str, str]:
    """normalized distribution name -> the exact version the unit pins for its dev tools."""
    return _pins(project.root / unit.path, project.root)


def _pins(folder: Path, root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for requirement in (*_pyproject_requirements(folder, root), *_file_requirements(folder)):
        if m := _PIN.match(requirement):
            found.setdefault(normal(m["name"]), m["version"])
    return found


def _pyproject_requirements(folder: Path, root: Path) -> Iterator[str]:
    path = folder / "pyproject.toml"
    data = read_toml(path, root) if path.is_file() else {}
    for group in data.get("dependency-groups", {}).values():
        yield from (item for item in group if isinstance(item, str))
    for extra in data.get("project", {}).get("optional-dependencies", {}).values():
        yield from (item for item in extra if isinstance(item, str))
    yield from _poetry_requirements(data.get("tool", {}).get("poetry", {}))


def _poetry_requirements(poetry: dict[str, Any]) -> Iterator[str]:
    """Poetry's ``black = "24.4.2"`` (or ``"==24.4.2"``, or ``{version = ...}``) in its dev groups."""
    tables = [poetry.get("dev-dependencies", {})]
    tables += [group.get("dependencies", {}) for group in poetry.get("group", {}).values() if isinstance(group, dict)]
    for table in tables:
        for name, spec in table.items():
            version = spec.get("version") if isinstance(spec, dict) else spec
            if isinstance(version, str) and re.fullmatch(r"(==)?\d[\w.+!-]*", version):
                yield f"{name}=={version.removeprefix('==')}"


def _file_requirements(folder: Path) -> Iterator[str]:
    for name in DEV_REQUIREMENTS:
        try:
            text = (folder / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            if not line.lstrip().startswith(("#", "-")):  # comments, -r/-c/-e, --hash continuations
                yield line.split(" #", 1)[0].rstrip().removesuffix("\\")  # pip-compile's `name==1.0 \` lines


def install(venv: ToolVenv) -> tuple[str, str] | None:
    """Make ``venv`` hold its pinned tool (afresh); None when it does, else (reason, output)."""
    from shipyard.run.proc import run

    shutil.rmtree(venv.path, ignore_errors=True)
    outputs = []
    for cmd in install_commands(venv):
        done = run(cmd)
        outputs.append(f"$ {cmd}\n{done.output}")
        if not done.ok:
            return f"could not install {venv.requirement} (the unit's pin) into {venv.path.name}", "".join(outputs)
    (venv.path / STAMP).write_text(json.dumps({"requirement": venv.requirement}), encoding="utf-8")
    return None


def install_commands(venv: ToolVenv) -> list[Command]:
    """A venv on shipyard's interpreter with the one pinned requirement (uv when there is one)."""
    python = str(venv.path / "bin" / "python")
    uv = _uv()
    if uv is not None:
        return [
            command(uv, "venv", "--quiet", "--python", sys.executable, str(venv.path)),
            command(uv, "pip", "install", "--quiet", "--python", python, venv.requirement),
        ]
    return [
        command(sys.executable, "-m", "venv", str(venv.path)),
        command(python, "-m", "pip", "install", "--quiet", venv.requirement),
    ]


def _uv() -> str | None:
    try:
        from uv import find_uv_bin  # the uv wheel, installed but maybe not on PATH

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")
