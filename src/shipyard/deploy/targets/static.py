"""The static target: a built site on S3 behind CloudFront.

Bucket layout (``static-bucket`` of the environment), per service:

    <service>/releases/<release>/<path>   the files of one release (release = content hash)
    <service>/manifests/<release>.json    path -> sha256, size, content type, cache control
    <service>/current.json                the pointer: which release is live (and its runtime config)
    <service>/configs/<hash>              each runtime config deployed (runtime_config.py)

A release is named by its content (the hash of its published files, see site.py), and
that name is the release's artifact: the same files are the same release, whatever the
fingerprint. CloudFront serves ``<service>/releases/<release>`` as its S3 origin's path,
so going live and rolling back both switch one pointer (origin path + current.json). Each
static unit has a distribution of its own (``distribution-id``: the unit's, else the
environment's); two units sharing one are refused when the configuration is loaded.

A release's files come from one place (``Files``): the environment's own bucket when it
already holds that release, the local build when it has exactly that content, or the
bucket of the ``promote-from`` environment. A promoted release is never rebuilt. Files
that the live release already has are copied inside S3, the rest uploaded (or copied from
the other bucket); keys already in the release's prefix are left alone, so no object is
ever copied onto itself (the plan, as values: static_plan.py). The changed and removed
paths are then invalidated, and the deploy waits for the invalidation (with the deploy
timeout). A unit's ``runtime-config`` is not part of the release: it is written into the
release's prefix at each deploy (before the switch), its hash makes the revision
``<release>+<hash>``, and only its path is invalidated when only it changed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.aws import aws_errors, env_client
from shipyard.core.environments import distribution_id
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.deploy.target import Change, DeployFailed, Progress, Release, Running, TargetContext
from shipyard.deploy.targets.runtime_config import RuntimeFile, excludes, revision, split
from shipyard.deploy.targets.site import NO_CACHE, build_site, scan, site_config
from shipyard.deploy.targets.static_plan import (
    RELEASE_ID,
    Copy,
    Files,
    SitePlan,
    config_key,
    manifest_key,
    plan_release,
    plan_switch,
    pointer_key,
    release_prefix,
)

if TYPE_CHECKING:
    from shipyard.settings import Settings


class StaticTarget:
    """Sites on S3 + CloudFront, one environment."""

    name = "static"

    def __init__(self, ctx: TargetContext, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.project, self.env, self.environment, self.sleep = ctx.project, ctx.env, ctx.environment, sleep
        self.bucket: str = self.environment.get("static-bucket", "")
        self.timeout = float(self.environment.get("deploy-timeout", 900))
        promote = self.environment.get("promote-from", "")
        self.source: Mapping[str, Any] = ctx.project.environment(promote) if promote else {}
        if not self.bucket:
            raise ShipyardError(
                f"environment {self.env!r} deploys static sites but has no static-bucket",
                hint=f"set static-bucket in [tool.shipyard.environments.{self.env}]",
            )

    def distribution(self, service: str) -> str:
        """The CloudFront distribution that serves ``service`` ("" when none)."""
        return distribution_id(self.project.unit(service), self.env, self.environment)

    # -- the AWS side -----------------------------------------------------------------------
    def _s3(self) -> Any:
        return env_client("s3", self.environment)

    def _cloudfront(self) -> Any:
        return env_client("cloudfront", self.environment)

    def _read_json(self, key: str, bucket: str = "", s3: Any = None) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        from shipyard.aws import error_code

        bucket = bucket or self.bucket
        try:
            body = (s3 or self._s3()).get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            with aws_errors(f"read s3://{bucket}/{key}", self.environment.get("profile", "")):
                raise
        data: dict[str, Any] = json.loads(body)
        return data

    def _keys(self, prefix: str) -> frozenset[str]:
        """The keys under ``prefix/`` in the bucket."""
        pages = self._s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix + "/")
        with aws_errors(f"list s3://{self.bucket}/{prefix}/", self.environment.get("profile", "")):
            return frozenset(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def _manifest(self, service: str, release: str) -> dict[str, Any]:
        manifest = self._read_json(manifest_key(service, release))
        if manifest is None:
            raise DeployFailed(f"release {release} of {service} has no manifest in s3://{self.bucket}")
        return manifest

    def _live(self, service: str) -> dict[str, Any] | None:
        """The live release's manifest, with the hash of the runtime config it runs with."""
        pointer = self._read_json(pointer_key(service))
        if not pointer:
            return None
        return {**self._manifest(service, pointer["release"]), "config": pointer.get("config", "")}

    def _config(self, service: str, digest: str) -> RuntimeFile | None:
        """A runtime config deployed before (a rollback's), from the bucket's configs/."""
        from botocore.exceptions import ClientError

        if not digest:
            return None
        key = config_key(service, digest)
        try:
            obj = self._s3().get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            gone = f"the runtime config {digest} of {service} is gone from s3://{self.bucket}/{key}"
            raise DeployFailed(gone) from exc
        path = obj.get("Metadata", {}).get("path", "")
        return RuntimeFile(path, obj["Body"].read(), obj.get("ContentType", "application/json"), digest)

    # -- where a release's files are --------------------------------------------------------
    def files(self, unit: Unit, release: Release) -> Files:
        """The files of ``release``. A release named by content (its artifact) is looked up, never
        rebuilt; one without a name (a direct call, not through a plan) is built and named here."""
        if not RELEASE_ID.fullmatch(release.artifact):
            from shipyard.images.static import build_env

            values = build_env(self.project, self.env, unit)
            return Files.built(build_site(self.project, unit, release.fingerprint, values))
        found = self._in_bucket(unit, release.artifact) or self._in_build(unit, release.artifact)
        found = found or self._in_source(unit, release.artifact)
        if found is None:
            source = self.environment.get("promote-from", "")
            raise ShipyardError(
                f"{unit.name}: release {release.artifact} is neither in s3://{self.bucket} nor in the local build"
                + (f" nor in the bucket of {source!r}" if source else ""),
                hint="deploy it where it was verified first; a promoted release is copied, never rebuilt",
            )
        return found

    def _in_bucket(self, unit: Unit, release: str) -> Files | None:
        """This environment already has the release, every file of it."""
        manifest = self._read_json(manifest_key(unit.name, release))
        if manifest is None:
            return None
        prefix, existing = release_prefix(unit.name, release), self._keys(release_prefix(unit.name, release))
        if any(f"{prefix}/{path}" not in existing for path in manifest["files"]):
            return None  # files expired (a lifecycle rule): fill it again from elsewhere
        return Files(release, manifest["files"], bucket=self.bucket)

    def _in_build(self, unit: Unit, release: str) -> Files | None:
        """The local build output has exactly this content (scanned, not built)."""
        from shipyard.images.static import static_build

        output = static_build(self.project, unit).output
        if not output.is_dir():
            return None
        try:
            site = scan(output, excludes(unit))
        except DeployFailed:
            return None  # empty
        return Files.built(site) if site.release_id == release else None

    def _in_source(self, unit: Unit, release: str) -> Files | None:
        """The ``promote-from`` environment's bucket has the release (its deploy stored it there)."""
        bucket = self.source.get("static-bucket", "")
        if not bucket:
            return None
        manifest = self._read_json(manifest_key(unit.name, release), bucket, env_client("s3", self.source))
        return Files(release, manifest["files"], bucket=bucket) if manifest else None

    # -- the protocol -----------------------------------------------------------------------
    def current(self, unit: Unit) -> Running | None:
        pointer = self._read_json(pointer_key(unit.name))
        if pointer is None:
            return None
        return Running(
            unit.name,
            revision(pointer["release"], pointer.get("config", "")),
            pointer["release"],  # the artifact of a site is its content: the release
            pointer.get("fingerprint", ""),
            {
                "prefix": release_prefix(unit.name, pointer["release"]),
                "gitSha": pointer.get("git_sha", ""),
                **self._where(unit.name),
            },
        )

    def diff(self, unit: Unit, release: Release, settings: Settings) -> list[Change]:
        config = site_config(self.project, self.env, unit, settings)  # refuses a secret before anything
        files = self.files(unit, release)
        live = self._live(unit.name)
        same_config = (live or {}).get("config", "") == (config.digest if config else "")
        if live is not None and live["release"] == files.release:
            if same_config:
                return []  # the same content is the same release, whatever the fingerprint
            return [Change("runtime config", live["config"] or "(none)", _digest(config))]
        plan = self._plan(unit, files, release, live, config)
        changes = [
            Change("release", plan.previous or "(none)", plan.release),
            Change("files", "", f"{len(plan.uploads)} to upload, {len(plan.copies)} to copy in S3"),
            Change("invalidate", "", " ".join(plan.invalidate) or "(nothing)"),
        ]
        if config is not None and not same_config:
            changes.append(Change("runtime config", (live or {}).get("config") or "(none)", config.digest))
        return changes

    def deploy(self, unit: Unit, release: Release, settings: Settings, progress: Progress) -> Running:
        config = site_config(self.project, self.env, unit, settings)
        files = self.files(unit, release)
        progress(f"release {files.release}: {len(files.files)} files, from {files.origin()}")
        return self.execute(self._plan(unit, files, release, self._live(unit.name), config), progress)

    def _plan(
        self, unit: Unit, files: Files, release: Release, live: Mapping[str, Any] | None, config: RuntimeFile | None
    ) -> SitePlan:
        existing = self._keys(release_prefix(unit.name, files.release))
        return plan_release(self.bucket, unit.name, files, release, live, existing, config)

    def rollback(self, unit: Unit, previous: Running, progress: Progress) -> Running:
        release, digest = split(previous.revision)
        target = self._manifest(unit.name, release)
        plan = plan_switch(self.bucket, unit.name, target, self._live(unit.name), self._config(unit.name, digest))
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
            **({"config": plan.config.digest} if plan.config else {}),
            **self._where(plan.service),
        }
        return Running(plan.service, plan.revision, pointer["artifact"], pointer["fingerprint"], details)

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
            if (cp.source_bucket, cp.source_key) == (self.bucket, cp.key):
                continue  # already in place; S3 refuses a copy onto itself (InvalidRequest)
            if self._foreign(cp.source_bucket):
                progress(f"copy {cp.path} from s3://{cp.source_bucket} through this machine (other credentials)")
                self._pass_through(cp)
                continue
            s3.copy_object(
                Bucket=self.bucket,
                Key=cp.key,
                CopySource={"Bucket": cp.source_bucket, "Key": cp.source_key},
                MetadataDirective="COPY",
            )
        if plan.manifest:
            s3.put_object(
                Bucket=self.bucket,
                Key=manifest_key(plan.service, plan.release),
                Body=plan.manifest,
                ContentType="application/json",
            )
        if plan.config:
            self._write_config(plan.service, plan.release, plan.config, progress)

    def _write_config(self, service: str, release: str, config: RuntimeFile, progress: Progress) -> None:
        """Keep the config (for rollbacks), then write it into the release prefix, before the switch."""
        s3 = self._s3()
        progress(f"runtime config {config.path} ({config.digest}) for {self.env}")
        s3.put_object(
            Bucket=self.bucket,
            Key=config_key(service, config.digest),
            Body=config.body,
            ContentType=config.content_type,
            Metadata={"path": config.path},
        )
        s3.put_object(
            Bucket=self.bucket,
            Key=f"{release_prefix(service, release)}/{config.path}",
            Body=config.body,
            ContentType=config.content_type,
            CacheControl=NO_CACHE,
        )

    def _foreign(self, bucket: str) -> bool:
        """The promote-from bucket under other credentials (another account): no server-side copy."""
        other = self.source.get("profile", "") != self.environment.get("profile", "")
        return other and bucket != self.bucket and bucket == self.source.get("static-bucket")

    def _pass_through(self, cp: Copy) -> None:
        """Read with the source environment's credentials, write with ours; the headers go along."""
        obj = env_client("s3", self.source).get_object(Bucket=cp.source_bucket, Key=cp.source_key)
        self._s3().put_object(
            Bucket=self.bucket,
            Key=cp.key,
            Body=obj["Body"].read(),
            ContentType=obj.get("ContentType", "application/octet-stream"),
            CacheControl=obj.get("CacheControl", ""),
        )

    def _switch_origin(self, plan: SitePlan, progress: Progress) -> None:
        distribution = self.distribution(plan.service)
        if not distribution:
            return
        cf = self._cloudfront()
        response = cf.get_distribution_config(Id=distribution)
        config, etag = response["DistributionConfig"], response["ETag"]
        origin = self._bucket_origin(distribution, config)
        path = "/" + release_prefix(plan.service, plan.release)
        if origin.get("OriginPath", "") == path:
            return
        origin["OriginPath"] = path
        progress(f"CloudFront {distribution}: origin path -> {path}")
        cf.update_distribution(Id=distribution, IfMatch=etag, DistributionConfig=config)
        self._wait(
            lambda: cf.get_distribution(Id=distribution)["Distribution"]["Status"],
            "deployed",
            f"CloudFront distribution {distribution} to deploy",
            progress,
        )

    def _bucket_origin(self, distribution: str, config: Mapping[str, Any]) -> dict[str, Any]:
        for origin in config["Origins"].get("Items", []):
            if origin["DomainName"].split(".", 1)[0] == self.bucket and ".s3" in origin["DomainName"]:
                result: dict[str, Any] = origin
                return result
        raise ShipyardError(
            f"CloudFront distribution {distribution} has no origin for bucket {self.bucket}",
            hint="point an S3 origin of the distribution at static-bucket",
        )

    def _invalidate(self, plan: SitePlan, progress: Progress) -> str:
        distribution = self.distribution(plan.service)
        if not distribution or not plan.invalidate:
            return ""
        cf = self._cloudfront()
        batch = {
            "Paths": {"Quantity": len(plan.invalidate), "Items": list(plan.invalidate)},
            "CallerReference": f"shipyard-{plan.service}-{plan.release}-{time.time_ns()}",
        }
        created = cf.create_invalidation(DistributionId=distribution, InvalidationBatch=batch)
        ident = str(created["Invalidation"]["Id"])
        progress(f"CloudFront invalidation {ident}: {' '.join(plan.invalidate)}")
        self._wait(
            lambda: cf.get_invalidation(DistributionId=distribution, Id=ident)["Invalidation"]["Status"],
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
        return {"bucket": self.bucket, "distribution": self.distribution(service), **({"url": url} if url else {})}


def _digest(config: RuntimeFile | None) -> str:
    return config.digest if config else "(none)"
