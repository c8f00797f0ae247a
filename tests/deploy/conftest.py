"""Fixtures of the deploy tests: the ECS example (see ecs_example.py) and a state store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard import aws as shipyard_aws
from shipyard.deploy.store import LocalStore, S3Store, StateStore
from tests.deploy.ecs_example import (  # noqa: F401 - fixtures
    ecs_aws,
    ecs_database,
    ecs_moto,
    ecs_production_database,
    ecs_repo,
    slack_endpoint,
    smoke_endpoint,
)
from tests.deploy.test_faults import no_botocore_retries, proxy  # noqa: F401 - fixtures (test_lock_faults.py)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """The same tests run on the local directory store and on S3 (moto)."""
    if request.param == "local":
        yield LocalStore(tmp_path / "state")
        return
    request.getfixturevalue("aws")
    shipyard_aws.reset()
    client = shipyard_aws.client("s3", "", "us-east-1")
    bucket = f"state-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    yield S3Store(client, bucket, "shipyard/staging")
