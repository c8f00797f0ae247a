"""ECS roll-out states moto does not model, on botocore's Stubber with recorded response shapes:
IN_PROGRESS -> COMPLETED, FAILED, a circuit-breaker rollback, and a timeout with stopped-task reasons."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from shipyard.core.project import Unit
from shipyard.deploy.target import DeployFailed, Progress, Release
from shipyard.deploy.targets.ecs_wait import RolloutWatch, verdict

CLUSTER, SERVICE = "shipyard", "api"
ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/api-staging:8"
OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/api-staging:7"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/shipyard/0f1e2d3c4b5a"
WHEN = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def ecs() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "ecs",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        endpoint_url="https://ecs.us-east-1.amazonaws.com",
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def deployment(
    dep_id: str,
    taskdef: str,
    state: str,
    *,
    status: str = "PRIMARY",
    running: int = 0,
    reason: str = "",
    failed: int = 0,
) -> dict[str, Any]:
    return {
        "id": dep_id,
        "status": status,
        "taskDefinition": taskdef,
        "desiredCount": 2,
        "pendingCount": 2 - running,
        "runningCount": running,
        "failedTasks": failed,
        "createdAt": WHEN,
        "updatedAt": WHEN,
        "launchType": "FARGATE",
        "rolloutState": state,
        "rolloutStateReason": reason or f"ECS deployment {state}",
    }


def service(taskdef: str, deployments: list[dict[str, Any]], events: list[tuple[str, str]] = ()) -> dict[str, Any]:
    return {
        "services": [
            {
                "serviceName": SERVICE,
                "clusterArn": f"arn:aws:ecs:us-east-1:123456789012:cluster/{CLUSTER}",
                "status": "ACTIVE",
                "taskDefinition": taskdef,
                "desiredCount": 2,
                "deployments": deployments,
                "events": [{"id": i, "createdAt": WHEN, "message": m} for i, m in events],
            }
        ]
    }


def expect_poll(stub: Stubber, described: dict[str, Any], stopped: list[dict[str, Any]] = ()) -> None:
    stub.add_response("describe_services", described, {"cluster": CLUSTER, "services": [SERVICE]})
    stub.add_response(
        "list_tasks",
        {"taskArns": [t["taskArn"] for t in stopped]},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    if stopped:
        stub.add_response("describe_tasks", {"tasks": list(stopped)}, {"cluster": CLUSTER, "tasks": ANY})


def watch(client: Any, clock: Clock, timeout: float = 600) -> RolloutWatch:
    return RolloutWatch(client, CLUSTER, SERVICE, timeout=timeout, poll=15, clock=clock, sleep=clock.sleep)


def progress(lines: list[str]) -> Progress:
    return Progress(SERVICE, lines.append)


def test_in_progress_then_completed_shows_progress_and_new_events(ecs: tuple[Any, Stubber]) -> None:
    client, stub = ecs
    old_events = [("e1", "(service api) has reached a steady state.")]
    expect_poll(
        stub,
        service(
            ARN,
            [deployment("d2", ARN, "IN_PROGRESS"), deployment("d1", OLD, "COMPLETED", status="ACTIVE", running=2)],
            old_events,
        ),
    )
    events = [("e2", "(service api) has started 2 tasks: (task 0f1e) (task 9a8b)."), *old_events]
    expect_poll(stub, service(ARN, [deployment("d2", ARN, "IN_PROGRESS", running=1)], events))
    expect_poll(stub, service(ARN, [deployment("d2", ARN, "COMPLETED", running=2)], events))
    lines: list[str] = []
    clock = Clock()
    watch(client, clock).wait(ARN, "d2", progress(lines))
    assert lines == [
        "  api: 0/2 running, 2 pending, 0 failed (IN_PROGRESS)",
        "  api: event: (service api) has started 2 tasks: (task 0f1e) (task 9a8b).",
        "  api: 1/2 running, 1 pending, 0 failed (IN_PROGRESS)",
        "  api: 2/2 running, 0 pending, 0 failed (COMPLETED)",
    ]
    assert clock.now == 30  # two polls waited, none after the verdict


def test_rollout_state_failed_is_a_failure(ecs: tuple[Any, Stubber]) -> None:
    client, stub = ecs
    reason = "ECS deployment d2 failed: tasks failed to start."
    expect_poll(stub, service(ARN, [deployment("d2", ARN, "FAILED", reason=reason, failed=3)]))
    with pytest.raises(DeployFailed) as info:
        watch(client, Clock()).wait(ARN, "d2", progress([]))
    assert info.value.reason == f"roll-out failed: {reason}"


def test_a_circuit_breaker_rollback_is_a_failure_not_a_success(ecs: tuple[Any, Stubber]) -> None:
    """The complaint: "deploy reported success although ECS had rolled it back"."""
    client, stub = ecs
    expect_poll(stub, service(ARN, [deployment("d2", ARN, "IN_PROGRESS")]))
    # ECS gave up on d2 and started d3 with the previous task definition; d2 is now ACTIVE.
    rolled = service(
        OLD,
        [
            deployment("d3", OLD, "IN_PROGRESS", running=1),
            deployment(
                "d2", ARN, "FAILED", status="ACTIVE", reason="ECS deployment circuit breaker: tasks failed to start."
            ),
        ],
        [("e9", "(service api) deployment d2 deployment failed: rolling back to deployment d3.")],
    )
    expect_poll(stub, rolled)
    with pytest.raises(DeployFailed) as info:
        watch(client, Clock()).wait(ARN, "d2", progress([]))
    assert info.value.reason == (
        "ECS rolled the service back to api-staging:7 (ECS deployment circuit breaker: tasks failed to start.)"
        ": (service api) deployment d2 deployment failed: rolling back to deployment d3."
    )
    # the same description judged on its own (pure)
    assert verdict(rolled["services"][0], "d2", ARN).startswith("ECS rolled the service back to api-staging:7")


def stopped_task(arn: str, reason: str, exit_code: int, container_reason: str = "") -> dict[str, Any]:
    container: dict[str, Any] = {"name": "api", "exitCode": exit_code, "lastStatus": "STOPPED"}
    if container_reason:
        container["reason"] = container_reason
    return {
        "taskArn": arn,
        "taskDefinitionArn": ARN,
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "stoppedReason": reason,
        "stopCode": "EssentialContainerExited",
        "containers": [container],
    }


def test_a_timeout_names_the_stopped_tasks_reasons_as_they_arrive(ecs: tuple[Any, Stubber]) -> None:
    client, stub = ecs
    first = stopped_task(TASK, "Essential container in task exited", 1)
    second = stopped_task(
        TASK + "ff",
        "CannotPullContainerError: pull image manifest has been retried 5 times",
        255,
        "CannotPullContainerError",
    )
    in_progress = service(ARN, [deployment("d2", ARN, "IN_PROGRESS")])
    expect_poll(stub, in_progress, [first])
    expect_poll(stub, in_progress, [first, second])
    expect_poll(stub, in_progress, [first, second])
    lines: list[str] = []
    with pytest.raises(DeployFailed) as info:
        watch(client, Clock(), timeout=30).wait(ARN, "d2", progress(lines))
    assert lines == [
        "  api: 0/2 running, 2 pending, 0 failed (IN_PROGRESS)",
        "  api: task 0f1e2d3c4b5a stopped: Essential container in task exited; api: exit 1",
        "  api: task 0f1e2d3c4b5aff stopped: CannotPullContainerError: pull image manifest has been retried 5 times;"
        " api: exit 255, CannotPullContainerError",
    ]
    assert info.value.reason == (
        "timed out after 30s waiting for api-staging:8 to become healthy; stopped tasks: "
        "Essential container in task exited; api: exit 1 | CannotPullContainerError: pull image manifest has been "
        "retried 5 times; api: exit 255, CannotPullContainerError"
    )


def test_deploy_registers_the_image_by_digest_and_secrets_by_reference(ecs: tuple[Any, Stubber]) -> None:
    from shipyard.deploy.target import TargetContext
    from shipyard.deploy.targets.ecs import EcsTarget
    from shipyard.settings import Setting, Settings
    from shipyard.settings.refs import SecretRef

    client, stub = ecs
    unit = Unit(
        "api",
        "service",
        "services/api",
        "services/api/pyproject.toml",
        {"cpu": 256, "memory": 512, "port": 8000, "command": [], "deploy-after": []},
        ">=3.10",
        True,
    )
    env = {"cluster": CLUSTER, "region": "us-east-1", "deploy-timeout": 60, "execution-role-arn": "arn:role/exec"}
    target = EcsTarget(
        TargetContext(None, "staging", env, "123456789012"),
        client=client,
        poll=1,  # type: ignore[arg-type]
        clock=Clock(),
        sleep=lambda _: None,
    )
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:" + "a" * 64
    settings = Settings(
        "api",
        "staging",
        (
            Setting("DATABASE_URL", SecretRef("ssm", "/staging/api/database-url"), ".env.staging", True),
            Setting("LOG_LEVEL", "info", "default", False),
        ),
    )
    current = {
        "family": "api-staging",
        "taskDefinitionArn": OLD,
        "revision": 7,
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "requiresCompatibilities": ["FARGATE"],
        "status": "ACTIVE",
        "containerDefinitions": [
            {
                "name": "api",
                "image": "old@sha256:" + "b" * 64,
                "essential": True,
                "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
            }
        ],
    }
    stub.add_response("describe_services", service(OLD, [deployment("d1", OLD, "COMPLETED", running=2)]))
    stub.add_response(
        "describe_task_definition",
        {"taskDefinition": current, "tags": []},
        {"taskDefinition": OLD, "include": ["TAGS"]},
    )
    registered = {**current, "taskDefinitionArn": ARN, "revision": 8}
    stub.add_response(
        "register_task_definition",
        {"taskDefinition": registered},
        {
            "family": "api-staging",
            "networkMode": "awsvpc",
            "cpu": "256",
            "memory": "512",
            "requiresCompatibilities": ["FARGATE"],
            "executionRoleArn": "arn:role/exec",
            "containerDefinitions": [
                {
                    "name": "api",
                    "image": image,
                    "essential": True,
                    "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
                    "environment": [{"name": "LOG_LEVEL", "value": "info"}],
                    "secrets": [
                        {
                            "name": "DATABASE_URL",
                            "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/staging/api/database-url",
                        }
                    ],
                }
            ],
            "tags": [
                {"key": "shipyard:fingerprint", "value": "f" * 64},
                {"key": "shipyard:git-sha", "value": "abc123"},
            ],
        },
    )
    stub.add_response("describe_services", service(OLD, [deployment("d1", OLD, "COMPLETED", running=2)]))
    updated = service(ARN, [deployment("d2", ARN, "IN_PROGRESS")])["services"][0]
    stub.add_response(
        "update_service", {"service": updated}, {"cluster": CLUSTER, "service": SERVICE, "taskDefinition": ARN}
    )
    expect_poll(stub, service(ARN, [deployment("d2", ARN, "COMPLETED", running=2)]))
    running = target.deploy(unit, Release("api", "f" * 64, image, "abc123"), settings, progress([]))
    assert (running.revision, running.artifact) == (ARN, image)


def test_a_one_off_migration_task_reports_its_exit_code(ecs: tuple[Any, Stubber]) -> None:
    """migrate-via = "ecs": `alembic upgrade head` as a one-off task of the new revision."""
    from shipyard.deploy.target import TargetContext
    from shipyard.deploy.targets.ecs import EcsTarget

    client, stub = ecs
    unit = Unit("api", "service", "services/api", "x", {}, "", True)
    env = {"cluster": CLUSTER, "subnets": ["subnet-1"], "security-groups": ["sg-1"], "deploy-timeout": 60}
    clock = Clock()
    target = EcsTarget(
        TargetContext(None, "staging", env),
        client=client,
        poll=5,  # type: ignore[arg-type]
        clock=clock,
        sleep=clock.sleep,
    )
    taskdef = {"family": "api-staging", "taskDefinitionArn": ARN, "containerDefinitions": [{"name": "api"}]}
    stub.add_response("describe_task_definition", {"taskDefinition": taskdef, "tags": []})
    command = ["alembic", "-c", "/app/alembic.ini", "upgrade", "head"]
    stub.add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK, "lastStatus": "PROVISIONING"}]},
        {
            "cluster": CLUSTER,
            "taskDefinition": ARN,
            "launchType": "FARGATE",
            "startedBy": "shipyard-migrate",
            "overrides": {"containerOverrides": [{"name": "api", "command": command}]},
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": ["subnet-1"],
                    "securityGroups": ["sg-1"],
                    "assignPublicIp": "DISABLED",
                }
            },
        },
    )
    stub.add_response("describe_tasks", {"tasks": [{"taskArn": TASK, "lastStatus": "RUNNING"}]})
    stub.add_response("describe_tasks", {"tasks": [stopped_task(TASK, "Essential container in task exited", 1, "")]})
    lines: list[str] = []
    done = target.run_once(unit, ARN, command, progress(lines))
    assert (done.code, done.reason, done.task_arn) == (1, "Essential container in task exited; api: exit 1", TASK)
    assert done.output is None  # no awslogs configuration: nothing to read the output from
    assert lines == ["  api: one-off task 0f1e2d3c4b5a: RUNNING", "  api: one-off task 0f1e2d3c4b5a: STOPPED"]
