"""A static release as values: where its files come from, and the plan that publishes it.

Pure: no AWS call here. ``plan_release`` says what a deploy uploads and copies (never an
object onto itself: keys already in the release's prefix are left alone), ``plan_switch``
what a rollback does; the static target (static.py) reads the bucket and runs the plan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.deploy.target import DeployFailed, Release
from shipyard.deploy.targets.runtime_config import RuntimeFile, revision
from shipyard.deploy.targets.site import Site, SiteFile

RELEASE_ID = re.compile(r"[0-9a-f]{12}")  # site.release_id: a content hash


@dataclass(frozen=True)
class Upload:
    """Put one local file into the release prefix."""

    path: str
    key: str
    source: str  # local file
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class Copy:
    """Copy a file already in S3 (the live release's, or the promote-from bucket's) into the new release."""

    path: str
    source_bucket: str
    source_key: str
    key: str


@dataclass(frozen=True)
class Files:
    """The files of one release and where they are: a local build (``root``) or a bucket holding the release."""

    release: str
    files: Mapping[str, Mapping[str, Any]]  # path -> sha256, size, content_type, cache_control
    root: Path | None = None
    bucket: str = ""

    @classmethod
    def built(cls, site: Site) -> Files:
        files = {f.path: _meta(f) for f in site.files}
        return cls(site.release_id, files, root=site.root)

    def origin(self) -> str:
        return f"s3://{self.bucket}" if self.bucket else f"the build in {self.root}"


def _meta(f: SiteFile) -> dict[str, Any]:
    return {"sha256": f.sha256, "size": f.size, "content_type": f.content_type, "cache_control": f.cache_control}


@dataclass(frozen=True)
class SitePlan:
    """Everything one deploy or rollback of a site does, in order."""

    service: str
    bucket: str
    release: str
    previous: str  # the live release before, "" on the first deploy
    uploads: tuple[Upload, ...]
    copies: tuple[Copy, ...]
    manifest: bytes  # written to manifests/<release>.json; b"" when it exists
    pointer: bytes  # written to current.json
    invalidate: tuple[str, ...]
    config: RuntimeFile | None = None  # the environment's runtime config, written into the release prefix

    @property
    def revision(self) -> str:
        """What goes live: the release, plus its runtime config's hash."""
        return revision(self.release, self.config.digest if self.config else "")

    def summary(self) -> str:
        return (
            f"{self.service}: release {self.release} ({len(self.uploads)} uploaded, {len(self.copies)} copied, "
            f"{len(self.invalidate)} paths invalidated)"
        )


def release_prefix(service: str, release: str) -> str:
    return f"{service}/releases/{release}"


def manifest_key(service: str, release: str) -> str:
    return f"{service}/manifests/{release}.json"


def pointer_key(service: str) -> str:
    return f"{service}/current.json"


def config_key(service: str, digest: str) -> str:
    """Where each runtime config ever deployed is kept (content-addressed, its path in the
    object's metadata), so a rollback puts back the config its release ran with."""
    return f"{service}/configs/{digest}"


def _with_config(
    invalidate: tuple[str, ...], config: RuntimeFile | None, live: Mapping[str, Any] | None
) -> tuple[str, ...]:
    """The config's path too, when its content changes (a fresh distribution: "/*" has it)."""
    if config is None or invalidate == ("/*",) or (live or {}).get("config", "") == config.digest:
        return invalidate
    return tuple(sorted({*invalidate, "/" + config.path}))


def manifest_of(files: Files, release: Release) -> dict[str, Any]:
    return {
        "release": files.release,
        "fingerprint": release.fingerprint,
        "git_sha": release.git_sha,
        "artifact": files.release,  # a site's artifact is its content
        "files": {path: dict(meta) for path, meta in files.files.items()},
    }


def _paths(path: str) -> list[str]:
    """The URL paths a file is served under: /docs/index.html is also /docs/."""
    paths = ["/" + path]
    if path == "index.html" or path.endswith("/index.html"):
        paths.append("/" + path[: -len("index.html")])
    return paths


def invalidation_paths(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> tuple[str, ...]:
    """Paths whose content changed or that disappeared; everything ("/*") when nothing was live."""
    if old is None:
        return ("/*",)
    stale = [p for p, meta in old.items() if p not in new or new[p]["sha256"] != meta["sha256"]]
    return tuple(sorted({u for p in stale for u in _paths(p)}))


def plan_release(
    bucket: str,
    service: str,
    files: Files,
    release: Release,
    live: Mapping[str, Any] | None,
    existing: frozenset[str] = frozenset(),
    config: RuntimeFile | None = None,
) -> SitePlan:
    """Fill the release's prefix (``existing``: keys already there), write its manifest and the
    environment's runtime ``config``, then switch."""
    prefix = release_prefix(service, files.release)
    old_files: Mapping[str, Any] = live["files"] if live else {}
    old_prefix = release_prefix(service, live["release"]) if live else prefix
    uploads, copies = [], []
    for path, meta in sorted(files.files.items()):
        key = f"{prefix}/{path}"
        if key in existing:
            continue  # content-addressed: the very file is in place already
        if old_prefix != prefix and old_files.get(path, {}).get("sha256") == meta["sha256"]:
            copies.append(Copy(path, bucket, f"{old_prefix}/{path}", key))
        elif files.root is not None:
            uploads.append(Upload(path, key, str(files.root / path), meta["content_type"], meta["cache_control"]))
        elif files.bucket != bucket:
            copies.append(Copy(path, files.bucket, key, key))
        else:
            raise DeployFailed(f"release {files.release} of {service}: {key} is missing from s3://{bucket}")
    manifest = manifest_of(files, release)
    return SitePlan(
        service,
        bucket,
        files.release,
        live["release"] if live else "",
        tuple(uploads),
        tuple(copies),
        b"" if files.bucket == bucket else json.dumps(manifest, indent=1, sort_keys=True).encode(),
        _pointer(manifest, config),
        _with_config(invalidation_paths(old_files if live else None, manifest["files"]), config, live),
        config,
    )


def plan_switch(
    bucket: str,
    service: str,
    target: Mapping[str, Any],
    live: Mapping[str, Any] | None,
    config: RuntimeFile | None = None,
) -> SitePlan:
    """Point back at an existing release and the runtime ``config`` it ran with (rollback)."""
    return SitePlan(
        service,
        bucket,
        target["release"],
        live["release"] if live else "",
        (),
        (),
        b"",
        _pointer(target, config),
        _with_config(invalidation_paths(live["files"] if live else None, target["files"]), config, live),
        config,
    )


def _pointer(manifest: Mapping[str, Any], config: RuntimeFile | None = None) -> bytes:
    keys = ("release", "fingerprint", "git_sha", "artifact")
    pointer = {k: manifest.get(k, "") for k in keys}
    if config is not None:
        pointer |= {"config": config.digest, "config_path": config.path}
    return json.dumps(pointer, sort_keys=True).encode()
