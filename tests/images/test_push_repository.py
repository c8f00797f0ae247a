"""A unit's own repository name (push, deploy lookup) and extra tags (latest, the git tag of a tag
build), against the local registry; the ECR side (immutable tags) on moto's server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from shipyard.core.project import load_project
from shipyard.deploy.artifacts import Artifacts
from shipyard.images.registry import manifest_digest, parse_registry
from shipyard.run.results import PASSED
from tests.helpers import git
from tests.images.example import push
from tests.images.test_ecr import TEAM_POLICY
from tests.images.test_ecr_push import manifest

pytestmark = pytest.mark.integration
V2 = "application/vnd.docker.distribution.manifest.v2+json"


def add_environment(root: Path, name: str, table: str) -> None:
    path = root / "pyproject.toml"
    path.write_text(path.read_text() + f"\n[tool.shipyard.environments.{name}]\n{table}\n")
    git(root, "commit", "-qam", f"environment {name}")


def test_a_units_own_repository_is_used_for_push_and_deploy(
    tmp_path: Path, make_example: Callable[[Path], Path], wheel_cache: Path, registry: str, images_prefix: str
) -> None:
    root = make_example(tmp_path / "repo")
    own = f"{images_prefix}-own/cv_matcher"
    api = root / "services" / "api" / "pyproject.toml"
    api.write_text(api.read_text().replace('kind = "service"\n', f'kind = "service"\nrepository = "{own}"\n'))
    git(root, "commit", "-qam", "api has a repository of its own")

    result = push(root, wheel_cache, "local", ["api"])["api"]
    assert result.status == PASSED, result.reason + result.output
    digest = result.details["digest"]
    assert all(ref.startswith(f"{registry}/{own}:") for ref in result.details["tags"])
    fp_tag = result.details["fingerprint"][:16]
    derived = parse_registry(f"{registry}/{images_prefix}")  # the local environment's registry
    assert manifest_digest(derived, "api", fp_tag) is None  # nothing under the derived name
    assert manifest_digest(parse_registry(registry, names={"api": own}), "api", fp_tag) == digest

    project = load_project(root)
    release = Artifacts(project, "local", say=lambda _: None).lookup(project.unit("api"))  # what the plan shows
    assert release.artifact == f"{registry}/{own}@{digest}"
    ensured = Artifacts(project, "local", say=lambda _: None).ensure([project.unit("api")])  # what a deploy ships
    assert ensured["api"].artifact == f"{registry}/{own}@{digest}"


def test_extra_tags_latest_and_the_git_tag_of_a_tag_build(
    tmp_path: Path, make_example: Callable[[Path], Path], wheel_cache: Path, registry: str, images_prefix: str
) -> None:
    root = make_example(tmp_path / "repo")
    host = f"{registry}/{images_prefix}-tags"
    add_environment(root, "tagged", f'registry = "{host}"\nextra-tags = ["latest", "{{git-tag}}"]')
    git(root, "tag", "v1.0")

    first = push(root, wheel_cache, "tagged", ["api"])["api"]
    assert first.status == PASSED, first.reason + first.output
    digest, reg = first.details["digest"], parse_registry(host)
    assert first.reason == f"pushed {host}/api@{digest} (also as latest, v1.0)"
    assert manifest_digest(reg, "api", "latest") == manifest_digest(reg, "api", "v1.0") == digest

    git(root, "tag", "-a", "-m", "release", "v1.1")  # the same commit, tagged again: no push, a tag
    second = push(root, wheel_cache, "tagged", ["api"])["api"]
    assert second.status == PASSED and second.reason == f"tagged {host}/api@{digest} as v1.1"
    assert manifest_digest(reg, "api", "v1.1") == digest
    assert push(root, wheel_cache, "tagged", ["api"])["api"].reason == f"up to date: {host}/api@{digest}"


def test_an_immutable_ecr_repository_keeps_its_latest_and_the_push_still_succeeds(
    fresh_aws: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_example: Callable[[Path], Path],
    wheel_cache: Path,
    registry: str,
    images_prefix: str,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    root = make_example(tmp_path / "repo")
    name = f"{images_prefix}-ecrtags/api"
    table = f'registry = "{registry}/{images_prefix}-ecrtags"\nregistry-kind = "ecr"\nregion = "us-east-1"\n'
    add_environment(root, "ecrtags", table + 'extra-tags = ["latest"]')
    first = push(root, wheel_cache, "ecrtags", ["api"])["api"]
    assert first.status == PASSED, first.reason + first.output
    digest = first.details["digest"]
    assert first.reason.endswith("(also as latest)")  # a new repository: latest is free

    # ECR now has this image under its tags, and `latest` on another image (an earlier release).
    ecr, tags = boto3.client("ecr"), [ref.rsplit(":", 1)[1] for ref in first.details["tags"][:-1]]
    other = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                        "config": {"digest": "sha256:" + "4" * 64}, "layers": []})  # fmt: skip
    ecr.put_image(repositoryName=name, imageManifest=other, imageTag="latest")
    for tag in tags:
        ecr.put_image(
            repositoryName=name, imageManifest=manifest(registry, name, tag), imageTag=tag, imageDigest=digest
        )
    latest = ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": "latest"}])["imageDetails"][0]

    again = push(root, wheel_cache, "ecrtags", ["api"])["api"]
    assert again.status == PASSED, again.reason
    assert again.reason == (
        f"up to date: {registry}/{name}@{digest}; not tagged: "
        f"latest names {latest['imageDigest']} and {name}'s tags are immutable"
    )
    assert ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": "latest"}])["imageDetails"] == [latest]


def test_a_push_leaves_the_teams_repository_as_it_is_and_prunes_when_asked(
    fresh_aws: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_example: Callable[[Path], Path],
    wheel_cache: Path,
    registry: str,
    images_prefix: str,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    root = make_example(tmp_path / "repo")
    name = f"{images_prefix}-ecrteam/api"
    table = f'registry = "{registry}/{images_prefix}-ecrteam"\nregistry-kind = "ecr"\nregion = "us-east-1"\n'
    add_environment(root, "team", table + "ecr-prune-keep = 1")
    ecr = boto3.client("ecr")  # the team's repository (Terraform): mutable tags, no scanning, its own policy
    ecr.create_repository(repositoryName=name, imageTagMutability="MUTABLE")
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=TEAM_POLICY)
    before = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    for n in (1, 2):  # two earlier images, neither in a ledger
        blob = {"digest": f"sha256:{n:064x}"}  # moto's digest of a manifest is over its layers
        body = json.dumps({"schemaVersion": 2, "mediaType": V2, "config": blob, "layers": [blob]})
        ecr.put_image(repositoryName=name, imageManifest=body, imageTag=f"old-{n}")
    older, newer = (ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": f"old-{n}"}])["imageDetails"][0]
                    for n in (1, 2))  # fmt: skip

    first = push(root, wheel_cache, "team", ["api"])["api"]
    assert first.status == PASSED, first.reason + first.output
    assert ecr.describe_repositories(repositoryNames=[name])["repositories"][0] == before
    assert ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"] == TEAM_POLICY
    # moto saw only the two old images (the bytes went to the local registry); the newest stays.
    assert first.reason.endswith(f"; pruned 1 old image(s) of {name}")
    listed = ecr.describe_images(repositoryName=name)["imageDetails"]
    assert [i["imageDigest"] for i in listed] == [newer["imageDigest"]] != [older["imageDigest"]]

    forced = push(root, wheel_cache, "team", ["api"], force=True)["api"]  # mutable tags: --force may re-push
    assert forced.status == PASSED, forced.reason + forced.output
