"""`invoke push` to ECR: the AWS side on moto's server, the image bytes in the local registry
(moto has no registry behind its endpoint), docker login with the ECR token."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import boto3
import pytest

from shipyard.run.results import ERROR, PASSED
from tests.helpers import git
from tests.images.example import push

pytestmark = pytest.mark.integration

V2 = "application/vnd.docker.distribution.manifest.v2+json"


def manifest(registry: str, repository: str, tag: str) -> str:
    request = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{tag}")
    request.add_header("Accept", V2)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def test_push_to_ecr_creates_the_repository_logs_in_and_then_skips(
    fresh_aws: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_example: Callable[[Path], Path],
    wheel_cache: Path,
    registry: str,
    images_prefix: str,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))  # keep the login out of ~/.docker
    root = make_example(tmp_path / "repo")
    init = root / "services" / "api" / "src" / "example_api" / "__init__.py"
    init.write_text(init.read_text() + "# built for ECR: an image of its own, whatever ran before\n")
    git(root, "commit", "-qam", "an api of its own")  # a clean tree: the git tag is pushed too
    first = push(root, wheel_cache, "ecr", ["api"])["api"]
    assert first.status == PASSED, first.reason + first.output
    assert first.details["pushed"] is True and first.details["digest"].startswith("sha256:")

    name = f"{images_prefix}-ecr/api"
    ecr = boto3.client("ecr")
    repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    assert (repo["imageTagMutability"], repo["imageScanningConfiguration"]) == ("IMMUTABLE", {"scanOnPush": True})
    with pytest.raises(ecr.exceptions.LifecyclePolicyNotFoundException):
        ecr.get_lifecycle_policy(repositoryName=name)  # lifecycle is opt-in (ecr-prune-keep), and shipyard's own
    auths = json.loads((tmp_path / "docker-config" / "config.json").read_text())["auths"]
    assert registry in auths  # docker login ran with the token from get_authorization_token
    token = base64.b64decode(ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]).decode()
    assert token.split(":", 1)[1] not in json.dumps(asdict(first))  # never in a record

    # ECR would now list the pushed image; moto needs to be told what the registry received.
    tag = first.details["fingerprint"][:16]
    ecr.put_image(repositoryName=name, imageManifest=manifest(registry, name, tag), imageTag=tag,
                  imageDigest=first.details["digest"])  # fmt: skip
    # moto knows the fingerprint tag only: the git tag is put on the same image through the
    # ECR API (batch_get_image, put_image), no build, no upload; then the push is up to date.
    tagged = push(root, wheel_cache, "ecr", ["api"])["api"]
    assert tagged.status == PASSED, tagged.reason + tagged.output
    assert (tagged.details["up_to_date"], tagged.details["pushed"], tagged.details["built"]) == (False, True, False)
    git_tag = first.details["tags"][0].rsplit(":", 1)[1]
    assert git_tag.startswith("git-")
    listed = ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": git_tag}])["imageDetails"]
    assert listed[0]["imageDigest"] == first.details["digest"]
    again = push(root, wheel_cache, "ecr", ["api"])["api"]
    assert (again.details["up_to_date"], again.details["pushed"], again.details["built"]) == (True, False, False)
    assert again.details["digest"] == first.details["digest"]

    forced = push(root, wheel_cache, "ecr", ["api"], force=True)["api"]  # would overwrite an immutable tag
    assert forced.status == ERROR and forced.details["built"] is False
    assert forced.reason.startswith(
        f"--force would replace {registry}/{name}:{tag}, but the repository's tags are immutable"
    )
