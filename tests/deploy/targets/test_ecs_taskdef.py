"""Task-definition revisions and their diff, as values (exact equality)."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.deploy.target import Change, Release
from shipyard.deploy.targets.ecs_taskdef import diff, key_changes, next_revision
from shipyard.errors import ShipyardError
from shipyard.project import Unit

UNIT = Unit(
    "api",
    "service",
    "services/api",
    "services/api/pyproject.toml",
    {"cpu": 512, "memory": 1024, "port": 8000, "command": []},
    ">=3.10",
    True,
)
IMAGE = "reg.example/api@sha256:" + "1" * 64
REF = "arn:aws:ssm:eu-west-1:123456789012:parameter/staging/db"


def running() -> dict[str, Any]:
    return {
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/api-staging:4",
        "family": "api-staging",
        "revision": 4,
        "status": "ACTIVE",
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "executionRoleArn": "arn:role/exec",
        "containerDefinitions": [
            {
                "name": "api",
                "image": "reg.example/api@sha256:" + "0" * 64,
                "essential": True,
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/api"}},
                "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "OLD", "value": "x"}],
                "secrets": [{"name": "DATABASE_URL", "valueFrom": REF}],
            },
            {"name": "sidecar", "image": "envoy:1", "essential": False},
        ],
    }


def test_next_revision_keeps_what_shipyard_does_not_manage() -> None:
    td = next_revision(
        running(),
        UNIT,
        Release("api", "f" * 64, IMAGE, "abc"),
        [{"name": "LOG_LEVEL", "value": "debug"}],
        [{"name": "DATABASE_URL", "valueFrom": REF}],
        env="staging",
        env_config={"task-role-arn": "arn:role/task"},
    )
    assert td == {
        "family": "api-staging",
        "networkMode": "awsvpc",
        "cpu": "512",
        "memory": "1024",
        "executionRoleArn": "arn:role/exec",
        "taskRoleArn": "arn:role/task",
        "containerDefinitions": [
            {
                "name": "api",
                "image": IMAGE,
                "essential": True,
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/api"}},
                "environment": [{"name": "LOG_LEVEL", "value": "debug"}],
                "secrets": [{"name": "DATABASE_URL", "valueFrom": REF}],
            },
            {"name": "sidecar", "image": "envoy:1", "essential": False},
        ],
        "tags": [{"key": "shipyard:fingerprint", "value": "f" * 64}, {"key": "shipyard:git-sha", "value": "abc"}],
    }


def test_a_first_revision_for_a_new_service() -> None:
    td = next_revision(None, UNIT, Release("api", "f" * 64, IMAGE), [], [], env="staging", env_config={})
    assert td["family"] == "api-staging" and td["requiresCompatibilities"] == ["FARGATE"]
    assert td["containerDefinitions"] == [
        {
            "name": "api",
            "essential": True,
            "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
            "image": IMAGE,
            "environment": [],
            "secrets": [],
        }
    ]


def test_secrets_need_an_execution_role() -> None:
    base = {**running(), "executionRoleArn": ""}
    with pytest.raises(ShipyardError, match="ECS needs a task execution role to read secrets"):
        next_revision(
            base, UNIT, Release("api", "f", IMAGE), [], [{"name": "A", "valueFrom": REF}], env="staging", env_config={}
        )


def test_the_diff_names_keys_never_values() -> None:
    proposed = next_revision(
        running(),
        UNIT,
        Release("api", "f" * 64, IMAGE),
        [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "NEW", "value": "hunter2-value"}],
        [{"name": "DATABASE_URL", "valueFrom": REF + "-v2"}],
        env="staging",
        env_config={},
    )
    changes = diff(running(), proposed, UNIT)
    assert changes == [
        Change("image", "reg.example/api@sha256:" + "0" * 64, IMAGE),
        Change("environment", "", "+NEW ~LOG_LEVEL -OLD"),
        Change("secrets", "", "~DATABASE_URL"),
        Change("cpu", "256", "512"),
        Change("memory", "512", "1024"),
    ]
    assert "hunter2-value" not in repr(changes) and "debug" not in repr(changes)


def test_key_changes() -> None:
    assert key_changes({}, {}) == ""
    assert key_changes({"A": "1", "B": "2"}, {"A": "1", "B": "3", "C": "4"}) == "+C ~B"
