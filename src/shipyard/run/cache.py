"""The result cache: passed results stored by cache key, locally and on S3.

A lookup reads the local store first (one small JSON file per key under
``.shipyard/cache``) and asks S3 only for what is missing locally, so a run where
everything is cached locally never imports boto3. S3 hits are copied to the local
store. In ``read-only`` mode the remote side is an ``S3Reader``, which has no way to
write: pull requests can use the cache that main fills. ``auto`` (the default) is
read-write on the main branch and read-only elsewhere. That choice is made by the client,
so it is a courtesy: the boundary that holds is the IAM role a pull request can assume,
which lacks s3:PutObject. The cache copes with such a role: a denied read is a miss, and a
denied write turns the cache read-only for the rest of the run, with one warning.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project
from shipyard.core.secrets import redact
from shipyard.run.results import PASSED, Result

MODES = ("auto", "read-write", "read-only", "off")
MODE_ENV = "SHIPYARD_CACHE_S3_MODE"  # overrides s3-mode for one run
# S3's answer to a denied call, and to a GET of a missing key when the role lacks s3:ListBucket;
# unknown keys and bad signatures are 403 too, with other codes: those are credential errors
DENIED = (403, "AccessDenied")
STALE_TMP = 60.0  # seconds: a .tmp file this old was left by a killed writer (writes take ms)


@dataclass(frozen=True)
class CacheConfig:
    """Where results are cached: the local directory and the optional S3 bucket."""

    dir: Path
    bucket: str = ""
    prefix: str = "shipyard-cache"
    mode: str = "read-write"  # never "auto": ``of`` resolves it

    @classmethod
    def of(cls, project: Project, environ: Mapping[str, str] | None = None) -> CacheConfig:
        from shipyard.core.config import CACHE_FIELDS

        env = os.environ if environ is None else environ
        # an absent [tool.shipyard.cache] table validates to {}: fill in the field defaults
        table = {k: f.default for k, f in CACHE_FIELDS.items()} | project.settings["cache"]
        mode = env.get(MODE_ENV) or table["s3-mode"]
        if mode not in MODES:
            raise ShipyardError(f"{MODE_ENV}={mode!r}: expected one of {', '.join(MODES)}")
        if mode == "auto":
            mode = "off" if not table["s3-bucket"] else branch_mode(project.root, table["main-branch"], env)
        return cls(project.root / table["dir"], table["s3-bucket"], table["s3-prefix"].strip("/"), mode)


def branch_mode(root: Path, main_branch: str, environ: Mapping[str, str]) -> str:
    """``auto``'s mode: read-write on ``main_branch``, read-only anywhere else."""
    from shipyard.github import branch

    return "read-write" if branch.current(root, environ).branch == main_branch else "read-only"


