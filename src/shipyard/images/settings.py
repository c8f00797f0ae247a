"""What an image is: its settings, its fingerprint, its names, and the git revision behind it."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shipyard.core.config import IMAGE_FIELDS
from shipyard.core.fingerprint import Fingerprint, fingerprint, is_byproduct, tracked_files
from shipyard.core.project import Project, Unit
from shipyard.images.builders import DEFAULT_BUILDER
from shipyard.images.dockerfile import DOCKERFILE, build_args, build_mode, context_files

# Bump when the build context layout or the way images are built changes: every image rebuilds.
BUILD_FORMAT = "1"


@dataclass(frozen=True)
class ImageSettings:
    """The settings that shape one unit's image (from [tool.shipyard.image] and the unit)."""

    base_image: str
    platform: str
    python: str
    dockerfile: str
    cache_from: str = ""
    cache_to: str = ""
    local_prefix: str = ""
    builder: str = DEFAULT_BUILDER  # the image builder (images/builders/); not a content input, like the caches

    @classmethod
    def of(cls, project: Project, unit: Unit) -> ImageSettings:
        # An absent [tool.shipyard.image] table is {}: fill in the documented defaults.
        image = {key: spec.default for key, spec in IMAGE_FIELDS.items()} | project.settings["image"]
        return cls(
            base_image=unit.settings.get("base-image") or image["base-image"],
            platform=image["platform"],
            python=unit.settings["python"],
            dockerfile=unit.settings["dockerfile"],
            cache_from=image["cache-from"],
            cache_to=image["cache-to"],
            local_prefix=image["local-prefix"],
            builder=image["builder"],
        )

    def fingerprint_inputs(self) -> dict[str, str]:
        """The settings that change the image's content (the caches and names do not)."""
        return {
            "base-image": self.base_image,
            "platform": self.platform,
            "python": self.python,
            "dockerfile": self.dockerfile,
            "build-format": BUILD_FORMAT,
        }


# The unit settings an artifact depends on. Deploy-only settings (cpu, env, ...) and keys a
# newer shipyard adds with defaults must not rebuild images; the unit's own config file is a
# tracked input anyway, so any edit to it still counts.
IMAGE_UNIT_KEYS = ("kind", "name", "depends-on", "dockerfile", "python")
OWN_DOCKERFILE_UNIT_KEYS = ("kind", "name", "dockerfile", "context", "target", "build-args")
STATIC_UNIT_KEYS = ("kind", "name", "depends-on", "build", "output")


def _narrowed(unit: Unit, keys: tuple[str, ...]) -> Unit:
    return replace(unit, settings={key: unit.settings[key] for key in keys})


def image_fingerprint(project: Project, unit: Unit, files: Mapping[str, str] | None = None) -> Fingerprint:
    """The fingerprint an image of ``unit`` is tagged with."""
    extra = image_settings(project, unit)
    if build_mode(project, unit) == DOCKERFILE:
        files = tracked_files(project.root) if files is None else files
        sources = context_files(project, unit, files)
        narrowed = _narrowed(unit, OWN_DOCKERFILE_UNIT_KEYS)
        return fingerprint(project, narrowed, files=files, extra=extra, task="image", sources=sources)
    chosen = ("dependencies",) if unit.settings.get("dependencies") else ()  # the source the pins come from, when set
    return fingerprint(project, _narrowed(unit, (*IMAGE_UNIT_KEYS, *chosen)), files=files, extra=extra, task="image")


def image_settings(project: Project, unit: Unit) -> dict[str, Any]:
    """The settings that change ``unit``'s image. A Dockerfile of the team's own gets the
    platform and its build args (BASE_IMAGE among them only when it declares that ARG)."""
    settings = ImageSettings.of(project, unit)
    if build_mode(project, unit) == DOCKERFILE:
        args = build_args(project, unit, settings.base_image)
        return {"platform": settings.platform, "build-args": args, "build-format": DOCKERFILE}
    return dict(settings.fingerprint_inputs())


def static_inputs(unit: Unit) -> dict[str, Any]:
    return {"build": unit.settings["build"], "output": unit.settings["output"]}


def static_fingerprint(project: Project, unit: Unit, files: Mapping[str, str] | None = None) -> Fingerprint:
    """The fingerprint of a static unit's build output."""
    return fingerprint(
        project, _narrowed(unit, STATIC_UNIT_KEYS), files=files, extra=static_inputs(unit), task="static"
    )


def build_fingerprint(project: Project, unit: Unit, files: Mapping[str, str] | None = None) -> Fingerprint:
    """The fingerprint `invoke build` uses for ``unit`` (image, static output, or plain for libs)."""
    if unit.has_image:
        return image_fingerprint(project, unit, files)
    if unit.kind == "static":
        return static_fingerprint(project, unit, files)
    return fingerprint(project, unit, files=files)


def fingerprint_settings(project: Project, unit: Unit) -> dict[str, Any]:
    """The settings behind ``build_fingerprint``, by value (the fingerprint holds their hashes)."""
    if unit.has_image:
        return image_settings(project, unit)
    return static_inputs(unit) if unit.kind == "static" else {}


@dataclass(frozen=True)
class Revision:
    """The git commit the working tree is at, and whether tracked files differ from it."""

    sha: str  # "" before the first commit
    dirty: bool
    source: str = ""  # the origin remote's URL, when there is one

    @property
    def tag(self) -> str:
        """``git-<sha>[-dirty]``, or "" when there is no commit."""
        if not self.sha:
            return ""
        return f"git-{self.sha}" + ("-dirty" if self.dirty else "")


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(("git", *args), cwd=root, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def revision(root: Path) -> Revision:
    """HEAD's sha, dirtiness (any input file that differs from HEAD, untracked ones too) and origin."""
    sha = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    lines = _git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    dirty = any(not (line.startswith("??") and is_byproduct(line[3:])) for line in lines)
    return Revision(sha, dirty, _git(root, "remote", "get-url", "origin"))


def exact_tag(root: Path) -> str:
    """The git tag HEAD is at exactly (a tag build), or ""."""
    return _git(root, "describe", "--exact-match", "--tags", "HEAD")


@dataclass(frozen=True)
class Checkout:
    """One snapshot of the repository for a run: tracked files and revision, read once."""

    files: Mapping[str, str]
    revision: Revision

    @classmethod
    def read(cls, root: Path) -> Checkout:
        return cls(tracked_files(root), revision(root))
