"""Content addressing: a unit's fingerprint is the hash of everything that determines it.

Inputs: the files of the unit and of every lib it uses as the tools see them -- tracked
files with their working-tree content, and untracked files that git does not ignore
(ruff and pytest read them too); a symlink counts by the content it points to -- plus
the root files and root ``pyproject.toml`` sections the task reads (the configuration of
a unit's own checks for lint, such as ``[tool.ruff]``; the noxfile and ``[tool.pytest]``
for tests; never the root ``[tool.shipyard]`` table as text), files a unit names in its
settings (a Dockerfile, a lock) whatever git thinks of them, and the task's own settings
(build settings, tool versions, Python).
No mtimes, no absolute paths: the same content gives the same fingerprint anywhere.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.checks import ROOT_FILES as CHECK_ROOT_FILES
from shipyard.core.errors import ShipyardError
from shipyard.core.graph import lib_closure
from shipyard.core.project import Project, Unit, read_toml

# Root files each task reads, besides the root pyproject's sections below. `affected`
# (--since) treats all of them, and every check's (checks.ROOT_FILES), as root inputs that
# select every unit. Lint has none of its own: a lint key adds the root files and sections
# of the unit's own checks (lint.lint_key), so a root .flake8 is not a ruff unit's input.
ROOT_FILES: dict[str, tuple[str, ...]] = {
    "lint": (),
    "test": ("noxfile.py", "*.lock", "conftest.py", "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", ".coveragerc"),
    "static": ("*.lock", "package.json", "package-lock.json", "pnpm-lock.yaml", "pnpm-workspace.yaml"),
    "image": (),
    "unit": ("*.lock",),
}
# The root pyproject.toml sections each task reads (its [tool.shipyard] settings enter a key
# only as the parsed values the task uses, passed in as ``extra``).
ROOT_SECTIONS: dict[str, tuple[str, ...]] = {
    "lint": (),
    "test": ("tool.pytest", "tool.coverage", "tool.uv", "project", "build-system", "dependency-groups"),
    "static": (),
    "image": (),
    "unit": (),
}
# Tool by-products that are never inputs, even where a repository's .gitignore forgets them:
# without this a first test run (which writes __pycache__) would change its own key.
BYPRODUCTS = (
    "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".nox", ".tox",
    ".venv", "node_modules", ".shipyard", "*.egg-info", ".coverage", "coverage.xml",
)  # fmt: skip
CHUNK = 1 << 20  # hash big files a MiB at a time: a 1 GiB file must not need 1 GiB of memory


@dataclass(frozen=True)
class Fingerprint:
    """A unit's content hash and the inputs behind it as (path or setting, hash) pairs."""

    unit: str
    digest: str
    inputs: tuple[tuple[str, str], ...]

    @property
    def short(self) -> str:
        return self.digest[:16]


@dataclass(frozen=True)
class WorkingTree:
    """The files the tools see: path -> blob id of the content read, and how each was found."""

    files: dict[str, str]
    untracked: frozenset[str] = frozenset()
    links: dict[str, str] = field(default_factory=dict)  # symlink path -> the link's text


