"""The static target: a built site on S3 behind CloudFront.

Bucket layout (``static-bucket`` of the environment), per service:

    <service>/releases/<release>/<path>   the files of one release (release = content hash)
    <service>/manifests/<release>.json    path -> sha256, size, content type, cache control
    <service>/current.json                the pointer: which release is live

CloudFront serves ``<service>/releases/<release>`` as its S3 origin's path, so going live
and rolling back both switch one pointer (origin path + current.json) and upload nothing.
A new release uploads only the files whose content differs from the live release's
manifest; unchanged files are copied inside S3. The changed and removed paths are then
invalidated, and the deploy waits for the invalidation (with the deploy timeout).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.aws import aws_errors, env_client
from shipyard.deploy.target import Change, DeployFailed, Progress, Release, Running, TargetContext
from shipyard.deploy.targets.site import Site, build_site
from shipyard.errors import ShipyardError
from shipyard.project import Unit

if TYPE_CHECKING:
    from shipyard.settings import Settings


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
    """Copy an unchanged file from the live release into the new one, inside S3."""

    path: str
    source_key: str
    key: str


@dataclass(frozen=True)
class SitePlan:
    """Everything one deploy or rollback of a site does, in order."""

    service: str
    bucket: str
    release: str
    previous: str  # the live release before, "" on the first deploy
    uploads: tuple[Upload, ...]
    copies: tuple[Copy, ...]
    manifest: bytes  # written to manifests/<release>.json; b"" when it exists (rollback)
    pointer: bytes  # written to current.json
    invalidate: tuple[str, ...]

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


def manifest_of(site: Site, release: Release) -> dict[str, Any]:
    files = {
        f.path: {"sha256": f.sha256, "size": f.size, "content_type": f.content_type, "cache_control": f.cache_control}
        for f in site.files
    }
    return {
        "release": site.release_id,
        "fingerprint": release.fingerprint,
        "git_sha": release.git_sha,
        "artifact": release.artifact or site.release_id,  # a site's artifact is its content
        "files": files,
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


def plan_release(bucket: str, service: str, site: Site, release: Release, live: Mapping[str, Any] | None) -> SitePlan:
    """Upload what differs from the live release's manifest, copy the rest, then switch."""
    new_id = site.release_id
    prefix = release_prefix(service, new_id)
    old_files: Mapping[str, Any] = live["files"] if live else {}
    old_prefix = release_prefix(service, live["release"]) if live else ""
    uploads, copies = [], []
    for f in site.files:
        key = f"{prefix}/{f.path}"
        if old_files.get(f.path, {}).get("sha256") == f.sha256:
            copies.append(Copy(f.path, f"{old_prefix}/{f.path}", key))
        else:
            uploads.append(Upload(f.path, key, str(site.root / f.path), f.content_type, f.cache_control))
    manifest = manifest_of(site, release)
    pointer = _pointer(manifest)
    return SitePlan(
        service,
        bucket,
        new_id,
        live["release"] if live else "",
        tuple(uploads),
        tuple(copies),
        json.dumps(manifest, indent=1, sort_keys=True).encode(),
        pointer,
        invalidation_paths(old_files if live else None, manifest["files"]),
    )


def plan_switch(bucket: str, service: str, target: Mapping[str, Any], live: Mapping[str, Any] | None) -> SitePlan:
    """Point back at an existing release (rollback): no uploads, no copies."""
    return SitePlan(
        service,
        bucket,
        target["release"],
        live["release"] if live else "",
        (),
        (),
        b"",
        _pointer(target),
        invalidation_paths(live["files"] if live else None, target["files"]),
    )


def _pointer(manifest: Mapping[str, Any]) -> bytes:
    keys = ("release", "fingerprint", "git_sha", "artifact")
    return json.dumps({k: manifest.get(k, "") for k in keys}, sort_keys=True).encode()


