"""Task-definition revisions and their diff, as values (exact equality)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.deploy.target import Change, Release
from shipyard.deploy.targets.ecs_taskdef import diff, key_changes, next_revision
from shipyard.deploy.targets.ecs_taskdef_file import TaskDefinitionFile

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


def a_file(**content: Any) -> TaskDefinitionFile:
    base = {
        "family": "api",
        "networkMode": "awsvpc",
        "containerDefinitions": [
            {"name": "api", "image": "x", "environment": [{"name": "LOG_LEVEL", "value": "file"}, {"name": "K"}]},
            {"name": "otel", "image": "otel:1"},
        ],
    }
    return TaskDefinitionFile(".aws/task-definition.json", {**base, **content}, "api")


def test_a_file_is_the_base_its_sizes_and_roles_win_the_settings_join_its_container() -> None:
    td = next_revision(
        running(),
        UNIT,
        Release("api", "f" * 64, IMAGE),
        [{"name": "LOG_LEVEL", "value": "debug"}],
        [{"name": "DATABASE_URL", "valueFrom": REF}],
        env="staging",
        env_config={"execution-role-arn": "arn:role/env-exec", "task-role-arn": "arn:role/env-task"},
        file=a_file(cpu="2048", taskRoleArn="arn:role/file-task"),
    )
    assert td["family"] == "api-staging"  # the running family, not the file's
    assert (td["cpu"], td["memory"]) == ("2048", "1024")  # the file's cpu; the unit's memory where it has none
    assert (td["taskRoleArn"], td["executionRoleArn"]) == ("arn:role/file-task", "arn:role/env-exec")
    api, otel = td["containerDefinitions"]
    assert otel == {"name": "otel", "image": "otel:1"}
    assert api["image"] == IMAGE
    assert api["environment"] == [{"name": "K"}, {"name": "LOG_LEVEL", "value": "debug"}]
    assert api["secrets"] == [{"name": "DATABASE_URL", "valueFrom": REF}]
    assert "logConfiguration" not in api  # the running revision's fields are not the base any more


def test_what_ecs_fills_in_is_no_change_and_other_fields_are_named() -> None:
    current = running()
    current["containerDefinitions"][1] = {
        **current["containerDefinitions"][1],
        "cpu": 0,
        "mountPoints": [],
        "portMappings": [{"containerPort": 9901, "hostPort": 9901, "protocol": "tcp"}],
    }
    proposed = {k: v for k, v in current.items() if k in ("family", "networkMode", "cpu", "memory")}
    proposed["executionRoleArn"] = "arn:role/exec"
    proposed["containerDefinitions"] = [
        {**current["containerDefinitions"][0], "healthCheck": {"command": ["CMD", "true"]}},
        {"name": "sidecar", "image": "envoy:1", "essential": False, "portMappings": [{"containerPort": 9901}]},
        {"name": "xray", "image": "xray:1"},
    ]
    proposed["taskRoleArn"] = "arn:role/task"
    assert diff(current, proposed, UNIT) == [
        Change("taskRoleArn", "(none)", "arn:role/task"),
        Change("container api", "", "healthCheck changed"),
        Change("container xray", "", "added"),
    ]


def test_the_roots_conventional_file_serves_the_service_it_names(tmp_path: Path) -> None:
    from shipyard.deploy.targets.ecs_taskdef_file import for_unit

    content = {"taskDefinition": {"revision": 3, "containerDefinitions": [{"name": "api"}, {"name": "otel"}]}}
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws/task-definition.json").write_text(json.dumps(content))
    found = for_unit(tmp_path, "services/api", "", service="api", env="staging", services=2)
    assert found is not None and "revision" not in found.content and found.container == "api"
    assert for_unit(tmp_path, "services/worker", "", service="worker", env="staging", services=2) is None
    (tmp_path / "services/worker/.aws").mkdir(parents=True)
    (tmp_path / "services/worker/.aws/task-definition.json").write_text('{"containerDefinitions": [{"name": "w"}]}')
    own = for_unit(tmp_path, "services/worker", "", service="worker", env="staging", services=2)
    assert own is not None and (own.path, own.container) == ("services/worker/.aws/task-definition.json", "w")


def test_sizes_in_a_file_may_be_written_as_ecs_accepts_them() -> None:
    from shipyard.deploy.targets.ecs_taskdef import units

    assert [units(v) for v in ("0.25 vCPU", "1 vcpu", "2 GB", "0.5GB", "512", 256)] == [
        "256",
        "1024",
        "2048",
        "512",
        "512",
        "256",
    ]
