"""Blue/green, canary and linear service deployments, which moto does not model, on botocore's Stubber.

Every response is checked by the Stubber against botocore's ECS service model
(DescribeServiceDeployments' ServiceDeployment, ListServiceDeployments' brief, Service), so
the shapes are the real API's: success, an alarm rollback, a rollback during bake time, a
failed lifecycle hook, and a timeout that names the stopped tasks' reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from shipyard.core.project import Unit
from shipyard.deploy.target import DeployFailed, Progress, Release, TargetContext
from shipyard.deploy.targets.ecs import EcsTarget
from shipyard.deploy.targets.ecs_deployments import ServiceDeploymentWatch, deployment_verdict
from shipyard.settings import Settings

CLUSTER, SERVICE = "shipyard", "api"
ACCOUNT = "123456789012"
ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/api-production:8"
OLD = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/api-production:7"
SD = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-deployment/{CLUSTER}/{SERVICE}/NCWGC2ZR-taUVC_oFNnmA"
GREEN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-revision/{CLUSTER}/{SERVICE}/4980306466373577095"
BLUE = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-revision/{CLUSTER}/{SERVICE}/4980306466373571234"
HOOK = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:api-smoke-test"
TASK = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/{CLUSTER}/0f1e2d3c4b5a"
WHEN = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-blue/0123456789abcdef"
TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-green/fedcba9876543210"
RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/prod/0123/4567/89ab"
ROLE = "arn:aws:iam::123456789012:role/ecs-blue-green"

# the stages each strategy passes through, with the production traffic share of the new revision
STAGES: dict[str, list[tuple[str, float]]] = {
    "blue-green": [("SCALE_UP", 0.0), ("TEST_TRAFFIC_SHIFT", 0.0), ("PRODUCTION_TRAFFIC_SHIFT", 100.0)],
    "canary": [("SCALE_UP", 0.0), ("PRODUCTION_TRAFFIC_SHIFT", 10.0), ("PRODUCTION_TRAFFIC_SHIFT", 100.0)],
    "linear": [
        ("PRODUCTION_TRAFFIC_SHIFT", 20.0),
        ("PRODUCTION_TRAFFIC_SHIFT", 60.0),
        ("PRODUCTION_TRAFFIC_SHIFT", 100.0),
    ],
}
STRATEGIES = tuple(STAGES)


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


def service_deployment(
    status: str, stage: str, weight: float | None = None, *, running: int = 2, **extra: Any
) -> dict[str, Any]:
    target: dict[str, Any] = {"arn": GREEN, "requestedTaskCount": 2, "runningTaskCount": running, "pendingTaskCount": 0}
    if weight is not None:
        target["requestedProductionTrafficWeight"] = weight
        target["requestedTestTrafficWeight"] = 100.0
    return {
        "serviceDeploymentArn": SD,
        "serviceArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{CLUSTER}/{SERVICE}",
        "clusterArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{CLUSTER}",
        "createdAt": WHEN,
        "startedAt": WHEN,
        "updatedAt": WHEN,
        "sourceServiceRevisions": [{"arn": BLUE, "requestedTaskCount": 2, "runningTaskCount": 2}],
        "targetServiceRevision": target,
        "status": status,
        "lifecycleStage": stage,
        **extra,
    }


def described(events: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "services": [
            {
                "serviceName": SERVICE,
                "status": "ACTIVE",
                "taskDefinition": ARN,
                "events": [{"id": i, "createdAt": WHEN, "message": m} for i, m in events],
            }
        ]
    }


def stopped_task(arn: str, reason: str) -> dict[str, Any]:
    return {
        "taskArn": arn,
        "taskDefinitionArn": ARN,
        "lastStatus": "STOPPED",
        "stoppedReason": reason,
        "containers": [{"name": "api", "exitCode": 1, "lastStatus": "STOPPED"}],
    }


def expect_poll(
    stub: Stubber,
    deployment: dict[str, Any],
    events: list[tuple[str, str]] = (),  # type: ignore[assignment]
    stopped: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> None:
    stub.add_response(
        "describe_service_deployments", {"serviceDeployments": [deployment]}, {"serviceDeploymentArns": [SD]}
    )
    stub.add_response("describe_services", described(list(events)), {"cluster": CLUSTER, "services": [SERVICE]})
    stub.add_response(
        "list_tasks",
        {"taskArns": [t["taskArn"] for t in stopped]},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    if stopped:
        stub.add_response("describe_tasks", {"tasks": list(stopped)}, {"cluster": CLUSTER, "tasks": ANY})


def in_progress(stub: Stubber, strategy: str) -> None:
    """The strategy's stages up to its full production traffic share, all IN_PROGRESS."""
    for stage, weight in STAGES[strategy]:
        expect_poll(stub, service_deployment("IN_PROGRESS", stage, weight))


