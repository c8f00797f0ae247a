"""State storage with compare-and-set: the base of deploy locks and release ledgers.

Two implementations of one small protocol (the state-store registry, deploy/stores.py,
names them: ``s3_store`` and ``local_store`` are its factories): S3 (conditional puts with If-None-Match /
If-Match, so concurrent writers cannot overwrite each other) and a local directory
(an fcntl lock around read-compare-write) for the `local` environment.

S3 answers a failed condition with 412 PreconditionFailed (the object changed: Conflict)
and a condition it could not decide yet with 409 ConditionalRequestConflict (another
conditional write on the key is in flight: Contended, a Conflict worth trying again).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.aws import aws_errors, error_code

if TYPE_CHECKING:
    from shipyard.deploy.stores import StoreContext


class Conflict(Exception):
    """A conditional write lost: the object exists, or changed since it was read."""


class Contended(Conflict):
    """S3's 409 ConditionalRequestConflict: a concurrent conditional write on the key was in
    flight, so this one was not applied; the condition itself may still hold (try again)."""


_FAILED_CONDITION = ("PreconditionFailed", "412")
_CONTENDED = ("ConditionalRequestConflict", "409")


@dataclass(frozen=True)
class Stored:
    data: bytes
    etag: str


class StateStore(Protocol):
    def get(self, key: str) -> Stored | None: ...

    def put(self, key: str, data: bytes, *, if_absent: bool = False, if_match: str | None = None) -> str:
        """Write ``data``; raise Conflict when the condition fails. Returns the new etag."""

    def delete(self, key: str, *, if_match: str | None = None) -> None: ...

    def list(self, prefix: str) -> list[str]: ...

    def describe(self) -> str: ...


class S3Store:
    """Objects under ``s3://bucket/prefix/``."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def get(self, key: str) -> Stored | None:
        from botocore.exceptions import ClientError

        with aws_errors(f"read {self.describe()}/{key}"):
            try:
                obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                    return None
                raise
            return Stored(obj["Body"].read(), obj["ETag"])

    def put(self, key: str, data: bytes, *, if_absent: bool = False, if_match: str | None = None) -> str:
        from botocore.exceptions import ClientError

        extra: dict[str, str] = {}
        if if_absent:
            extra["IfNoneMatch"] = "*"
        if if_match:
            extra["IfMatch"] = if_match
        # inside aws_errors: an old botocore refuses IfMatch/IfNoneMatch with ParamValidationError
        with aws_errors(f"write {self.describe()}/{key}"):
            try:
                response = self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)
            except ClientError as exc:
                _raise_conflict(exc, key, missing_is_conflict=bool(if_match))
                raise
            return str(response["ETag"])

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        from botocore.exceptions import ClientError

        extra = {"IfMatch": if_match} if if_match else {}
        with aws_errors(f"delete {self.describe()}/{key}"):
            try:
                self.client.delete_object(Bucket=self.bucket, Key=self._key(key), **extra)
            except ClientError as exc:
                if error_code(exc) in ("NoSuchKey", "404"):
                    return
                _raise_conflict(exc, key, missing_is_conflict=False)
                raise

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        strip = len(self._key(""))
        with aws_errors(f"list {self.describe()}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix))
            for page in pages:
                keys += [item["Key"][strip:] for item in page.get("Contents", [])]
        return sorted(keys)


def _raise_conflict(exc: Exception, key: str, *, missing_is_conflict: bool) -> None:
    """Raise Contended (409) or Conflict (412) when S3 refused a conditional request; else return."""
    code = error_code(exc)
    if code in _CONTENDED:
        raise Contended(key) from None
    if code in _FAILED_CONDITION or (missing_is_conflict and code in ("NoSuchKey", "404")):
        raise Conflict(key) from None  # S3 answers If-Match on a deleted object with 404


class LocalStore:
    """Files under a directory; one fcntl lock makes each compare-and-set atomic."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self, key: str) -> Stored | None:
        path = self.root / key
        if not path.is_file():
            return None
        data = path.read_bytes()
        return Stored(data, f'"{hashlib.md5(data).hexdigest()}"')  # an etag, not security

    def get(self, key: str) -> Stored | None:
        with self._locked():
            return self._read(key)

    def put(self, key: str, data: bytes, *, if_absent: bool = False, if_match: str | None = None) -> str:
        with self._locked():
            current = self._read(key)
            if (if_absent and current is not None) or (if_match and (current is None or current.etag != if_match)):
                raise Conflict(key)
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            return f'"{hashlib.md5(data).hexdigest()}"'

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        with self._locked():
            current = self._read(key)
            if current is None:
                return
            if if_match and current.etag != if_match:
                raise Conflict(key)
            (self.root / key).unlink()

    def list(self, prefix: str) -> list[str]:
        with self._locked():
            return sorted(
                p.relative_to(self.root).as_posix()
                for p in self.root.rglob("*")
                if p.is_file()
                and p.name != ".lock"
                and not p.name.endswith(".tmp")
                and p.relative_to(self.root).as_posix().startswith(prefix)
            )


def s3_store(ctx: StoreContext) -> S3Store:
    """The ``s3`` state store: ``state-bucket``, under ``state-prefix``/<env>."""
    from shipyard.aws import env_client

    prefix = "/".join(p for p in (str(ctx.environment.get("state-prefix", "")).strip("/"), ctx.env) if p)
    return S3Store(env_client("s3", ctx.environment), str(ctx.environment["state-bucket"]), prefix)


def local_store(ctx: StoreContext) -> LocalStore:
    """The ``local`` state store: .shipyard/state/<env>."""
    from shipyard.core.project import shipyard_dir

    return LocalStore(shipyard_dir(ctx.root) / "state" / ctx.env)
