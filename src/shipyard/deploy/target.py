"""The target protocol: what every deploy target (ecs, local, static) provides."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from shipyard.project import Unit

Progress = Callable[[str], None]


class DeployFailed(Exception):
    """A roll-out did not become healthy; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Release:
    """What to deploy: a service's artifact, identified by content."""

    service: str
    fingerprint: str
    artifact: str  # image reference by digest (repo@sha256:...), or a static release id
    git_sha: str = ""


@dataclass(frozen=True)
class Running:
    """What runs now: the target's own revision handle plus the artifact behind it."""

    service: str
    revision: str  # task-definition ARN, container id, or static release prefix
    artifact: str
    fingerprint: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One line of a plan's diff; secret values never appear, only their keys."""

    field: str
    old: str
    new: str


class Target(Protocol):
    name: str

    def current(self, unit: Unit) -> Running | None:
        """What runs now for ``unit``, or None when it was never deployed."""

    def diff(self, unit: Unit, release: Release, settings: Mapping[str, Any]) -> list[Change]:
        """The changes a deploy of ``release`` would make, for the plan."""

    def deploy(self, unit: Unit, release: Release, settings: Mapping[str, Any], progress: Progress) -> Running:
        """Roll out and wait until healthy; raise DeployFailed (after leaving the old version serving)."""

    def rollback(self, unit: Unit, previous: Running, progress: Progress) -> Running:
        """Put ``previous`` back and wait for it."""
