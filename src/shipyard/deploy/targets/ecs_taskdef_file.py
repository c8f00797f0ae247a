"""A task-definition file in the repository as the base of every revision shipyard registers.

``task-definition = "<path>"`` (a strategy-layer key: per environment, per service, or in
the service's own table) names a JSON file, relative to the repository root, with
``{service}`` and ``{env}`` filled in. Without the key, ``<unit>/.aws/task-definition.json``
is used when present, else ``.aws/task-definition.json`` at the root (the file
amazon-ecs-render-task-definition reads) when it has a container named like the service
or the project has one service only.

The content is ``register-task-definition`` input, or ``describe-task-definition`` output
(its read-only fields are dropped). The service's container is the one named like the
service, or the only one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.core.errors import ConfigError

READ_ONLY = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
)
CONVENTIONAL = ".aws/task-definition.json"


@dataclass(frozen=True)
class TaskDefinitionFile:
    """A task-definition file's content, ready to register (less image, environment and secrets)."""

    path: str  # relative to the repository root
    content: dict[str, Any]
    container: str  # the service's container in it


def locate(root: Path, unit_path: str, template: str, *, service: str, env: str) -> tuple[str, bool]:
    """(root-relative path, named): the configured file, or the conventional one ("" when none)."""
    if template:
        try:
            return template.format(service=service, env=env), True
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"task-definition: cannot fill in {template!r} ({type(exc).__name__}: {exc})",
                hint="the path may use {service} and {env}",
            ) from None
    for candidate in (f"{unit_path}/{CONVENTIONAL}", CONVENTIONAL):
        if (root / candidate).is_file():
            return candidate, False
    return "", False


def read(root: Path, path: str, *, where: str) -> dict[str, Any]:
    """The file's registerable content; ``where`` names the key (or convention) that chose it."""
    file = root / path
    if not file.is_file():
        raise ConfigError(
            f"{where}: {path}: no such file",
            hint="the path is relative to the repository root; fix it or remove task-definition",
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: not valid JSON ({exc})", hint="the file must be a task definition in JSON"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("taskDefinition"), dict):
        data = data["taskDefinition"]  # `aws ecs describe-task-definition` output as it is
    containers = data.get("containerDefinitions") if isinstance(data, dict) else None
    if not isinstance(containers, list) or not containers or not all(isinstance(c, dict) for c in containers):
        raise ConfigError(
            f"{path}: no containerDefinitions",
            hint="the file must be register-task-definition input or describe-task-definition output",
        )
    return {k: v for k, v in data.items() if k not in READ_ONLY and k != "tags"}


def container_name(content: dict[str, Any], service: str, path: str) -> str:
    """The container named like the service, or the only one."""
    names = [str(c.get("name", "")) for c in content["containerDefinitions"]]
    if service in names:
        return service
    if len(names) == 1:
        return names[0]
    raise ConfigError(
        f"{path}: no container named {service!r} among {', '.join(repr(n) for n in names)}",
        hint=f"name {service}'s container {service!r} in the file (the others are kept as they are)",
    )


def for_unit(
    root: Path, unit_path: str, template: str, *, service: str, env: str, services: int
) -> TaskDefinitionFile | None:
    """The unit's task-definition file in the environment; None when it has none."""
    path, named = locate(root, unit_path, template, service=service, env=env)
    if not path:
        return None
    content = read(root, path, where=f"{service} in {env}: task-definition" if named else path)
    names = [c.get("name") for c in content["containerDefinitions"]]
    if not named and path == CONVENTIONAL and services > 1 and service not in names:
        return None  # the root's file serves the service it names a container for
    return TaskDefinitionFile(path, content, container_name(content, service, path))
