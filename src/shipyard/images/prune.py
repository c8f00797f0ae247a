"""ECR housekeeping after a push: delete old images, never one an environment may run.

An ECR lifecycle rule counts images; it cannot know that production still runs the digest
staging pushed forty merges ago, nor which release `rollback --to` would go back to. So
shipyard prunes itself, opt-in (``ecr-prune-keep = N``): after a push that uploaded an
image, every image of the repository is listed (``describe_images``), and deleted
(``batch_delete_image``, by digest) unless it is

- among the newest N by push time,
- referenced by one of the unit's last N releases (or an attempt in progress) in the
  ledger of any environment that uses this registry host, or
- a platform image (or attestation) of an index that is kept (``batch_get_image``).

Nothing is deleted when a ledger cannot be read: pruning on half the facts could delete a
live image. The push itself is done by then and stays a success; the note says why.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project
from shipyard.images.ecr import AwsCall, call, in_region
from shipyard.images.registry import Registry, parse_registry

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
BATCH = 100  # batch_get_image and batch_delete_image take at most 100 image ids


@dataclass(frozen=True)
class Pruned:
    """What a prune did: the digests deleted, those only a ledger kept, or why it did nothing."""

    repository: str
    deleted: tuple[str, ...] = ()
    spared: tuple[str, ...] = ()  # older than the newest N, kept because a ledger references them
    skipped: str = ""

    def note(self) -> str:
        if self.skipped:
            return f"not pruned: {self.skipped}"
        if not self.deleted:
            return ""
        spared = f", spared {len(self.spared)} a ledger references" if self.spared else ""
        return f"pruned {len(self.deleted)} old image(s) of {self.repository}{spared}"


def ledger_digests(project: Project, registry: Registry, unit: str, keep: int) -> set[str]:
    """The digests of ``unit``'s last ``keep`` releases (and open attempts) in the ledger of every
    environment whose registry is on ``registry``'s host."""
    from shipyard.deploy.ledger import Ledger
    from shipyard.deploy.session import has_shared_store, open_store, uses_aws

    digests: set[str] = set()
    for env, environment in project.settings["environments"].items():
        if not environment.get("registry") or parse_registry(environment["registry"]).host != registry.host:
            continue
        if uses_aws(environment) and not has_shared_store(environment):
            continue  # it cannot deploy (no ledger), so it runs nothing from here
        ledger = Ledger(open_store(project, env, environment), env)
        digests |= _digests(_recent(ledger, unit, keep))
    return digests


def _recent(ledger: Any, unit: str, keep: int) -> list[Any]:
    entries = [e for e in ledger.open_attempts() if e.service == unit]
    releases = 0
    for entry in ledger.newest_first():
        if releases == keep:
            break
        if entry.service == unit:
            entries.append(entry)
            releases += 1
    return entries


def _digests(entries: Iterable[Any]) -> set[str]:
    return {e.artifact.rpartition("@")[2] for e in entries if "@sha256:" in e.artifact}


def list_call(name: str, token: str = "") -> AwsCall:
    params: dict[str, Any] = {"repositoryName": name, "maxResults": 1000}
    if token:
        params["nextToken"] = token
    return AwsCall("ecr", "describe_images", params)


def delete_call(name: str, digests: Sequence[str]) -> AwsCall:
    return AwsCall("ecr", "batch_delete_image", {"repositoryName": name, "imageIds": _ids(digests)})


def manifests_call(name: str, digests: Sequence[str]) -> AwsCall:
    params = {"repositoryName": name, "imageIds": _ids(digests), "acceptedMediaTypes": list(INDEX_TYPES)}
    return AwsCall("ecr", "batch_get_image", params)


def _ids(digests: Sequence[str]) -> list[dict[str, str]]:
    return [{"imageDigest": d} for d in digests]


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def list_images(env: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """Every image of repository ``name`` (all pages of describe_images)."""
    images: list[dict[str, Any]] = []
    token = ""
    while True:
        page = call(env, list_call(name, token), f"list the images of ECR repository {name}") or {}
        images += page.get("imageDetails", [])
        token = page.get("nextToken", "")
        if not token:
            return images


def newest(images: Sequence[Mapping[str, Any]], keep: int) -> list[str]:
    """The digests of the newest ``keep`` images; among equal push times the one listed later
    counts as newer (ECR lists in push order; moto's push times are whole seconds)."""
    order = sorted(range(len(images)), key=lambda i: (_pushed(images[i]), i), reverse=True)
    return [str(images[i]["imageDigest"]) for i in order[:keep]]


def _pushed(image: Mapping[str, Any]) -> float:
    """imagePushedAt as a POSIX time (botocore gives a datetime)."""
    when: Any = image.get("imagePushedAt", 0)
    return float(when.timestamp()) if hasattr(when, "timestamp") else float(when)


def children(env: Mapping[str, Any], name: str, images: Sequence[Mapping[str, Any]], kept: set[str]) -> set[str]:
    """The digests the kept indexes (multi-platform images, attestations) point at."""
    indexes = [str(i["imageDigest"]) for i in images if i["imageDigest"] in kept and _is_index(i)]
    found: set[str] = set()
    for chunk in _chunks(indexes):
        answer = call(env, manifests_call(name, chunk), f"read the image indexes of {name}") or {}
        for image in answer.get("images", []):
            found |= {str(m["digest"]) for m in json.loads(image["imageManifest"]).get("manifests", [])}
    return found


def _is_index(image: Mapping[str, Any]) -> bool:
    return image.get("imageManifestMediaType", "") in INDEX_TYPES


def doomed(images: Sequence[Mapping[str, Any]], keep: int, spared: set[str]) -> tuple[list[str], list[str]]:
    """The digests beyond the newest ``keep``: (those ``spared`` lacks, those it has)."""
    kept = set(newest(images, keep))
    older = [str(i["imageDigest"]) for i in images if i["imageDigest"] not in kept]
    return [d for d in older if d not in spared], [d for d in older if d in spared]


def prune(
    project: Project, environment: Mapping[str, Any], registry: Registry, unit: str, keep: int, pushed: str
) -> Pruned:
    """Delete ``unit``'s images beyond the newest ``keep``, sparing ledger-referenced ones and ``pushed``."""
    name, env = registry.repository(unit), in_region(environment, registry)
    try:
        spared = ledger_digests(project, registry, unit, keep) | {pushed}
    except ShipyardError as exc:
        return Pruned(name, skipped=f"a release ledger could not be read ({exc.message})")
    images = list_images(env, name)
    delete, only_ledger = doomed(images, keep, spared)
    kept = {str(i["imageDigest"]) for i in images} - set(delete)
    inner = children(env, name, images, kept)
    delete = [d for d in delete if d not in inner]
    failed: set[str] = set()
    for chunk in _chunks(delete):
        answer = call(env, delete_call(name, chunk), f"delete old images of ECR repository {name}") or {}
        # e.g. ImageReferencedByManifestList: ECR itself keeps an image an index still needs
        failed |= {str(f.get("imageId", {}).get("imageDigest", "")) for f in answer.get("failures", [])}
    deleted = tuple(d for d in delete if d not in failed)
    return Pruned(name, deleted, tuple(d for d in only_ledger if d != pushed))
