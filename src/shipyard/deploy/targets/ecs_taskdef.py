"""ECS task definitions as values: the next revision of a service's, and the diff to it.

Pure functions on dicts shaped like the ECS API. The next revision starts from the
running one (keeping what shipyard does not manage: ports, logging, health checks,
volumes) and replaces the image (by digest), the environment, the secrets (``valueFrom``
references only) and cpu/memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.deploy.target import Change, Release
from shipyard.errors import ShipyardError
from shipyard.project import Unit

FINGERPRINT_TAG, GIT_SHA_TAG = "shipyard:fingerprint", "shipyard:git-sha"

# describe_task_definition returns more than register_task_definition accepts.
REGISTERABLE = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
)

Entries = Sequence[Mapping[str, str]]


def container_of(taskdef: Mapping[str, Any], unit: Unit) -> dict[str, Any]:
    """The container named like the unit, else the first one."""
    containers = list(taskdef.get("containerDefinitions", []))
    if not containers:
        raise ShipyardError(f"{unit.name}: the running task definition has no containers")
    return dict(next((c for c in containers if c.get("name") == unit.name), containers[0]))


def fresh(unit: Unit, env: str) -> dict[str, Any]:
    """A first task definition for a service ECS has never run (Fargate, awsvpc)."""
    container: dict[str, Any] = {"name": unit.name, "essential": True}
    port = unit.settings.get("port", 0)
    if port:
        container["portMappings"] = [{"containerPort": port, "protocol": "tcp"}]
    if unit.settings.get("command"):
        container["command"] = list(unit.settings["command"])
    return {
        "family": f"{unit.name}-{env}",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [container],
    }


def next_revision(
    base: Mapping[str, Any] | None,
    unit: Unit,
    release: Release,
    environment: Entries,
    secrets: Entries,
    *,
    env: str,
    env_config: Mapping[str, Any],
) -> dict[str, Any]:
    """The register_task_definition arguments of the next revision."""
    td = {k: v for k, v in (base or fresh(unit, env)).items() if k in REGISTERABLE}
    old = container_of(td, unit)
    new = {**old, "image": release.artifact, "environment": [dict(e) for e in environment]}
    new["secrets"] = [dict(s) for s in secrets]
    td["containerDefinitions"] = [new if c.get("name") == old.get("name") else c for c in td["containerDefinitions"]]
    td["cpu"], td["memory"] = str(unit.settings["cpu"]), str(unit.settings["memory"])
    for key, arn in (("executionRoleArn", "execution-role-arn"), ("taskRoleArn", "task-role-arn")):
        if env_config.get(arn):
            td[key] = env_config[arn]
    if secrets and not td.get("executionRoleArn"):
        raise ShipyardError(
            f"{unit.name}: ECS needs a task execution role to read secrets, and none is set",
            hint=f"set execution-role-arn in [tool.shipyard.environments.{env}]",
        )
    td["tags"] = [{"key": FINGERPRINT_TAG, "value": release.fingerprint}] + (
        [{"key": GIT_SHA_TAG, "value": release.git_sha}] if release.git_sha else []
    )
    return td


def _pairs(entries: Entries, field: str) -> dict[str, str]:
    return {str(e["name"]): str(e.get(field, "")) for e in entries}


def key_changes(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """``+ADDED ~CHANGED -REMOVED`` by key only: values (possibly secret) never appear."""
    marks = [f"+{k}" for k in sorted(new.keys() - old.keys())]
    marks += [f"~{k}" for k in sorted(new.keys() & old.keys()) if old[k] != new[k]]
    marks += [f"-{k}" for k in sorted(old.keys() - new.keys())]
    return " ".join(marks)


def diff(current: Mapping[str, Any] | None, proposed: Mapping[str, Any], unit: Unit) -> list[Change]:
    """What changes from the running task definition to ``proposed`` (a new service: everything)."""
    new = container_of(proposed, unit)
    old = container_of(current, unit) if current else {}
    changes: list[Change] = []
    if old.get("image", "") != new["image"]:
        changes.append(Change("image", str(old.get("image", "")), str(new["image"])))
    for field, kind in (("environment", "value"), ("secrets", "valueFrom")):
        marks = key_changes(_pairs(old.get(field, []), kind), _pairs(new.get(field, []), kind))
        if marks:
            changes.append(Change(field, "", marks))
    for field in ("cpu", "memory"):
        before = str((current or {}).get(field, ""))
        if before != str(proposed.get(field, "")):
            changes.append(Change(field, before, str(proposed[field])))
    return changes


def tag_value(tags: Sequence[Mapping[str, str]], key: str) -> str:
    return next((str(t.get("value", "")) for t in tags if t.get("key") == key), "")