def _git(root: Path, *args: str) -> bytes:
    try:
        return subprocess.run(("git", *args), cwd=root, capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise ShipyardError("git is not installed", hint="install git") from None
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode(errors="replace").strip().splitlines()
        raise ShipyardError(
            f"git {args[0]} failed in {root}: {message[-1] if message else exc.returncode}",
            hint="shipyard fingerprints the files git sees: run it inside a git repository (git init && git add -A)",
        ) from None


def blob_hash(data: bytes) -> str:
    """git's blob id of ``data`` (so clean files need no reading at all)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def file_hash(path: Path) -> str:
    """git's blob id of the file at ``path`` (following symlinks), read in chunks."""
    with open(path, "rb") as f:
        digest = hashlib.sha1(b"blob %d\0" % os.fstat(f.fileno()).st_size)
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(root: Path, rel: str) -> str | None:
    """The blob id of what ``rel`` holds: a file's content, a symlink's target's content
    (its text when it points at no file), None when it is gone."""
    full = root / rel
    try:
        if full.is_file():
            return file_hash(full)
        if full.is_symlink():
            return blob_hash(os.readlink(full).encode())
    except OSError:
        return None
    return None


def _names(raw: bytes) -> list[str]:
    # os.fsdecode keeps a non-UTF-8 file name as the same bytes (surrogateescape), not a crash
    return [os.fsdecode(name) for name in raw.split(b"\0") if name]


def is_byproduct(path: str) -> bool:
    return any(fnmatch.fnmatchcase(part, pattern) for part in path.split("/") for pattern in BYPRODUCTS)


def working_tree(root: Path) -> WorkingTree:
    """Every tracked file, plus every untracked one git does not ignore, under ``root``."""
    files: dict[str, str] = {}
    symlinks: list[str] = []
    for entry in _git(root, "ls-files", "-s", "-z").split(b"\0"):
        if entry:
            meta, name = entry.split(b"\t", 1)
            mode, blob = meta.split()[:2]
            path = os.fsdecode(name)
            files[path] = blob.decode()
            if mode == b"120000":
                symlinks.append(path)
    changed = _names(_git(root, "diff-files", "--relative", "--name-only", "-z"))
    untracked = [p for p in _names(_git(root, "ls-files", "-o", "--exclude-standard", "-z")) if not is_byproduct(p)]
    links: dict[str, str] = {}
    for path in dict.fromkeys([*changed, *symlinks, *untracked]):
        found = content_hash(root, path)
        if found is None:
            files.pop(path, None)  # deleted in the working tree
            continue
        files[path] = found
        if (root / path).is_symlink():
            links[path] = os.readlink(root / path)
    return WorkingTree(files, frozenset(p for p in untracked if p in files), links)


def tracked_files(root: Path) -> dict[str, str]:
    """The input files under ``root`` (tracked and untracked-not-ignored) -> blob id."""
    return working_tree(root).files


def _under(files: Mapping[str, str], folder: str) -> list[tuple[str, str]]:
    prefix = folder.rstrip("/") + "/"
    return [(p, h) for p, h in files.items() if p.startswith(prefix)]


def _is_root_file(path: str, patterns: Iterable[str]) -> bool:
    return "/" not in path and any(fnmatch.fnmatchcase(path, p) for p in patterns)


def root_inputs(files: Mapping[str, str], task: str | None = None) -> list[tuple[str, str]]:
    """Root files that ``task`` reads (every task's, with no task): they affect every unit."""
    if task:
        patterns: Iterable[str] = ROOT_FILES[task]
    else:
        patterns = {p for names in ROOT_FILES.values() for p in names} | {*CHECK_ROOT_FILES, "pyproject.toml"}
    return [(p, h) for p, h in files.items() if _is_root_file(p, patterns)]


@functools.cache
def _root_table(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    return read_toml(path, path.parent)


def root_sections(root: Path, task: str, sections: Iterable[str] = ()) -> dict[str, Any]:
    """The parsed root pyproject.toml sections ``task`` reads, and ``sections`` (comments and
    other tables do not count)."""
    path = root / "pyproject.toml"
    try:
        stat = path.stat()
    except OSError:
        return {}
    data = _root_table(path, stat.st_mtime_ns, stat.st_size)
    found: dict[str, Any] = {}
    for dotted in (*ROOT_SECTIONS[task], *sections):
        value: Any = data
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            found[dotted] = value
    return found


def settings_hash(settings: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


@functools.cache
def shipyard_source() -> str:
    """A hash of shipyard's own source: results cached by one shipyard are not reused by another."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def unit_files(files: Mapping[str, str], unit: Unit) -> list[tuple[str, str]]:
    """The files under ``unit``'s directory, less what it builds (a static unit's output)."""
    found = _under(files, unit.path)
    if unit.settings.get("outputs"):  # what the unit's tests write (shipyard.ci.outputs): never an input
        from shipyard.ci.outputs import is_output

        found = [(p, h) for p, h in found if not is_output(unit, p)]
    if unit.kind == "static" and unit.settings.get("output"):
        output = f"{unit.path}/{unit.settings['output'].strip('/')}/"
        found = [(p, h) for p, h in found if not p.startswith(output)]
    return found


def configured_inputs(root: Path, paths: Iterable[str]) -> list[tuple[str, str]]:
    """Files a unit names in its settings, hashed by content whether or not git tracks or ignores them."""
    return [(f"file:{rel}", content_hash(root, rel) or "missing") for rel in paths]


def configured_files(unit: Unit, task: str) -> list[str]:
    """Root-relative paths of the files ``unit``'s settings name for ``task`` (its Dockerfile)."""
    names = [unit.settings["dockerfile"]] if task == "image" else []
    return [os.path.normpath(f"{unit.path}/{name}").replace(os.sep, "/") for name in names]


def pin_inputs(project: Project, unit: Unit, inputs: list[tuple[str, str]], *, dev: bool) -> list[tuple[str, str]]:
    """``inputs`` with the unit's resolved pins (whether git tracks or ignores the lock); a
    workspace lock above the unit counts by this member's pins only, not as the raw file."""
    from shipyard.dependencies import dependency_source

    source = dependency_source(project, unit)
    if source is None:
        return inputs
    kept = inputs if source.inside_unit else [(p, h) for p, h in inputs if p != source.rel]
    return [*kept, (f"pins:{source.rel}", source.pins(dev=dev).digest)]


def fingerprint(
    project: Project,
    unit: Unit,
    *,
    files: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    include_libs: bool = True,
    task: str = "unit",
    configured: Iterable[str] = (),
    sources: Iterable[tuple[str, str]] | None = None,
) -> Fingerprint:
    """The fingerprint of ``unit`` for ``task``; ``extra`` adds task settings (tool versions, Python...).
    ``sources`` replaces the files a unit reads by default (its own, its libs', the task's root files)."""
    files = tracked_files(project.root) if files is None else files
    if sources is not None:
        inputs = list(sources)
    else:
        inputs = root_inputs(files, task) + unit_files(files, unit)
        if include_libs:
            for lib in lib_closure(project, unit):
                inputs += unit_files(files, lib)
    inputs += configured_inputs(project.root, [*configured_files(unit, task), *configured])
    if task == "test" or (task == "image" and sources is None):  # hermetic images install the pins
        inputs = pin_inputs(project, unit, inputs, dev=task == "test")
    for section, value in sorted(root_sections(project.root, task).items()):
        inputs.append((f"pyproject.toml:{section}", settings_hash({section: value})))
    inputs.append(("settings:unit", settings_hash(unit.settings)))
    for key, value in sorted((extra or {}).items()):
        inputs.append((f"settings:{key}", settings_hash({key: value})))
    inputs.sort()
    digest = hashlib.sha256("".join(f"{p}\0{h}\n" for p, h in inputs).encode("utf-8", "surrogateescape")).hexdigest()
    return Fingerprint(unit.name, digest, tuple(inputs))
