"""The AWS boundary: the boto3/botocore floor, throttling said as such."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from shipyard import aws
from shipyard.core.errors import ShipyardError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_the_dependency_floor_is_the_one_the_code_names() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"boto3>={aws.BOTO_FLOOR}" in dependencies
    assert f"botocore>={aws.BOTO_FLOOR}" in dependencies


def test_the_installed_botocore_has_the_conditional_writes_the_lock_needs() -> None:
    from botocore.loaders import Loader

    shapes = Loader().load_service_model("s3", "service-2")["shapes"]
    assert {"IfMatch", "IfNoneMatch"} <= set(shapes["PutObjectRequest"]["members"])
    assert "IfMatch" in shapes["DeleteObjectRequest"]["members"]


def _error(code: str, retries: int) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "Rate exceeded"},
        "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": retries},
    }
    return ClientError(response, "DescribeServices")  # type: ignore[arg-type]


def test_throttling_after_botocores_retries_is_reported_as_throttling() -> None:
    with pytest.raises(ShipyardError) as info, aws.aws_errors("describe ECS service api"):
        raise _error("ThrottlingException", 8)
    assert info.value.message == (
        "cannot describe ECS service api: AWS is throttling the requests (ThrottlingException: Rate exceeded; 9 tries)"
    )
    assert info.value.hint is not None and info.value.hint.startswith("try again in a few minutes")


def test_other_client_errors_keep_their_code() -> None:
    with pytest.raises(ShipyardError) as info, aws.aws_errors("describe ECS service api"):
        raise _error("ClusterNotFoundException", 0)
    assert info.value.message == "cannot describe ECS service api: ClusterNotFoundException: Rate exceeded"
