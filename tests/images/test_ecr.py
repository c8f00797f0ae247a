"""ECR: the calls as values, and the real boto3 wire calls against moto's server."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from shipyard.core.secrets import redact
from shipyard.images import ecr
from shipyard.images.registry import parse_registry


def test_create_call_has_shipyards_settings() -> None:
    assert ecr.create_call("team/api") == ecr.AwsCall(
        "ecr",
        "create_repository",
        {
            "repositoryName": "team/api",
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
        },
    )
    assert ecr.describe_call("api", "abc").params == {"repositoryName": "api", "imageIds": [{"imageTag": "abc"}]}


ENV = {"region": "us-east-1", "profile": ""}
TEAM_POLICY = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "the team's own: expire untagged after 14 days",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                              "countNumber": 14},
                "action": {"type": "expire"},
            }
        ]
    }
)  # fmt: skip


@pytest.mark.integration
def test_ensure_repository_creates_with_settings_and_leaves_an_existing_one_alone(aws: str) -> None:
    reg = parse_registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-unit")
    client = boto3.client("ecr")
    made = ecr.ensure_repository(ENV, reg, "api")
    assert made == ecr.Repository("ecr-unit/api", True, "IMMUTABLE") and made.immutable
    repo = client.describe_repositories(repositoryNames=["ecr-unit/api"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    with pytest.raises(client.exceptions.LifecyclePolicyNotFoundException):
        client.get_lifecycle_policy(repositoryName="ecr-unit/api")  # no policy unless the team sets one

    # A repository the team manages (Terraform): mutable tags, no scan on push, its own policy.
    client.create_repository(repositoryName="ecr-unit/team", imageTagMutability="MUTABLE")
    client.put_lifecycle_policy(repositoryName="ecr-unit/team", lifecyclePolicyText=TEAM_POLICY)
    before = client.describe_repositories(repositoryNames=["ecr-unit/team"])["repositories"][0]
    found = ecr.ensure_repository(ENV, reg, "team")
    assert found == ecr.Repository("ecr-unit/team", False, "MUTABLE") and not found.immutable
    assert client.describe_repositories(repositoryNames=["ecr-unit/team"])["repositories"][0] == before
    assert client.get_lifecycle_policy(repositoryName="ecr-unit/team")["lifecyclePolicyText"] == TEAM_POLICY


@pytest.mark.integration
def test_find_image_and_login_against_moto(aws: str) -> None:
    reg = parse_registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-find")
    assert ecr.find_image(ENV, reg, "api", "abc") is None  # no repository yet
    ecr.ensure_repository(ENV, reg, "api")
    assert ecr.find_image(ENV, reg, "api", "abc") is None  # no such tag
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {}, "layers": [{"digest": "sha256:" + "2" * 64}]})  # fmt: skip
    digest = "sha256:" + "3" * 64
    boto3.client("ecr").put_image(
        repositoryName="ecr-find/api", imageManifest=manifest, imageTag="abc", imageDigest=digest
    )
    assert ecr.find_image(ENV, reg, "api", "abc") == digest
    login = ecr.login(ENV, reg)
    token = boto3.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    username, _, password = base64.b64decode(token).decode().partition(":")
    assert login.argv == ("docker", "login", "--username", username, "--password-stdin", reg.host)
    assert login.stdin == password and password not in repr(login)
    assert redact(f"docker said: {password}") == "docker said: [REDACTED]"  # registered as a secret


def _image(client: Any, repository: str, n: int, tag: str) -> str:
    blob = {"digest": f"sha256:{n:064x}"}  # moto's digest of a manifest is over its layers
    body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": blob, "layers": [blob]})  # fmt: skip
    put = client.put_image(repositoryName=repository, imageManifest=body, imageTag=tag)
    return str(put["image"]["imageId"]["imageDigest"])


@pytest.mark.integration
def test_copy_tag_refuses_to_move_an_immutable_tag_and_accepts_it_in_place(aws: str) -> None:
    reg = parse_registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-copy")
    ecr.ensure_repository(ENV, reg, "api")  # created: immutable tags
    client = boto3.client("ecr")
    old = _image(client, "ecr-copy/api", 1, "latest")
    new = _image(client, "ecr-copy/api", 2, "fp2")
    with pytest.raises(
        ecr.TagRefused, match=f"ecr-copy/api:latest names {old} and the repository's tags are immutable"
    ):
        ecr.copy_tag(ENV, reg, "api", "fp2", "latest")
    assert ecr.find_image(ENV, reg, "api", "latest") == old
    ecr.copy_tag(ENV, reg, "api", "fp2", "v1")  # a new tag is free
    ecr.copy_tag(ENV, reg, "api", "fp2", "v1")  # and already there on this image: nothing to do
    assert ecr.find_image(ENV, reg, "api", "v1") == new
