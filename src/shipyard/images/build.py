"""One unit's image: skipped when its fingerprint tag exists locally, built hermetically otherwise
(or from the team's Dockerfile), by the project's image builder (images/builders/: docker)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from shipyard.core.errors import ShipyardError
from shipyard.core.fingerprint import Fingerprint
from shipyard.core.graph import lib_closure
from shipyard.core.project import Project, Unit
from shipyard.images import dockerfile
from shipyard.images.builders import BUILDERS, HERMETIC, OWN_DOCKERFILE, ImageBuilder
from shipyard.images.context import create_context
from shipyard.images.plan import BuildSpec, epoch_of, image_labels, image_tags
from shipyard.images.settings import Checkout, ImageSettings, Revision, image_fingerprint
from shipyard.images.wheels import StepFailed
from shipyard.run.proc import command, run

WHEEL_CACHE_ENV = "SHIPYARD_WHEEL_CACHE"


@dataclass(frozen=True)
class BuildOptions:
    """How to build: stream output, where the wheel cache lives, whether to bypass Docker's
    layer cache (``no_cache``) and whether to build even when the fingerprint is built (``force``)."""

    verbose: bool = False
    wheel_cache: Path | None = None
    no_cache: bool = False
    force: bool = False

    def cache_dir(self, project: Project) -> Path:
        """The wheel cache: this option, else $SHIPYARD_WHEEL_CACHE, else .shipyard/wheels."""
        if self.wheel_cache:
            return self.wheel_cache
        env = os.environ.get(WHEEL_CACHE_ENV)
        return Path(env) if env else project.root / ".shipyard" / "wheels"

    @staticmethod
    def python_cache(project: Project) -> Path:
        """What each base image's Python is, by image id: .shipyard/python."""
        return project.root / ".shipyard" / "python"


@dataclass(frozen=True)
class ImageTarget:
    """One unit's image: its settings, fingerprint and local names."""

    unit: Unit
    settings: ImageSettings
    fingerprint: Fingerprint
    revision: Revision

    @property
    def repository(self) -> str:
        return self.settings.local_prefix + self.unit.name

    @property
    def tags(self) -> tuple[str, ...]:
        return image_tags(self.repository, self.fingerprint, self.revision)

    @property
    def identity(self) -> str:
        """The fingerprint tag: the image's name by content."""
        return self.tags[0]


def image_target(project: Project, unit: Unit, checkout: Checkout) -> ImageTarget:
    settings = ImageSettings.of(project, unit)
    return ImageTarget(unit, settings, image_fingerprint(project, unit, checkout.files), checkout.revision)


@dataclass(frozen=True)
class Built:
    """A local image: its id, and whether this run built it."""

    image_id: str
    built: bool


def builder_of(target: ImageTarget) -> ImageBuilder:
    """The environment-independent builder of the project's images (``[tool.shipyard.image] builder``)."""
    return BUILDERS.load(target.settings.builder)


def tag_local(target: ImageTarget) -> None:
    """Give the fingerprint-tagged local image the target's other tags."""
    for tag in target.tags[1:]:
        builder_of(target).tag(target.identity, tag)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def source_date(project: Project, target: ImageTarget) -> str:
    """The image's ``created``: SOURCE_DATE_EPOCH when set; else, for a clean checkout, the commit
    time of the newest commit that touched the unit or its libs, so that rebuilding the same
    inputs (another runner, a cleared cache) gives the same label; else (edits not committed) now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch and target.revision.sha and not target.revision.dirty:
        paths = [target.unit.path, *(lib.path for lib in lib_closure(project, target.unit))]
        if target.unit.settings.get("context"):
            paths.append(str(target.unit.settings["context"]))
        done = run(command("git", "log", "-1", "--format=%ct", "HEAD", "--", *paths, cwd=project.root))
        epoch = done.output.strip() if done.ok else ""
    if not epoch.isdigit():
        return now()
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_spec(target: ImageTarget, context: Path, *, no_cache: bool = False, created: str = "") -> BuildSpec:
    s = target.settings
    return BuildSpec(
        unit=target.unit.name,
        context=str(context),
        base_image=s.base_image,
        platform=s.platform,
        tags=target.tags,
        labels=image_labels(target.fingerprint, target.revision, created or now()),
        cache_from=s.cache_from,
        cache_to=s.cache_to,
        no_cache=no_cache,
    )


def ensure_image(project: Project, target: ImageTarget, checkout: Checkout, options: BuildOptions) -> Built:
    """The local image tagged with ``target``'s fingerprint: found (and given the other tags,
    e.g. the git tag of a commit that did not change it), or built now (always with ``force``)."""
    builder = builder_of(target)
    builder.check()
    existing = None if options.force else builder.local_image(target.identity)
    if existing:
        tag_local(target)
        return Built(existing, built=False)
    created = source_date(project, target)
    own = dockerfile.build_mode(project, target.unit) == dockerfile.DOCKERFILE
    _check_can(target, OWN_DOCKERFILE if own else HERMETIC)
    if own:
        _build_own_dockerfile(project, target, options, created)
    else:
        _build_hermetic(project, target, checkout, options, created)
    image_id = builder.local_image(target.identity)
    if not image_id:
        raise ShipyardError(f"{target.unit.name}: docker build succeeded but {target.identity} is missing")
    return Built(image_id, built=True)


def _check_can(target: ImageTarget, mode: str) -> None:
    if not BUILDERS.can(target.settings.builder, mode):
        raise ShipyardError(
            f"{target.unit.name}: the {target.settings.builder} image builder cannot build {mode} images",
            hint=f"image builders that can: {', '.join(BUILDERS.having(mode))} ([tool.shipyard.image] builder)",
        )


def _build_own_dockerfile(project: Project, target: ImageTarget, options: BuildOptions, created: str) -> None:
    """The team's Dockerfile with its own context; a failure says what it needs when it can."""
    cmd = builder_of(target).build_dockerfile(
        project,
        target.unit,
        tags=target.tags,
        labels=image_labels(target.fingerprint, target.revision, created),
        platform=target.settings.platform,
        base_image=target.settings.base_image,
        no_cache=options.no_cache,
        source_date_epoch=epoch_of(created),
    )
    done = run(cmd, stream=options.verbose)
    if not done.ok:
        why = dockerfile.explain_failure(target.unit, done.output)
        raise StepFailed(f"docker build exited {done.returncode}" + (f": {why}" if why else ""), done.output)


def _build_hermetic(
    project: Project, target: ImageTarget, checkout: Checkout, options: BuildOptions, created: str
) -> None:
    with tempfile.TemporaryDirectory(prefix=f"shipyard-{target.unit.name}-") as work:
        ctx = create_context(
            project,
            target.unit,
            checkout.files,
            Path(work),
            settings=target.settings,
            wheel_cache=options.cache_dir(project),
            python_cache=options.python_cache(project),
            stream=options.verbose,
        )
        spec = build_spec(target, ctx.path, no_cache=options.no_cache, created=created)
        cmd = builder_of(target).build(spec)
        done = run(cmd, stream=options.verbose)
        if not done.ok:
            why = dockerfile.explain_hermetic_failure(target.unit, done.output)
            raise StepFailed(f"docker build exited {done.returncode}" + (f": {why}" if why else ""), done.output)