def wait(client: Any, lines: list[str] | None = None, timeout: float = 3600) -> None:
    clock = Clock()
    watch = ServiceDeploymentWatch(client, CLUSTER, SERVICE, timeout=timeout, poll=30, clock=clock, sleep=clock.sleep)
    watch.wait_deployment(ARN, SD, WHEN, Progress(SERVICE, (lines if lines is not None else []).append))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_success_shows_stage_and_traffic_share(ecs: tuple[Any, Stubber], strategy: str) -> None:
    client, stub = ecs
    in_progress(stub, strategy)
    expect_poll(stub, service_deployment("IN_PROGRESS", "BAKE_TIME", 100.0))
    expect_poll(stub, service_deployment("SUCCESSFUL", "CLEAN_UP", 100.0, finishedAt=WHEN))
    lines: list[str] = []
    wait(client, lines)
    expected = [
        f"  api: IN_PROGRESS, stage {stage}, {w:g}% of production traffic, 100% of test traffic, 2/2 tasks running"
        for stage, w in STAGES[strategy]
    ]
    expected = list(dict.fromkeys(expected))  # a repeated line is shown once
    assert lines[: len(expected)] == expected
    assert lines[len(expected) :] == [
        "  api: IN_PROGRESS, stage BAKE_TIME, 100% of production traffic, 100% of test traffic, 2/2 tasks running",
        "  api: SUCCESSFUL, stage CLEAN_UP, 100% of production traffic, 100% of test traffic, 2/2 tasks running",
    ]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_alarm_rollback_fails_with_the_alarm_and_the_events(ecs: tuple[Any, Stubber], strategy: str) -> None:
    client, stub = ecs
    stage, weight = STAGES[strategy][1]
    expect_poll(
        stub, service_deployment("IN_PROGRESS", stage, weight), [("e1", "(service api) has reached a steady state.")]
    )
    rollback = {"reason": "Alarm api-5xx went into ALARM.", "startedAt": WHEN, "serviceRevisionArn": BLUE}
    alarms = {"status": "TRIGGERED", "alarmNames": ["api-5xx", "api-latency"], "triggeredAlarmNames": ["api-5xx"]}
    events = [
        ("e2", "(service api) deployment rolling back: alarm api-5xx."),
        ("e1", "(service api) has reached a steady state."),
    ]
    expect_poll(
        stub, service_deployment("ROLLBACK_IN_PROGRESS", stage, weight, rollback=rollback, alarms=alarms), events
    )
    expect_poll(
        stub,
        service_deployment("ROLLBACK_SUCCESSFUL", stage, 0.0, rollback=rollback, alarms=alarms, finishedAt=WHEN),
        events,
    )
    lines: list[str] = []
    with pytest.raises(DeployFailed) as info:
        wait(client, lines)
    assert info.value.reason == (
        "ECS rolled the deployment back to service revision 4980306466373571234: "
        f"Alarm api-5xx went into ALARM. (at {stage}); alarm api-5xx triggered; "
        "ECS events: (service api) deployment rolling back: alarm api-5xx."
    )
    assert f"  api: ECS is rolling back: Alarm api-5xx went into ALARM. (at {stage}); alarm api-5xx triggered" in lines
    assert "  api: event: (service api) deployment rolling back: alarm api-5xx." in lines


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_rollback_during_bake_time_names_the_bake_time(ecs: tuple[Any, Stubber], strategy: str) -> None:
    client, stub = ecs
    in_progress(stub, strategy)
    expect_poll(stub, service_deployment("IN_PROGRESS", "BAKE_TIME", 100.0))
    rollback = {"reason": "Alarm api-latency went into ALARM during bake time.", "startedAt": WHEN}
    alarms = {"status": "TRIGGERED", "alarmNames": ["api-latency"], "triggeredAlarmNames": ["api-latency"]}
    # ECS reports the rollback's own stage now; the verdict names the stage the deployment failed in
    expect_poll(stub, service_deployment("ROLLBACK_REQUESTED", "RECONCILE_SERVICE", 100.0, rollback=rollback))
    expect_poll(stub, service_deployment("ROLLBACK_SUCCESSFUL", "CLEAN_UP", 0.0, rollback=rollback, alarms=alarms))
    with pytest.raises(DeployFailed) as info:
        wait(client)
    assert info.value.reason == (
        "ECS rolled the deployment back: "
        "Alarm api-latency went into ALARM during bake time. (at BAKE_TIME); alarm api-latency triggered"
    )


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_failed_lifecycle_hook_is_named(ecs: tuple[Any, Stubber], strategy: str) -> None:
    client, stub = ecs
    hook = {
        "hookId": "h-1",
        "targetType": "AWS_LAMBDA",
        "targetArn": HOOK,
        "status": "FAILED",
        "timeoutAction": "ROLLBACK",
    }
    expect_poll(stub, service_deployment("IN_PROGRESS", "POST_SCALE_UP", 0.0))
    failed = service_deployment(
        "ROLLBACK_SUCCESSFUL",
        "POST_SCALE_UP",
        0.0,
        statusReason="Lifecycle hook failed at stage POST_SCALE_UP.",
        lifecycleHookDetails=[hook],
    )
    expect_poll(stub, failed)
    with pytest.raises(DeployFailed) as info:
        wait(client)
    assert info.value.reason == (
        "ECS rolled the deployment back: "
        f"Lifecycle hook failed at stage POST_SCALE_UP. (at POST_SCALE_UP); lifecycle hook {HOOK} FAILED"
    )


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_timeout_shows_the_stopped_tasks_reasons(ecs: tuple[Any, Stubber], strategy: str) -> None:
    client, stub = ecs
    stage, weight = STAGES[strategy][0]
    first = stopped_task(TASK, "Task failed ELB health checks in (target-group api-green)")
    second = stopped_task(TASK + "ff", "CannotPullContainerError: pull image manifest has been retried 5 times")
    stuck = service_deployment("IN_PROGRESS", stage, weight, running=0)
    expect_poll(stub, stuck, stopped=[first])
    expect_poll(stub, stuck, stopped=[first, second])
    expect_poll(stub, stuck, stopped=[first, second])
    lines: list[str] = []
    with pytest.raises(DeployFailed) as info:
        wait(client, lines, timeout=60)
    assert info.value.reason == (
        "timed out after 60s waiting for the service deployment of api-production:8 (still IN_PROGRESS, "
        f"stage {stage}, {weight:g}% of production traffic, 100% of test traffic, 0/2 tasks running); stopped tasks: "
        "Task failed ELB health checks in (target-group api-green); api: exit 1 | "
        "CannotPullContainerError: pull image manifest has been retried 5 times; api: exit 1"
    )
    assert (
        "  api: task 0f1e2d3c4b5aff stopped: CannotPullContainerError: pull image manifest has been retried 5 times;"
        " api: exit 1" in lines
    )