def to_record(result: Result, key: str, outputs: str = "") -> dict[str, Any]:
    """What a cache entry holds: the passed result, where and when it was made, and the
    task's declared outputs (see shipyard.ci.outputs) when it has any."""
    junit = result.details.get("junit")  # pytest's test cases, for the JUnit report of a cached run
    extra = {"outputs": outputs} if outputs else {}
    if isinstance(junit, str):
        extra["junit"] = redact(junit)
    return extra | {
        "key": key,
        "unit": result.unit,
        "task": result.task,
        "python": result.python,
        "status": result.status,
        "duration": round(result.duration, 3),
        "reason": redact(result.reason),
        "output": redact(result.output),  # cache entries are shared (S3): never a secret
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def valid(record: object, key: str) -> bool:
    """Whether ``record`` is a cache entry for ``key`` (anything else is a miss, never a crash)."""
    return (
        isinstance(record, dict)
        and record.get("key") == key
        and all(isinstance(record.get(name), str) for name in ("unit", "task", "status"))
    )


def from_record(record: Mapping[str, Any], source: str) -> Result:
    """The cached result as this run's record: no time spent now, the original time kept."""
    details = {"cache": source, "cached_duration": record.get("duration", 0.0), "cached_at": record.get("created", "")}
    if isinstance(record.get("junit"), str):
        details["junit"] = record["junit"]
    return Result(
        str(record["unit"]),
        str(record["task"]),
        str(record["status"]),
        0.0,
        f"cached ({source})",
        str(record.get("output", "")),
        cached=True,
        python=str(record.get("python", "")),
        details=details,
    )


class LocalStore:
    """One JSON file per key: ``<dir>/<task>/<key[:2]>/<key>.json``, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, task: str, key: str) -> Path:
        return self.folder / task / key[:2] / f"{key}.json"

    def get(self, task: str, key: str) -> dict[str, Any] | None:
        try:
            with open(self.path(task, key), encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            return None
        return record if valid(record, key) else None

    def put(self, task: str, key: str, record: Mapping[str, Any]) -> None:
        path = self.path(task, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, path)
        _sweep(path.parent)


def _sweep(folder: Path) -> None:
    """Delete the .tmp files of writers that were killed (kill -9) before their rename."""
    stale = time.time() - STALE_TMP
    for tmp in folder.glob("*.tmp"):
        try:
            if tmp.stat().st_mtime < stale:
                tmp.unlink()
        except OSError:
            pass  # another process swept it first


class WriteDenied(ShipyardError):
    """The credentials may not write the S3 cache (a read-only role)."""


def _denied(exc: Exception) -> bool:
    from shipyard.aws import error_code

    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return (int(status or 0), error_code(exc)) == DENIED


class S3Reader:
    """Reads cache entries from ``s3://bucket/prefix/<task>/<key>.json``; cannot write."""

    def __init__(self, bucket: str, prefix: str) -> None:
        self.bucket, self.prefix = bucket, prefix

    def object_key(self, task: str, key: str) -> str:
        return f"{self.prefix}/{task}/{key}.json" if self.prefix else f"{task}/{key}.json"

    def _client(self) -> Any:
        from shipyard import aws

        return aws.client("s3")

    def get_many(self, wanted: Sequence[tuple[str, str]]) -> dict[str, dict[str, Any]]:
        """Fetch the (task, key) entries that exist, in parallel; returns key -> record."""
        from concurrent.futures import ThreadPoolExecutor

        from botocore.exceptions import ClientError

        from shipyard.aws import aws_errors

        client = self._client()

        def fetch(item: tuple[str, str]) -> tuple[str, dict[str, Any] | None]:
            task, key = item
            try:
                body = client.get_object(Bucket=self.bucket, Key=self.object_key(task, key))["Body"].read()
            except client.exceptions.NoSuchKey:
                return key, None
            except ClientError as exc:
                # without s3:ListBucket, S3 answers a missing key with 403, not 404: a miss
                if _denied(exc):
                    return key, None
                raise
            return key, self._parse(body, task, key)

        with aws_errors(f"read the result cache in s3://{self.bucket}"), ThreadPoolExecutor(8) as pool:
            return {k: r for k, r in pool.map(fetch, wanted) if r is not None}

    def _parse(self, body: bytes, task: str, key: str) -> dict[str, Any] | None:
        """The entry in ``body``; a truncated or foreign object is a miss, with a warning."""
        try:
            record = json.loads(body)
        except ValueError:  # truncated, empty, not UTF-8 (UnicodeDecodeError is a ValueError)
            record = None
        if valid(record, key):
            return dict(record)
        where = f"s3://{self.bucket}/{self.object_key(task, key)}"
        print(f"warning: ignoring a broken result-cache entry {where} (treated as a miss)", file=sys.stderr)
        return None


class S3Store(S3Reader):
    """An S3 cache that may also be written (``s3-mode = "read-write"``)."""

    def put(self, task: str, key: str, record: Mapping[str, Any]) -> None:
        """Write one entry; raises WriteDenied when the credentials may not write."""
        from botocore.exceptions import ClientError

        from shipyard.aws import aws_errors

        with aws_errors(f"write to the result cache in s3://{self.bucket}"):
            try:
                self._client().put_object(
                    Bucket=self.bucket,
                    Key=self.object_key(task, key),
                    Body=json.dumps(record).encode(),
                    ContentType="application/json",
                )
            except ClientError as exc:
                if _denied(exc):
                    raise WriteDenied(
                        f"s3:PutObject on s3://{self.bucket}/{self.object_key(task, key)} was denied"
                    ) from None
                raise


def remote_store(config: CacheConfig) -> S3Reader | None:
    """The S3 side for ``config``: a reader, a reader-writer, or nothing."""
    if not config.bucket or config.mode == "off":
        return None
    if config.mode == "read-only":
        return S3Reader(config.bucket, config.prefix)
    return S3Store(config.bucket, config.prefix)


class ResultCache:
    """Look up and store results by cache key; remote problems degrade to warnings."""

    def __init__(self, local: LocalStore, remote: S3Reader | None = None, *, read: bool = True) -> None:
        self.local, self.remote, self.read = local, remote, read
        self.outputs: dict[str, str] = {}  # key -> the packed outputs of an entry looked up

    @classmethod
    def of(cls, project: Project, *, read: bool = True) -> ResultCache:
        config = CacheConfig.of(project)
        return cls(LocalStore(config.dir), remote_store(config), read=read)

    def lookup(self, wanted: Sequence[tuple[str, str]]) -> dict[str, Result]:
        """Cached results for the (task, key) pairs that have one; key -> Result."""
        if not self.read:
            return {}
        found: dict[str, Result] = {}
        missing = []
        for task, key in wanted:
            record = self.local.get(task, key)
            if record is None:
                missing.append((task, key))
            else:
                found[key] = self._hit(key, record, "local")
        if missing and self.remote is not None:
            for key, record in self._remote_get(missing).items():
                self.local.put(str(record["task"]), key, record)
                found[key] = self._hit(key, record, "s3")
        return found

    def _hit(self, key: str, record: Mapping[str, Any], source: str) -> Result:
        if isinstance(record.get("outputs"), str):
            self.outputs[key] = record["outputs"]
        return from_record(record, source)

    def store(self, task: str, key: str, result: Result, outputs: str = "") -> None:
        """Keep a passed result (never a failure, a skip or a cached copy) under ``key``, with its
        packed ``outputs``."""
        if result.status != PASSED or result.cached or not key:
            return
        record = to_record(result, key, outputs)
        self.local.put(task, key, record)
        if isinstance(self.remote, S3Store):
            try:
                self.remote.put(task, key, record)
            except WriteDenied as exc:
                self._read_only(exc)
            except ShipyardError as exc:
                self._disable(exc)

    def _remote_get(self, wanted: Sequence[tuple[str, str]]) -> dict[str, dict[str, Any]]:
        assert self.remote is not None
        try:
            return self.remote.get_many(wanted)
        except ShipyardError as exc:
            self._disable(exc)
            return {}

    def _read_only(self, exc: WriteDenied) -> None:
        """Keep reading the S3 cache, stop writing it: the role is a read-only one."""
        assert self.remote is not None
        print(
            f"warning: S3 result cache is read-only for the rest of this run: {exc.message}"
            f' (set s3-mode = "read-only" or {MODE_ENV}=read-only where the role cannot write)',
            file=sys.stderr,
        )
        self.remote = S3Reader(self.remote.bucket, self.remote.prefix)

    def _disable(self, exc: ShipyardError) -> None:
        print(f"warning: S3 result cache disabled for this run: {exc.message}", file=sys.stderr)
        self.remote = None
