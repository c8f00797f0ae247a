"""Pruning ECR after a push (ecr-prune-keep) on moto's server: the newest N stay, and so does every
digest an environment's ledger references among the unit's last N releases."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path

import boto3
import pytest

from shipyard import aws as shipyard_aws
from shipyard.core.project import load_project
from shipyard.deploy.ledger import Entry, Ledger
from shipyard.deploy.store import S3Store
from shipyard.images.jobs import Destination
from shipyard.images.prune import INDEX_TYPES, Pruned, doomed
from tests.helpers import ROOT_PYPROJECT, make_monorepo

pytestmark = pytest.mark.integration

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
V2 = "application/vnd.docker.distribution.manifest.v2+json"


def environments(prefix: str, bucket: str, production_bucket: str) -> str:
    return f"""
[tool.shipyard.environments.staging]
registry = "{HOST}/{prefix}"
region = "us-east-1"
state-bucket = "{bucket}"
ecr-prune-keep = 2

[tool.shipyard.environments.production]
registry = "{HOST}/{prefix}"
region = "us-east-1"
state-bucket = "{production_bucket}"
"""


def put(repository: str, n: int) -> str:
    """One image (a manifest of its own) put into ECR; its digest."""
    manifest = json.dumps({"schemaVersion": 2, "mediaType": V2, "config": {"digest": f"sha256:{n:064x}"},
                           "layers": [{"digest": f"sha256:{n + 1000:064x}"}]})  # fmt: skip
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    boto3.client("ecr").put_image(
        repositoryName=repository, imageManifest=manifest, imageTag=f"t{n}", imageDigest=digest
    )
    return digest


def put_index(repository: str, child: str) -> str:
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPES[0],
                        "manifests": [{"mediaType": V2, "digest": child, "size": 1}]})  # fmt: skip
    digest = "sha256:" + hashlib.sha256(index.encode()).hexdigest()
    boto3.client("ecr").put_image(repositoryName=repository, imageManifest=index, imageTag="multi", imageDigest=digest)
    return digest


def record(bucket: str, env: str, service: str, artifacts: list[str]) -> None:
    ledger = Ledger(S3Store(boto3.client("s3"), bucket, f"shipyard/{env}"), env)
    for artifact in artifacts:
        ledger.append(Entry(service, "deploy", "succeeded", "f" * 64, artifact))


def remaining(repository: str) -> set[str]:
    return {i["imageDigest"] for i in boto3.client("ecr").describe_images(repositoryName=repository)["imageDetails"]}


@pytest.fixture
def setup(aws: str, tmp_path: Path) -> tuple[Path, str, str]:
    shipyard_aws.reset()
    prefix, bucket = f"prune-{uuid.uuid4().hex[:8]}", f"state-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    boto3.client("ecr").create_repository(repositoryName=f"{prefix}/a")
    return tmp_path, prefix, bucket


def test_pruning_spares_the_newest_and_every_digest_a_ledger_references(setup: tuple[Path, str, str]) -> None:
    tmp_path, prefix, bucket = setup
    root = make_monorepo(
        tmp_path / "repo", files={"pyproject.toml": ROOT_PYPROJECT + environments(prefix, bucket, bucket)}
    )
    repository, image = f"{prefix}/a", f"{HOST}/{prefix}/a"
    old = [put(repository, n) for n in range(6)]
    time.sleep(1.1)  # moto's push times are whole seconds: the newest two come strictly later
    newest = [put(repository, 10), put_index(repository, old[5])]  # the index keeps its platform image
    # production runs old[2] (its last 2 releases: old[1], old[2]; old[0] is older than that);
    # staging's last release of `a` is old[3]; b's releases do not count for a.
    record(bucket, "production", "a", [f"{image}@{old[0]}", f"{image}@{old[1]}", f"{image}@{old[2]}"])
    record(bucket, "staging", "a", [f"{image}@{old[3]}"])
    record(bucket, "staging", "b", [f"{image}@{old[4]}", f"{HOST}/{prefix}/b@{old[4]}"])

    note = Destination.of(load_project(root), "staging").prune("a", newest[1])

    assert remaining(repository) == {*newest, old[1], old[2], old[3], old[5]}
    assert note == f"pruned 2 old image(s) of {repository}, spared 3 a ledger references"
    again = Destination.of(load_project(root), "staging").prune("a", newest[1])
    assert again == "" and remaining(repository) == {*newest, old[1], old[2], old[3], old[5]}


def test_nothing_is_deleted_when_a_ledger_cannot_be_read(setup: tuple[Path, str, str]) -> None:
    tmp_path, prefix, bucket = setup
    missing = f"gone-{uuid.uuid4().hex[:12]}"  # production's state bucket does not exist
    root = make_monorepo(
        tmp_path / "repo", files={"pyproject.toml": ROOT_PYPROJECT + environments(prefix, bucket, missing)}
    )
    repository = f"{prefix}/a"
    digests = {put(repository, n) for n in range(4)}

    note = Destination.of(load_project(root), "staging").prune("a", "")

    assert note.startswith("not pruned: a release ledger could not be read (")
    assert remaining(repository) == digests


def test_pruning_is_off_unless_asked_for(setup: tuple[Path, str, str]) -> None:
    tmp_path, prefix, bucket = setup
    root = make_monorepo(
        tmp_path / "repo", files={"pyproject.toml": ROOT_PYPROJECT + environments(prefix, bucket, bucket)}
    )
    repository = f"{prefix}/a"
    digests = {put(repository, n) for n in range(4)}
    assert Destination.of(load_project(root), "production").prune("a", "") == ""  # no ecr-prune-keep there
    assert remaining(repository) == digests


def test_doomed_and_the_note() -> None:
    images = [{"imageDigest": f"d{n}", "imagePushedAt": n} for n in range(5)]
    assert doomed(images, 2, {"d0"}) == (["d1", "d2"], ["d0"])
    assert Pruned("r", skipped="why").note() == "not pruned: why"
