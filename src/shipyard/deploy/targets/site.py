"""A static unit's site: its build, the files it produced, and how each is served.

Shared by the S3 + CloudFront target (static.py) and the local target, which serves
the same files from a container. A site is identified by its content: the release id
is a hash over every file's path and sha256, so the same build gives the same id.
"""

from __future__ import annotations

import fnmatch
import hashlib
import mimetypes
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from shipyard.core.fingerprint import Fingerprint
from shipyard.core.project import Project, Unit
from shipyard.deploy.target import DeployFailed
from shipyard.deploy.targets.runtime_config import RuntimeFile, declared, excludes, runtime_config

if TYPE_CHECKING:
    from shipyard.settings import Settings

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"

# A build tool's content hash in the name: app.3f2a9c1e.js, chunk-5d41402abc4b.css
_HASHED = re.compile(r"[.-][0-9a-f]{8,}\.[A-Za-z0-9]+$")

# Explicit types for what sites ship, so the answer does not depend on the host's /etc/mime.types.
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
}


@dataclass(frozen=True)
class SiteFile:
    """One file of a built site: its path in the site, content hash and HTTP headers."""

    path: str  # posix, relative to the site root
    sha256: str
    size: int
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class Site:
    """A built site: the directory it is in and its files, sorted by path."""

    root: Path
    files: tuple[SiteFile, ...]

    @property
    def release_id(self) -> str:
        return release_id(self.files)

    def by_path(self) -> dict[str, SiteFile]:
        return {f.path: f for f in self.files}


def content_type(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"


def cache_control(path: str) -> str:
    """Long-lived and immutable for content-hashed names; revalidate everything else (index.html)."""
    return IMMUTABLE if _HASHED.search(PurePosixPath(path).name) else NO_CACHE


def release_id(files: tuple[SiteFile, ...]) -> str:
    """A short hash over every (path, content hash): the same content, the same release."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    return digest.hexdigest()[:12]


def published(rel: str, exclude: Sequence[str] = ()) -> bool:
    """Whether a built file is served: not a dotfile, not matched by ``publish-exclude``."""
    hidden = any(part.startswith(".") for part in rel.split("/"))
    return not hidden and not any(fnmatch.fnmatchcase(rel, pattern) for pattern in exclude)


def scan(root: Path, exclude: Sequence[str] = ()) -> Site:
    """The published files under ``root``, hashed and typed."""
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if not published(rel, exclude):
            continue
        data = path.read_bytes()
        files.append(SiteFile(rel, hashlib.sha256(data).hexdigest(), len(data), content_type(rel), cache_control(rel)))
    if not files:
        raise DeployFailed(f"the site in {root} is empty")
    return Site(root, tuple(files))


def build_site(project: Project, unit: Unit, fingerprint: str = "", values: Mapping[str, str] | None = None) -> Site:
    """Build the site with the unit's build command (skipped when ``invoke build`` already
    built this fingerprint with these ``build-env`` values) and scan its output directory."""
    from shipyard.images.static import build_digest, build_static, static_build
    from shipyard.images.wheels import StepFailed

    plan = static_build(project, unit, values)
    if not fingerprint:
        plan.stamp.unlink(missing_ok=True)  # nothing to compare with: always build
    try:
        build_static(plan, Fingerprint(unit.name, build_digest(fingerprint, values or {}), ()))
    except StepFailed as exc:
        tail = "\n".join(exc.output.strip().splitlines()[-5:])
        raise DeployFailed(f"{unit.name}: {exc}: {tail}") from None
    return scan(plan.output, excludes(unit))


def site_config(project: Project, env: str, unit: Unit, settings: Settings | None) -> RuntimeFile | None:
    """The unit's runtime config in ``env`` (see runtime_config.py); its settings are loaded when
    the caller has none (a target called directly, not through a deploy)."""
    if not declared(unit):
        return None
    if settings is None:
        from shipyard.settings import load_settings

        settings = load_settings(project, env, unit)
    return runtime_config(env, unit, settings)
