"""ECR: the calls as values, and the real boto3 wire calls against moto's server."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from shipyard.images import ecr
from shipyard.images.registry import parse_registry
from shipyard.secrets import redact


def test_repository_calls_and_lifecycle_policy() -> None:
    create, lifecycle = ecr.repository_calls("team/api", 5)
    assert create == ecr.AwsCall(
        "ecr",
        "create_repository",
        {
            "repositoryName": "team/api",
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
        },
    )
    assert lifecycle.operation == "put_lifecycle_policy"
    assert json.loads(lifecycle.params["lifecyclePolicyText"]) == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "keep the newest 5 images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5},
                "action": {"type": "expire"},
            }
        ]
    }
    assert ecr.describe_call("api", "abc").params == {"repositoryName": "api", "imageIds": [{"imageTag": "abc"}]}


ENV = {"region": "us-east-1", "profile": "", "ecr-lifecycle-keep": 7}


@pytest.mark.integration
def test_ensure_repository_against_moto(aws: str) -> None:
    reg = parse_registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-unit")
    ecr.ensure_repository(ENV, reg, "api")
    ecr.ensure_repository(ENV, reg, "api")  # idempotent: the second run updates, never fails
    client = boto3.client("ecr")
    repo = client.describe_repositories(repositoryNames=["ecr-unit/api"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    policy = json.loads(client.get_lifecycle_policy(repositoryName="ecr-unit/api")["lifecyclePolicyText"])
    assert policy["rules"][0]["selection"]["countNumber"] == 7


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