def test_stopped_and_failed_rollbacks_are_failures_pending_is_not() -> None:
    assert deployment_verdict(
        service_deployment("STOPPED", "SCALE_UP", statusReason="stopped by a newer deployment")
    ) == ("the service deployment was stopped: stopped by a newer deployment (at SCALE_UP)")
    assert deployment_verdict(service_deployment("ROLLBACK_FAILED", "CLEAN_UP", statusReason="x")).startswith(
        "ECS's rollback failed, the service needs a look: x"
    )
    for status in ("PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"):
        assert deployment_verdict(service_deployment(status, "SCALE_UP")) == ""


# -- the whole deploy: update_service's arguments, then the service deployment it started ----------

UNIT_SETTINGS = {"cpu": 256, "memory": 512, "port": 8000, "command": [], "deploy-after": []}
ENV_KEYS: dict[str, dict[str, Any]] = {
    "blue-green": {"strategy": "blue-green", "bake-time": 15},
    "canary": {"strategy": "canary", "canary-percent": 10, "canary-interval": 5},
    "linear": {"strategy": "linear", "linear-percent": 20, "linear-interval": 2, "bake-time": 0},
}
EXPECTED_CONFIG: dict[str, dict[str, Any]] = {
    "blue-green": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 15},
    "canary": {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}},
    "linear": {
        "strategy": "LINEAR",
        "bakeTimeInMinutes": 0,
        "linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": 2},
    },
}
TASKDEF = {
    "family": "api-production",
    "taskDefinitionArn": OLD,
    "revision": 7,
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [{"name": "api", "image": "old@sha256:" + "b" * 64, "essential": True}],
}


