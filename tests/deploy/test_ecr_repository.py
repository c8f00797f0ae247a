"""A service's own repository name (``repository = "..."``) end to end on the ECS example:
the push (ECR API on moto, image bytes in the local registry), the deploy plan, the task
definition ECS runs and the ledger all name the image in that repository."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from shipyard.core.project import load_project
from shipyard.deploy.commands import DeployOptions, deploy
from shipyard.deploy.ledger import Ledger
from shipyard.deploy.session import open_store
from shipyard.images.build import BuildOptions
from shipyard.images.jobs import push_jobs
from shipyard.run.jobs import run_jobs
from shipyard.run.results import PASSED
from tests.deploy.ecs_example import Cloud, Endpoint
from tests.helpers import git
from tests.images.test_ecr_push import manifest

pytestmark = pytest.mark.integration


@pytest.fixture
def staging(ecs_aws: str, ecs_database: str, smoke_endpoint: Endpoint) -> Cloud:
    smoke_endpoint.status = 200
    return Cloud("staging", ecs_database).create()


def test_a_services_own_repository_from_push_to_plan_to_ecs(ecs_repo: Path, staging: Cloud, registry: str) -> None:
    prefix = load_project(ecs_repo).environment("staging")["registry"].split("/", 1)[1]
    own = f"{prefix}-own/worker_svc"
    unit_file = ecs_repo / "services" / "worker" / "pyproject.toml"
    unit_file.write_text(
        unit_file.read_text().replace('kind = "service"\n', f'kind = "service"\nrepository = "{own}"\n')
    )
    git(ecs_repo, "commit", "-qam", "worker has a repository of its own")
    project = load_project(ecs_repo)

    jobs = push_jobs(project, [project.unit("worker")], "staging", BuildOptions())
    (pushed,) = run_jobs(jobs, workers=1, report=lambda _: None)
    assert pushed.status == PASSED, pushed.reason + pushed.output
    digest, image = pushed.details["digest"], f"{registry}/{own}"
    assert all(ref.startswith(f"{image}:") for ref in pushed.details["tags"])
    ecr = boto3.client("ecr")
    assert ecr.describe_repositories(repositoryNames=[own])["repositories"][0]["repositoryName"] == own
    # moto has no registry behind it: tell it what the registry received, as ECR would know.
    tag = pushed.details["fingerprint"][:16]
    ecr.put_image(repositoryName=own, imageManifest=manifest(registry, own, tag), imageTag=tag, imageDigest=digest)

    said: list[str] = []
    assert deploy(project, "staging", DeployOptions(services=("worker",), plan_only=True), say=said.append) == []
    assert f"-> {image}@{digest[:19]}" in "\n".join(said)

    results = deploy(project, "staging", DeployOptions(services=("worker",)), say=said.append)
    assert [(r.unit, r.status) for r in results] == [("worker", PASSED)], "\n".join(said)
    assert staging.container("worker")["image"] == f"{image}@{digest}"
    entry = Ledger(open_store(project, "staging", project.environment("staging")), "staging").current("worker")
    assert entry is not None and entry.artifact == f"{image}@{digest}"
