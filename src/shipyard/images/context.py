"""The build context: only what the fingerprint covers, laid out for the Dockerfile.

    Dockerfile             the unit's Dockerfile
    deps/requirements.lock the unit's pins
    deps/*.whl             third-party wheels for the image's Python and platform
    app/*.whl              the unit's and its libs' wheels (built from their input files)
    unit/...               the unit's input files (e.g. alembic.ini, migrations/)

Everything comes from the fingerprint's files (tracked ones with their working-tree
content, and untracked ones git does not ignore), so ignored files and tool by-products
never reach an image, exactly as they never reach its fingerprint. A symlink is
staged as the file it names (the wheels are built from the staged copies), and refused
when that file is outside the repository.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shipyard.core.errors import ShipyardError
from shipyard.core.graph import lib_closure
from shipyard.core.project import Project, Unit
from shipyard.dependencies import dependency_source
from shipyard.images.dockerfile import DOCKERFILE, build_mode, check_dockerfile_inputs, view
from shipyard.images.interpreter import check_python, image_python
from shipyard.images.plan import inspect_command
from shipyard.images.settings import ImageSettings
from shipyard.images.wheels import build_wheels, cached_deps, link_wheels
from shipyard.run.proc import run

LOCK = "requirements.lock"


@dataclass(frozen=True)
class Context:
    """A finished build context and what went into it."""

    path: Path
    deps: tuple[str, ...]
    app: tuple[str, ...]


def check_inputs(project: Project, unit: Unit, settings: ImageSettings) -> None:
    """A clear error, before anything builds, when an input of the unit's image is missing or
    wrong: the Dockerfile, the lock (hermetic), the build context and build args (dockerfile)."""
    if build_mode(project, unit) == DOCKERFILE:
        dockerfile = _dockerfile(project, unit, settings)
        inside_repository(project.root, dockerfile.relative_to(project.root).as_posix())
        check_dockerfile_inputs(project, unit)
    else:
        hermetic_inputs(project, unit, settings)


def hermetic_inputs(project: Project, unit: Unit, settings: ImageSettings) -> tuple[Path, Path]:
    """The Dockerfile and the pins file (the lock, or a uv.lock/poetry.lock exported) of a
    hermetic build; a clear error when either is missing."""
    dockerfile = _dockerfile(project, unit, settings)
    source = dependency_source(project, unit)
    if source is None:
        raise ShipyardError(
            f"{unit.name}: {unit.path}/{LOCK} not found (nor another lock shipyard reads):"
            " hermetic builds install pinned wheels only",
            hint=f"pin the dependencies, e.g. `uv pip compile {unit.path}/pyproject.toml -o {unit.path}/{LOCK}`",
        )
    for path in (dockerfile, source.lock):
        inside_repository(project.root, path.relative_to(project.root).as_posix())
    return dockerfile, source.install_file()  # the runtime pins (a uv.lock or poetry.lock exported)


def _dockerfile(project: Project, unit: Unit, settings: ImageSettings) -> Path:
    folder = project.root / unit.path
    dockerfile = folder / settings.dockerfile
    if not dockerfile.is_file():
        near = sorted(p.name for p in folder.glob("*Dockerfile*") if p.is_file()) if folder.is_dir() else []
        found = f"; {unit.path} has {', '.join(near)}" if near else ""
        raise ShipyardError(
            f"{unit.name}: {unit.path}/{settings.dockerfile} not found{found}",
            hint=f'name the file with `dockerfile = "..."` in {unit.source}, add one, or make the unit kind = "static"',
        )
    return dockerfile


def check_base_images(unit: Unit, dockerfile: Path, base_image: str) -> None:
    """Every image a hermetic build's FROM lines name is on this engine: the build runs with
    --network none, so Docker cannot pull one, and its own error would say only "pull access"."""
    for ref in view(dockerfile).base_images(base_image):
        if run(inspect_command(ref)).ok:
            continue
        raise ShipyardError(
            f"{unit.name}: FROM {ref} is not on this Docker engine, and a hermetic build cannot pull it"
            " (it runs with --network none)",
            hint=f'`docker pull {ref}` first, set base-image for {unit.name}, or build-mode = "dockerfile"'
            " to build with Docker's networking",
        )


def inside_repository(root: Path, rel: str) -> Path:
    """The real file ``rel`` stands for (symlinks resolved); an error when that is outside ``root``.

    A symlink's target would be read while staging or building wheels, so one that leaves
    the repository would put a host file (a key, a config) into a pushed image.
    """
    path = root / rel
    real = path.resolve()
    if not real.is_relative_to(root.resolve()):
        link = os.readlink(path) if path.is_symlink() else str(real)
        raise ShipyardError(
            f"{rel} is a symlink to {link}, outside the repository: its content would go into the image",
            hint=f"replace it with a regular file in the repository, e.g. `cp --remove-destination {real} {rel}`",
        )
    if not real.exists():
        raise ShipyardError(f"{rel} is a broken symlink (to {os.readlink(path)})", hint="fix or remove it")
    return real


def _copy(root: Path, rel: str, target: Path) -> None:
    """Copy ``rel`` by content: a symlink inside the repository becomes a copy of what it names."""
    real = inside_repository(root, rel)
    if real.is_dir():  # git tracks a symlinked folder as one entry: stage what it holds
        for child in sorted(real.rglob("*")):
            if not child.is_dir() or child.is_symlink():
                _copy(root, (Path(rel) / child.relative_to(real)).as_posix(), target / child.relative_to(real))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(real, target)


def stage(root: Path, files: Mapping[str, str], folder: str, dest: Path) -> int:
    """Copy the tracked files under ``folder`` (working-tree content) to ``dest``; returns the count.
    Symlinks are staged as the files they name, and refused when those are outside ``root``."""
    prefix = folder.rstrip("/") + "/"
    count = 0
    for rel in sorted(p for p in files if p.startswith(prefix)):
        _copy(root, rel, dest / rel[len(prefix) :])
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
    python_cache: Path,
    stream: bool = False,
) -> Context:
    """Assemble the build context of ``unit`` under ``work``/context (``work`` is scratch space);
    ``python_cache`` keeps what the base image's Python is (see interpreter.py)."""
    dockerfile, lock = hermetic_inputs(project, unit, settings)
    check_base_images(unit, dockerfile, settings.base_image)
    ctx = work / "context"
    (ctx / "deps").mkdir(parents=True)
    shutil.copyfile(dockerfile, ctx / "Dockerfile")
    shutil.copyfile(lock, ctx / "deps" / LOCK)
    stage(project.root, files, unit.path, ctx / "unit")
    python = image_python(settings.base_image, settings.platform, python_cache)
    check_python(unit.name, settings.python, settings.base_image, python, unit.requires_python)
    cache = cached_deps(lock, wheel_cache, python=python, platform=settings.platform, stream=stream)
    deps = link_wheels(cache, ctx / "deps")
    sources = []
    for member in (unit, *lib_closure(project, unit)):
        stage(project.root, files, member.path, work / "src" / member.name)
        sources.append(work / "src" / member.name)
    app = build_wheels(sources, ctx / "app", stream=stream)
    return Context(ctx, tuple(deps), tuple(app))
