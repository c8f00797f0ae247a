"""Content addressing: a unit's fingerprint is the hash of everything that determines it.

Inputs: the git-tracked files of the unit and of every lib it uses (working-tree
content, so uncommitted edits count; untracked and ignored files do not), the root
configuration, and the task's own settings (build settings, tool versions, Python).
No mtimes, no absolute paths: the same content gives the same fingerprint anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.errors import ShipyardError
from shipyard.graph import lib_closure
from shipyard.project import Project, Unit

ROOT_INPUTS = ("pyproject.toml", "noxfile.py", "tasks.py")  # plus any root *.lock


@dataclass(frozen=True)
class Fingerprint:
    """A unit's content hash and the inputs behind it as (path or setting, hash) pairs."""

    unit: str
    digest: str
    inputs: tuple[tuple[str, str], ...]

    @property
    def short(self) -> str:
        return self.digest[:16]


def _git(root: Path, *args: str) -> bytes:
    try:
        return subprocess.run(("git", *args), cwd=root, capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise ShipyardError("git is not installed", hint="install git") from None
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode(errors="replace").strip().splitlines()
        raise ShipyardError(
            f"git {args[0]} failed in {root}: {message[-1] if message else exc.returncode}",
            hint="shipyard fingerprints git-tracked files: run it inside a git repository (git init && git add -A)",
        ) from None


def blob_hash(data: bytes) -> str:
    """git's blob id of ``data`` (so clean files need no reading at all)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def tracked_files(root: Path) -> dict[str, str]:
    """Every tracked file under ``root`` -> blob hash of its working-tree content."""
    files: dict[str, str] = {}
    for entry in _git(root, "ls-files", "-s", "-z").split(b"\0"):
        if entry:
            meta, name = entry.split(b"\t", 1)
            files[name.decode()] = meta.split()[1].decode()
    for raw in _git(root, "diff-files", "--relative", "--name-only", "-z").split(b"\0"):
        path = raw.decode()
        if not path:
            continue
        full = root / path
        if full.is_symlink():
            files[path] = blob_hash(os.readlink(full).encode())
        elif full.is_file():
            files[path] = blob_hash(full.read_bytes())
        else:
            files.pop(path, None)  # deleted in the working tree
    return files


def _under(files: Mapping[str, str], folder: str) -> list[tuple[str, str]]:
    prefix = folder.rstrip("/") + "/"
    return [(p, h) for p, h in files.items() if p.startswith(prefix)]


def root_inputs(files: Mapping[str, str]) -> list[tuple[str, str]]:
    """Root files that affect every unit: the configuration and shared lock files."""
    return [(p, h) for p, h in files.items() if "/" not in p and (p in ROOT_INPUTS or p.endswith(".lock"))]


def settings_hash(settings: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def fingerprint(
    project: Project,
    unit: Unit,
    *,
    files: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    include_libs: bool = True,
) -> Fingerprint:
    """The fingerprint of ``unit``; ``extra`` adds task settings (tool versions, Python...)."""
    files = tracked_files(project.root) if files is None else files
    inputs = root_inputs(files) + _under(files, unit.path)
    if include_libs:
        for lib in lib_closure(project, unit):
            inputs += _under(files, lib.path)
    inputs.append(("settings:unit", settings_hash(unit.settings)))
    for key, value in sorted((extra or {}).items()):
        inputs.append((f"settings:{key}", settings_hash({key: value})))
    inputs.sort()
    digest = hashlib.sha256("".join(f"{p}\0{h}\n" for p, h in inputs).encode()).hexdigest()
    return Fingerprint(unit.name, digest, tuple(inputs))
