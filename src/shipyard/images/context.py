"""The build context: only what the fingerprint covers, laid out for the Dockerfile.

    Dockerfile             the unit's Dockerfile
    deps/requirements.lock the unit's pins
    deps/*.whl             third-party wheels for the image's Python and platform
    app/*.whl              the unit's and its libs' wheels (built from tracked files)
    unit/...               the unit's git-tracked files (e.g. alembic.ini, migrations/)

Everything comes from git-tracked files (working-tree content), so untracked and ignored
files never reach an image, exactly as they never reach its fingerprint.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shipyard.errors import ShipyardError
from shipyard.graph import lib_closure
from shipyard.images.settings import ImageSettings
from shipyard.images.wheels import build_wheels, cached_deps, link_wheels
from shipyard.project import Project, Unit

LOCK = "requirements.lock"


@dataclass(frozen=True)
class Context:
    """A finished build context and what went into it."""

    path: Path
    deps: tuple[str, ...]
    app: tuple[str, ...]


def check_inputs(project: Project, unit: Unit, settings: ImageSettings) -> tuple[Path, Path]:
    """The unit's Dockerfile and lock; a clear error when either is missing."""
    folder = project.root / unit.path
    dockerfile, lock = folder / settings.dockerfile, folder / LOCK
    if not dockerfile.is_file():
        raise ShipyardError(
            f"{unit.name}: {unit.path}/{settings.dockerfile} not found",
            hint=f'add a Dockerfile, set `dockerfile` in {unit.source}, or make the unit kind = "static"',
        )
    if not lock.is_file():
        raise ShipyardError(
            f"{unit.name}: {unit.path}/{LOCK} not found: hermetic builds install pinned wheels only",
            hint=f"pin the dependencies, e.g. `uv pip compile {unit.path}/pyproject.toml -o {unit.path}/{LOCK}`",
        )
    return dockerfile, lock


def stage(root: Path, files: Mapping[str, str], folder: str, dest: Path) -> int:
    """Copy the tracked files under ``folder`` (working-tree content) to ``dest``; returns the count."""
    prefix = folder.rstrip("/") + "/"
    count = 0
    for rel in sorted(p for p in files if p.startswith(prefix)):
        target = dest / rel[len(prefix) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / rel, target, follow_symlinks=False)
        count += 1
    return count


def create_context(
    project: Project,
    unit: Unit,
    files: Mapping[str, str],
    work: Path,
    *,
    settings: ImageSettings,
    wheel_cache: Path,
    stream: bool = False,
) -> Context:
    """Assemble the build context of ``unit`` under ``work``/context (``work`` is scratch space)."""
    dockerfile, lock = check_inputs(project, unit, settings)
    ctx = work / "context"
    (ctx / "deps").mkdir(parents=True)
    shutil.copyfile(dockerfile, ctx / "Dockerfile")
    shutil.copyfile(lock, ctx / "deps" / LOCK)
    stage(project.root, files, unit.path, ctx / "unit")
    cache = cached_deps(lock, wheel_cache, python=settings.python, platform=settings.platform, stream=stream)
    deps = link_wheels(cache, ctx / "deps")
    sources = []
    for member in (unit, *lib_closure(project, unit)):
        stage(project.root, files, member.path, work / "src" / member.name)
        sources.append(work / "src" / member.name)
    app = build_wheels(sources, ctx / "app", stream=stream)
    return Context(ctx, tuple(deps), tuple(app))
