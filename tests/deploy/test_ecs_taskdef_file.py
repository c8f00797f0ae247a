"""A task-definition file in the repository (``.aws/task-definition.json``) as the base of every
revision and of service creation, and drift against the running revision in the plan, on the
ECS example (moto server, real images)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from shipyard.core.errors import ConfigError
from shipyard.core.project import load_project
from shipyard.deploy.commands import DeployOptions, deploy
from shipyard.run.results import PASSED
from tests.deploy.ecs_example import ACCOUNT, EXEC_ROLE, Cloud, Endpoint
from tests.deploy.test_transaction import network  # noqa: F401 - fixture (moto checks subnets)
from tests.helpers import git, run_invoke

pytestmark = pytest.mark.integration

TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/worker-task"
LOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/worker", "awslogs-region": "us-east-1"}}


def describe_output() -> dict[str, Any]:
    """What `aws ecs describe-task-definition` prints, read-only fields and all."""
    return {
        "taskDefinition": {
            "taskDefinitionArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/worker:3",
            "revision": 3,
            "status": "ACTIVE",
            "family": "worker",
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "compatibilities": ["EC2", "FARGATE"],
            "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
            "registeredAt": "2026-01-05T12:00:00+00:00",
            "registeredBy": f"arn:aws:iam::{ACCOUNT}:user/someone",
            "cpu": "1024",
            "memory": "2048",
            "taskRoleArn": TASK_ROLE,
            "executionRoleArn": EXEC_ROLE,
            "containerDefinitions": [
                {
                    "name": "worker",
                    "image": "placeholder/worker:from-the-file",
                    "essential": True,
                    "logConfiguration": LOGS,
                    "portMappings": [{"containerPort": 9000, "protocol": "tcp"}],
                    "environment": [{"name": "FROM_FILE", "value": "1"}, {"name": "LOG_LEVEL", "value": "file"}],
                    "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 30},
                },
                {"name": "otel", "image": "otel/collector:0.100", "essential": False},
            ],
        },
        "tags": [],
    }


@pytest.fixture
def staging(ecs_aws: str, ecs_database: str, smoke_endpoint: Endpoint, network: None) -> Cloud:  # noqa: F811
    smoke_endpoint.status = 200
    return Cloud("staging", ecs_database, desired={"api": 1}).create()  # no worker service: deploys create it


@pytest.fixture
def taskdef_file(ecs_repo: Path) -> Any:
    path = ecs_repo / "services" / "worker" / ".aws" / "task-definition.json"
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(content: dict[str, Any], message: str) -> None:
        path.write_text(json.dumps(content, indent=2))
        git(ecs_repo, "add", "-A")
        git(ecs_repo, "commit", "-qm", message)

    yield write
    if path.exists():
        path.unlink()
        git(ecs_repo, "commit", "-qam", "no task-definition file")


def run(root: Path, plan_only: bool = False) -> tuple[list[Any], str]:
    said: list[str] = []
    results = deploy(
        load_project(root), "staging", DeployOptions(services=("worker",), plan_only=plan_only), say=said.append
    )
    return results, "\n".join(said)


def running(cloud: Cloud) -> dict[str, Any]:
    arn = cloud.service("worker")["taskDefinition"]
    return dict(cloud.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"])


def test_the_file_is_the_base_of_the_service_it_creates_and_of_every_revision(
    ecs_repo: Path, staging: Cloud, taskdef_file: Any
) -> None:
    taskdef_file(describe_output(), "worker: a task-definition file")
    results, out = run(ecs_repo)
    assert [(r.unit, r.status) for r in results] == [("worker", PASSED)], out
    td = running(staging)
    assert (td["family"], td["cpu"], td["memory"], td["taskRoleArn"]) == ("worker-staging", "1024", "2048", TASK_ROLE)
    worker, otel = td["containerDefinitions"]
    assert otel == {**otel, "name": "otel", "image": "otel/collector:0.100", "essential": False}  # the sidecar kept
    assert worker["image"] == results[0].details["artifact"] and "@sha256:" in worker["image"]
    assert worker["logConfiguration"] == LOGS and worker["portMappings"][0]["containerPort"] == 9000
    assert worker["healthCheck"]["command"] == ["CMD-SHELL", "true"]
    env = {e["name"]: e["value"] for e in worker["environment"]}
    assert env["FROM_FILE"] == "1" and env["LOG_LEVEL"] == "debug"  # shipyard's settings win by name
    assert [s["name"] for s in worker["secrets"]] == ["DATABASE_URL"]

    again, out = run(ecs_repo)
    assert again == [] and "nothing to deploy" in out, out

    changed = describe_output()
    changed["taskDefinition"]["containerDefinitions"][0]["portMappings"] = [{"containerPort": 9100}]
    changed["taskDefinition"]["memory"] = "4096"
    taskdef_file(changed, "worker: another port, more memory")
    _, plan = run(ecs_repo, plan_only=True)
    assert "memory: 2048 -> 4096" in plan and "container worker: portMappings changed" in plan, plan
    results, out = run(ecs_repo)
    assert [(r.unit, r.status) for r in results] == [("worker", PASSED)], out
    assert running(staging)["containerDefinitions"][0]["portMappings"][0]["containerPort"] == 9100


def test_a_revision_changed_outside_shipyard_is_drift_in_the_plan(
    ecs_repo: Path, staging: Cloud, taskdef_file: Any
) -> None:
    taskdef_file(describe_output(), "worker: a task-definition file")
    results, out = run(ecs_repo)
    assert [(r.unit, r.status) for r in results] == [("worker", PASSED)], out
    # a console edit: a new revision without shipyard's tags, the service pointed at it
    ecs = boto3.client("ecs", region_name="us-east-1")
    edited = {k: v for k, v in running(staging).items() if k in ("family", "networkMode", "executionRoleArn")}
    containers = running(staging)["containerDefinitions"]
    containers[0] = {**containers[0], "portMappings": [{"containerPort": 9999, "protocol": "tcp"}]}
    arn = ecs.register_task_definition(
        **edited, cpu="512", memory="2048", containerDefinitions=containers, requiresCompatibilities=["FARGATE"]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster="staging", service="worker", taskDefinition=arn)

    _, plan = run(ecs_repo, plan_only=True)
    assert f"drift: {arn.rsplit('/', 1)[-1]} was not registered by shipyard" in plan, plan
    assert "cpu: 512 -> 1024" in plan and "container worker: portMappings changed" in plan
    assert "taskRoleArn: (none) -> " + TASK_ROLE in plan
    assert "parameter/staging" not in plan and "sydeploy_" not in plan  # secrets by name only
    cli = run_invoke(ecs_repo, "deploy", "--env", "staging", "--plan", "--service", "worker")
    assert cli.returncode == 0 and "drift:" in cli.stdout, cli.stdout + cli.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "services/worker/.aws/task-definition.json: not valid JSON"),
        (
            json.dumps({"containerDefinitions": [{"name": "app", "image": "x"}, {"name": "otel", "image": "y"}]}),
            "services/worker/.aws/task-definition.json: no container named 'worker' among 'app', 'otel'",
        ),
        (json.dumps({"family": "worker"}), "services/worker/.aws/task-definition.json: no containerDefinitions"),
    ],
)
def test_a_bad_file_is_one_error_before_anything_is_deployed(ecs_repo: Path, content: str, message: str) -> None:
    path = ecs_repo / "services" / "worker" / ".aws" / "task-definition.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    try:
        with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
            load_project(ecs_repo)
        cli = run_invoke(ecs_repo, "deploy", "--env", "staging", "--plan")
        assert cli.returncode == 1 and "Traceback" not in cli.stderr
        assert f"error: {message}" in cli.stderr and "hint: " in cli.stderr, cli.stderr
    finally:
        path.unlink()


def test_a_named_file_that_does_not_exist_is_an_error(ecs_repo: Path) -> None:
    unit = ecs_repo / "services" / "worker" / "pyproject.toml"
    original = unit.read_text()
    unit.write_text(original.replace('kind = "service"\n', 'kind = "service"\ntask-definition = "deploy/{env}.json"\n'))
    try:
        with pytest.raises(ConfigError, match=r"deploy/staging\.json: no such file") as caught:
            load_project(ecs_repo)
        assert "relative to the repository root" in str(caught.value.hint)
    finally:
        unit.write_text(original)
