"""ECS task definitions as values: the next revision of a service's, and the diff to it.

Pure functions on dicts shaped like the ECS API. The next revision starts from the
repository's task-definition file when the service has one (ecs_taskdef_file.py), else
from the running one (keeping what shipyard does not manage: ports, logging, health
checks, volumes), and replaces the image (by digest), the environment, the secrets
(``valueFrom`` references only) and cpu/memory. The diff compares every field, less what
ECS fills in on its own, and never shows a setting's or secret's value.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.deploy.target import Change, Release

if TYPE_CHECKING:
    from shipyard.deploy.targets.ecs_taskdef_file import TaskDefinitionFile

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
    file: TaskDefinitionFile | None = None,
) -> dict[str, Any]:
    """The register_task_definition arguments of the next revision.

    With a task-definition ``file``, the file is the base (the family stays the running one's):
    its cpu/memory and roles win over the unit's and the environment's, its other settings
    stay, and shipyard's settings join its container's environment/secrets, winning by name.
    """
    if file is None:
        td = {k: v for k, v in (base or fresh(unit, env)).items() if k in REGISTERABLE}
        name = str(container_of(td, unit).get("name"))
    else:
        td = {**copy.deepcopy(file.content), "family": (base or fresh(unit, env))["family"]}
        name = file.container
    old = next(c for c in td["containerDefinitions"] if c.get("name") == name)
    new = {**old, "image": release.artifact}
    new["environment"], new["secrets"] = _joined(old if file else {}, environment, secrets)
    td["containerDefinitions"] = [new if c.get("name") == name else c for c in td["containerDefinitions"]]
    keep = file.content if file else {}
    td["cpu"], td["memory"] = (units(keep.get(k) or unit.settings[k]) for k in ("cpu", "memory"))
    for key, arn in (("executionRoleArn", "execution-role-arn"), ("taskRoleArn", "task-role-arn")):
        if env_config.get(arn) and not keep.get(key):
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


def units(value: object) -> str:
    """cpu/memory as ECS returns them: "1 vCPU" is "1024", "2 GB" is "2048" (a file may say either)."""
    text = str(value).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(vcpu|gb)", text, flags=re.IGNORECASE)
    return str(int(float(match.group(1)) * 1024)) if match else text


def _joined(container: Mapping[str, Any], environment: Entries, secrets: Entries) -> tuple[list[Any], list[Any]]:
    """The file's environment and secrets with shipyard's settings added, shipyard's winning by name."""
    ours = {e["name"] for e in environment} | {s["name"] for s in secrets}
    keep = [e for e in container.get("environment", []) if e.get("name") not in ours]
    keep_secrets = [s for s in container.get("secrets", []) if s.get("name") not in ours]
    return keep + [dict(e) for e in environment], keep_secrets + [dict(s) for s in secrets]


def _pairs(entries: Entries, field: str) -> dict[str, str]:
    return {str(e["name"]): str(e.get(field, "")) for e in entries}


def key_changes(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """``+ADDED ~CHANGED -REMOVED`` by key only: values (possibly secret) never appear."""
    marks = [f"+{k}" for k in sorted(new.keys() - old.keys())]
    marks += [f"~{k}" for k in sorted(new.keys() & old.keys()) if old[k] != new[k]]
    marks += [f"-{k}" for k in sorted(old.keys() - new.keys())]
    return " ".join(marks)


def diff(current: Mapping[str, Any] | None, proposed: Mapping[str, Any], unit: Unit) -> list[Change]:
    """What changes from the running task definition to ``proposed`` (a new service: everything).

    Beyond the image, setting keys and cpu/memory: the other task-level fields (values shown
    for strings: ARNs, modes), and per container the names of the fields that change.
    """
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
    return changes + (_task_fields(current, proposed) + _containers(current, proposed, new) if current else [])


OWN = ("family", "containerDefinitions", "cpu", "memory", "tags")  # compared above, or not content
MANAGED = ("name", "image", "environment", "secrets")  # the service's container: compared above


def _task_fields(current: Mapping[str, Any], proposed: Mapping[str, Any]) -> list[Change]:
    changes = []
    for field in sorted((set(current) | set(proposed)) & set(REGISTERABLE) - set(OWN)):
        before, after = normal(current.get(field)), normal(proposed.get(field))
        if before == after:
            continue
        strings = isinstance(before, (str, type(None))) and isinstance(after, (str, type(None)))
        changes.append(
            Change(field, before or "(none)", after or "(none)") if strings else Change(field, "", "changed")
        )
    return changes


def _containers(current: Mapping[str, Any], proposed: Mapping[str, Any], ours: Mapping[str, Any]) -> list[Change]:
    """Per container: added, removed, or the fields that change (never their values)."""
    before = {str(c.get("name")): c for c in current.get("containerDefinitions", [])}
    after = {str(c.get("name")): c for c in proposed.get("containerDefinitions", [])}
    changes = []
    for name in sorted(before.keys() | after.keys()):
        if name not in after or name not in before:
            changes.append(Change(f"container {name}", "", "removed" if name not in after else "added"))
            continue
        skip = MANAGED if name == ours.get("name") else ("name",)
        old, new = normal_container(before[name]), normal_container(after[name])
        fields = sorted(f for f in (old.keys() | new.keys()) - set(skip) if old.get(f) != new.get(f))
        if fields:
            changes.append(Change(f"container {name}", "", ", ".join(fields) + " changed"))
    return changes


def normal(value: Any) -> Any:
    """``value`` without empty entries (ECS returns [] and {} for what was left out)."""
    if isinstance(value, Mapping):
        kept = {k: normal(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})} or None
    if isinstance(value, list):
        return [normal(v) for v in value] or None
    return None if value in ("", None) else value


def normal_container(container: Mapping[str, Any]) -> dict[str, Any]:
    """A container definition without the defaults ECS fills in (cpu 0, essential, hostPort, tcp)."""
    found = normal(container) or {}
    if found.get("cpu") == 0:
        del found["cpu"]
    if found.get("essential") is True:
        del found["essential"]
    ports = [
        {k: v for k, v in p.items() if (k, v) not in (("hostPort", p.get("containerPort")), ("protocol", "tcp"))}
        for p in found.get("portMappings") or []
    ]
    if ports:
        found["portMappings"] = ports
    for field in ("environment", "secrets"):
        if field in found:
            found[field] = sorted(found[field], key=lambda e: str(e.get("name")))
    return found


def tag_value(tags: Sequence[Mapping[str, str]], key: str) -> str:
    return next((str(t.get("value", "")) for t in tags if t.get("key") == key), "")