class StaticTarget:
    """Sites on S3 + CloudFront, one environment."""

    name = "static"

    def __init__(self, ctx: TargetContext, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.project, self.env, self.environment, self.sleep = ctx.project, ctx.env, ctx.environment, sleep
        self.bucket: str = self.environment.get("static-bucket", "")
        self.distribution: str = self.environment.get("distribution-id", "")
        self.timeout = float(self.environment.get("deploy-timeout", 900))
        if not self.bucket:
            raise ShipyardError(
                f"environment {self.env!r} deploys static sites but has no static-bucket",
                hint=f"set static-bucket in [tool.shipyard.environments.{self.env}]",
            )

    # -- the AWS side -----------------------------------------------------------------------
    def _s3(self) -> Any:
        return env_client("s3", self.environment)

    def _cloudfront(self) -> Any:
        return env_client("cloudfront", self.environment)

    def _read_json(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        from shipyard.aws import error_code

        try:
            body = self._s3().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            with aws_errors(f"read s3://{self.bucket}/{key}", self.environment.get("profile", "")):
                raise
        data: dict[str, Any] = json.loads(body)
        return data

    def _manifest(self, service: str, release: str) -> dict[str, Any]:
        manifest = self._read_json(manifest_key(service, release))
        if manifest is None:
            raise DeployFailed(f"release {release} of {service} has no manifest in s3://{self.bucket}")
        return manifest

    def _live(self, service: str) -> dict[str, Any] | None:
        pointer = self._read_json(pointer_key(service))
        return self._manifest(service, pointer["release"]) if pointer else None

    # -- the protocol -----------------------------------------------------------------------
    def current(self, unit: Unit) -> Running | None:
        pointer = self._read_json(pointer_key(unit.name))
        if pointer is None:
            return None
        return Running(
            unit.name,
            pointer["release"],
            pointer.get("artifact", ""),
            pointer.get("fingerprint", ""),
            {
                "prefix": release_prefix(unit.name, pointer["release"]),
                "gitSha": pointer.get("git_sha", ""),
                **self._where(unit.name),
            },
        )

    def diff(self, unit: Unit, release: Release, settings: Settings) -> list[Change]:
        site = build_site(self.project, unit, release.fingerprint)
        plan = plan_release(self.bucket, unit.name, site, release, self._live(unit.name))
        if plan.release == plan.previous:
            return []
        return [
            Change("release", plan.previous or "(none)", plan.release),
            Change("files", "", f"{len(plan.uploads)} to upload, {len(plan.copies)} unchanged"),
            Change("invalidate", "", " ".join(plan.invalidate) or "(nothing)"),
        ]

    def deploy(self, unit: Unit, release: Release, settings: Settings, progress: Progress) -> Running:
        site = build_site(self.project, unit, release.fingerprint)
        progress(f"{unit.name}: built {len(site.files)} files, release {site.release_id}")
        plan = plan_release(self.bucket, unit.name, site, release, self._live(unit.name))
        return self.execute(plan, progress)

    def rollback(self, unit: Unit, previous: Running, progress: Progress) -> Running:
        target = self._manifest(unit.name, previous.revision)
        plan = plan_switch(self.bucket, unit.name, target, self._live(unit.name))
        return self.execute(plan, progress)

    def undo_first_deploy(self, unit: Unit, progress: Progress) -> None:
        """Remove the pointer: the service is on no release again (the release's files stay)."""
        with aws_errors(f"remove s3://{self.bucket}/{pointer_key(unit.name)}", self.environment.get("profile", "")):
            self._s3().delete_object(Bucket=self.bucket, Key=pointer_key(unit.name))
        progress(f"first deploy taken out of service: removed the pointer {pointer_key(unit.name)}")

    # -- the executor -----------------------------------------------------------------------
    def execute(self, plan: SitePlan, progress: Progress) -> Running:
        """Run ``plan``: upload, copy, write the manifest, switch, invalidate and wait."""
        with aws_errors(f"deploy {plan.service} to s3://{self.bucket}", self.environment.get("profile", "")):
            self._transfer(plan, progress)
            self._switch_origin(plan, progress)
            self._s3().put_object(
                Bucket=self.bucket,
                Key=pointer_key(plan.service),
                Body=plan.pointer,
                ContentType="application/json",
                CacheControl="no-cache",
            )
            invalidation = self._invalidate(plan, progress)
        progress(plan.summary())
        pointer = json.loads(plan.pointer)
        details = {
            "prefix": release_prefix(plan.service, plan.release),
            "previous": plan.previous,
            "uploaded": [u.path for u in plan.uploads],
            "copied": [c.path for c in plan.copies],
            "invalidated": list(plan.invalidate),
            "invalidation": invalidation,
            "gitSha": pointer["git_sha"],
            **self._where(plan.service),
        }
        return Running(plan.service, plan.release, pointer["artifact"], pointer["fingerprint"], details)

    def _transfer(self, plan: SitePlan, progress: Progress) -> None:
        s3 = self._s3()
        for up in plan.uploads:
            progress(f"upload {up.path} ({up.content_type}; {up.cache_control})")
            s3.put_object(
                Bucket=self.bucket,
                Key=up.key,
                Body=Path(up.source).read_bytes(),
                ContentType=up.content_type,
                CacheControl=up.cache_control,
            )
        for cp in plan.copies:
            s3.copy_object(
                Bucket=self.bucket,
                Key=cp.key,
                CopySource={"Bucket": self.bucket, "Key": cp.source_key},
                MetadataDirective="COPY",
            )
        if plan.manifest:
            s3.put_object(
                Bucket=self.bucket,
                Key=manifest_key(plan.service, plan.release),
                Body=plan.manifest,
                ContentType="application/json",
            )

    def _switch_origin(self, plan: SitePlan, progress: Progress) -> None:
        if not self.distribution:
            return
        cf = self._cloudfront()
        response = cf.get_distribution_config(Id=self.distribution)
        config, etag = response["DistributionConfig"], response["ETag"]
        origin = self._bucket_origin(config)
        path = "/" + release_prefix(plan.service, plan.release)
        if origin.get("OriginPath", "") == path:
            return
        origin["OriginPath"] = path
        progress(f"CloudFront {self.distribution}: origin path -> {path}")
        cf.update_distribution(Id=self.distribution, IfMatch=etag, DistributionConfig=config)
        self._wait(
            lambda: cf.get_distribution(Id=self.distribution)["Distribution"]["Status"],
            "deployed",
            f"CloudFront distribution {self.distribution} to deploy",
            progress,
        )

    def _bucket_origin(self, config: Mapping[str, Any]) -> dict[str, Any]:
        for origin in config["Origins"].get("Items", []):
            if origin["DomainName"].split(".", 1)[0] == self.bucket and ".s3" in origin["DomainName"]:
                result: dict[str, Any] = origin
                return result
        raise ShipyardError(
            f"CloudFront distribution {self.distribution} has no origin for bucket {self.bucket}",
            hint="point an S3 origin of the distribution at static-bucket",
        )

    def _invalidate(self, plan: SitePlan, progress: Progress) -> str:
        if not self.distribution or not plan.invalidate:
            return ""
        cf = self._cloudfront()
        batch = {
            "Paths": {"Quantity": len(plan.invalidate), "Items": list(plan.invalidate)},
            "CallerReference": f"shipyard-{plan.service}-{plan.release}-{time.time_ns()}",
        }
        created = cf.create_invalidation(DistributionId=self.distribution, InvalidationBatch=batch)
        ident = str(created["Invalidation"]["Id"])
        progress(f"CloudFront invalidation {ident}: {' '.join(plan.invalidate)}")
        self._wait(
            lambda: cf.get_invalidation(DistributionId=self.distribution, Id=ident)["Invalidation"]["Status"],
            "completed",
            f"CloudFront invalidation {ident}",
            progress,
        )
        return ident

    def _wait(self, status: Callable[[], str], done: str, what: str, progress: Progress) -> None:
        deadline = time.monotonic() + self.timeout
        while status().lower() != done:
            progress.check()
            if time.monotonic() > deadline:
                raise DeployFailed(f"timed out after {self.timeout:.0f}s waiting for {what}")
            self.sleep(5.0)

    def _where(self, service: str) -> dict[str, str]:
        url = self.environment.get("urls", {}).get(service, "")
        return {"bucket": self.bucket, "distribution": self.distribution, **({"url": url} if url else {})}