HOOKS = {  # as the schema leaves them: a table of named hooks
    "smoke": {"lambda-arn": HOOK, "role-arn": ROLE, "stages": ["POST_TEST_TRAFFIC_SHIFT"]},
    "approve": {"lambda-arn": HOOK + "-approve", "role-arn": ROLE, "stages": ["PRE_SCALE_UP", "POST_SCALE_UP"]},
}
SENT_HOOKS = [  # sorted by name
    {"hookTargetArn": HOOK + "-approve", "roleArn": ROLE, "lifecycleStages": ["PRE_SCALE_UP", "POST_SCALE_UP"]},
    {"hookTargetArn": HOOK, "roleArn": ROLE, "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]},
]


def target(client: Any, strategy: str, hooks: dict[str, Any] | None = None) -> EcsTarget:
    env = {
        "cluster": CLUSTER,
        "region": "us-east-1",
        "deploy-timeout": 600,
        "alarms": ["api-5xx"],
        "services": {
            "api": {
                **ENV_KEYS[strategy],
                "target-group": TG,
                "alternate-target-group": TG2,
                "production-listener-rule": RULE,
                "load-balancer-role": ROLE,
                **({"lifecycle-hooks": hooks} if hooks else {}),
            }
        },
    }
    clock = Clock()
    return EcsTarget(
        TargetContext(None, "production", env, ACCOUNT),  # type: ignore[arg-type]
        client=client,
        poll=30,
        clock=clock,
        sleep=clock.sleep,
    )


def current_service(taskdef: str, strategy: str = "ROLLING") -> dict[str, Any]:
    return {
        "serviceName": SERVICE,
        "serviceArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{CLUSTER}/{SERVICE}",
        "status": "ACTIVE",
        "taskDefinition": taskdef,
        "deploymentConfiguration": {"strategy": strategy},
        "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "taskDefinition": taskdef}],
    }


@pytest.mark.parametrize("hooks", [False, True], ids=["", "lifecycle-hooks"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_deploy_passes_the_strategy_and_waits_on_the_listed_service_deployment(
    ecs: tuple[Any, Stubber], strategy: str, hooks: bool
) -> None:
    """The request is checked against botocore's model (DeploymentLifecycleHook's shape) and compared exactly."""
    client, stub = ecs
    stub.add_response("describe_services", {"services": [current_service(OLD)]})
    stub.add_response("describe_task_definition", {"taskDefinition": TASKDEF, "tags": []})
    stub.add_response("register_task_definition", {"taskDefinition": {**TASKDEF, "taskDefinitionArn": ARN}})
    stub.add_response("describe_services", {"services": [current_service(OLD)]})
    stub.add_response("describe_task_definition", {"taskDefinition": {**TASKDEF, "taskDefinitionArn": ARN}, "tags": []})
    config = {
        **EXPECTED_CONFIG[strategy],
        "alarms": {"alarmNames": ["api-5xx"], "enable": True, "rollback": True},
        **({"lifecycleHooks": SENT_HOOKS} if hooks else {}),
    }
    balancers = [
        {
            "targetGroupArn": TG,
            "containerName": "api",
            "containerPort": 8000,
            "advancedConfiguration": {"alternateTargetGroupArn": TG2, "productionListenerRule": RULE, "roleArn": ROLE},
        }
    ]
    updated = {**current_service(ARN, EXPECTED_CONFIG[strategy]["strategy"]), "deploymentConfiguration": config}
    stub.add_response(
        "update_service",
        {"service": updated},  # no currentServiceDeployment: found with ListServiceDeployments
        {
            "cluster": CLUSTER,
            "service": SERVICE,
            "taskDefinition": ARN,
            "deploymentConfiguration": config,
            "loadBalancers": balancers,
        },
    )
    brief = {"serviceDeploymentArn": SD, "createdAt": WHEN, "status": "IN_PROGRESS", "targetServiceRevisionArn": GREEN}
    stub.add_response(
        "list_service_deployments",
        {"serviceDeployments": [brief]},
        {"cluster": CLUSTER, "service": SERVICE, "createdAt": {"after": ANY}},
    )
    expect_poll(stub, service_deployment("SUCCESSFUL", "CLEAN_UP", 100.0))
    image = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/api@sha256:" + "a" * 64
    unit = Unit("api", "service", "services/api", "services/api/pyproject.toml", UNIT_SETTINGS, ">=3.10", True)
    lines: list[str] = []
    running = target(client, strategy, HOOKS if hooks else None).deploy(
        unit, Release("api", "f" * 64, image), Settings("api", "production", ()), Progress(SERVICE, lines.append)
    )
    assert running.revision == ARN
    assert (
        "  api: SUCCESSFUL, stage CLEAN_UP, 100% of production traffic, 100% of test traffic, 2/2 tasks running"
        in lines
    )


def test_the_wait_allows_for_the_bake_times() -> None:
    from shipyard.deploy.targets.ecs_strategy import patience

    assert patience({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 15}) == 15 * 60
    assert patience({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.0}}) == 10 * 60  # ECS default
    # 20% steps: 5 steps, 4 waits of 2 minutes, then the bake time
    linear = {
        "strategy": "LINEAR",
        "bakeTimeInMinutes": 3,
        "linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": 2},
    }
    assert patience(linear) == (3 + 4 * 2) * 60
    assert patience({"strategy": "ROLLING"}) == 0


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_after_ecs_rolled_back_the_rollback_deploys_nothing_more(ecs: tuple[Any, Stubber], strategy: str) -> None:
    """The transaction's rollback after ROLLBACK_SUCCESSFUL: the service runs the previous revision already."""
    from shipyard.deploy.target import Running

    client, stub = ecs
    on_old = current_service(OLD, EXPECTED_CONFIG[strategy]["strategy"])
    stub.add_response("describe_services", {"services": [on_old]})
    lines: list[str] = []
    unit = Unit("api", "service", "services/api", "services/api/pyproject.toml", UNIT_SETTINGS, ">=3.10", True)
    previous = Running("api", OLD, "old@sha256:" + "b" * 64)
    assert target(client, strategy).rollback(unit, previous, Progress(SERVICE, lines.append)) == previous
    assert lines == ["  api: ECS already rolled the service back to api-production:7"]


def test_a_rollback_after_a_failed_smoke_check_deploys_the_previous_revision(ecs: tuple[Any, Stubber]) -> None:
    """ECS called the deployment SUCCESSFUL, the smoke check did not: the service is on the new revision."""
    from shipyard.deploy.target import Running

    client, stub = ecs
    on_new = current_service(ARN, "BLUE_GREEN")
    stub.add_response("describe_services", {"services": [on_new]})
    stub.add_response("describe_services", {"services": [on_new]})
    stub.add_response("describe_task_definition", {"taskDefinition": TASKDEF, "tags": []})
    back = {**current_service(OLD, "BLUE_GREEN"), "currentServiceDeployment": SD}
    stub.add_response("update_service", {"service": back})
    expect_poll(stub, service_deployment("SUCCESSFUL", "CLEAN_UP", 100.0))
    unit = Unit("api", "service", "services/api", "services/api/pyproject.toml", UNIT_SETTINGS, ">=3.10", True)
    previous = Running("api", OLD, "old@sha256:" + "b" * 64)
    lines: list[str] = []
    target(client, "blue-green").rollback(unit, previous, Progress(SERVICE, lines.append))
    assert lines[0] == "  api: rolling back to api-production:7"
    assert lines[-1] == "  api: back on api-production:7"
