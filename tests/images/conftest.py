"""Session-wide fixtures for image tests: a unique name prefix (cleaned up) and a shared wheel cache."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shipyard import aws as shipyard_aws
from shipyard.images import auth
from shipyard.images import registry as registry_module
from tests.conftest import free_port
from tests.images.example import copy_example, delete_registry_repositories, remove_local_images


@pytest.fixture(scope="session")
def images_prefix(docker_engine: None, registry: str) -> Iterator[str]:
    """A prefix unique to this test run for local image names and registry repositories;
    everything under it is removed at the end of the session."""
    prefix = f"sytest-{uuid.uuid4().hex[:10]}"
    yield prefix
    remove_local_images([f"{prefix}/", f"{registry}/{prefix}"])
    delete_registry_repositories(registry, prefix)  # also {prefix}-ecr/


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Downloaded third-party wheels, shared by every build of the session."""
    return tmp_path_factory.mktemp("wheels")


@pytest.fixture(scope="session")
def make_example(images_prefix: str, registry: str) -> Callable[[Path], Path]:
    """Copies of the example system that all share one root configuration (so the same
    content has the same fingerprint in every copy): environments `local` (the registry),
    `ecr` (ECR API on moto, image bytes to the local registry) and `dead` (nothing listens)."""
    environments = f"""
[tool.shipyard.environments.ecr]
registry = "{registry}/{images_prefix}-ecr"
registry-kind = "ecr"
region = "us-east-1"

[tool.shipyard.environments.dead]
registry = "127.0.0.1:{free_port()}/x"
"""

    def make(dest: Path) -> Path:
        return copy_example(dest, prefix=images_prefix, registry=registry, environments=environments)

    return make


@pytest.fixture
def fresh_aws(aws: str) -> str:
    """The aws fixture, with shipyard's cached boto3 clients dropped (they hold the endpoint)."""
    shipyard_aws.reset()
    return aws


@pytest.fixture
def fresh_session(monkeypatch: pytest.MonkeyPatch) -> auth.Session:
    """This process's registry session, empty (tokens and credentials are kept per run)."""
    session = auth.Session()
    monkeypatch.setattr(registry_module, "SESSION", session)
    return session
