"""The target protocol: what every deploy target (ecs, local, static) provides.

A target is made per environment by a factory registered in ``deploy/targets/__init__.py``
(``TARGETS``, with its keys and capabilities), from a ``TargetContext``; ``Targets`` below
makes them. The transaction (deploy/transaction.py) drives
it: ``current`` and ``diff`` for the plan, ``deploy`` for the roll-out, and ``rollback``
when the roll-out (or a later service, or the smoke check) failed. ``deploy`` raises
DeployFailed and leaves the undo to the transaction, which calls ``rollback(previous)`` —
or, on a first deploy (nothing ran before), ``undo_first_deploy``, which takes the new
release out of service so that the environment is on nothing again.

Wait loops call ``progress.check()`` now and then: it raises Cancelled when the
transaction wants the target to stop waiting (Ctrl-C/SIGTERM, the deploy lock lost).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.core.config import DEFAULT_TARGETS
from shipyard.core.errors import ShipyardError
from shipyard.deploy.targets import TARGETS

if TYPE_CHECKING:
    from shipyard.core.project import Project, Unit
    from shipyard.settings import Settings


class DeployFailed(Exception):
    """A roll-out did not become healthy; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Cancelled(Exception):
    """The transaction asked a roll-out to stop waiting; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Progress:
    """Progress lines of one service's roll-out, and the transaction's stop signal.

    Call it with a line (``progress("3/3 tasks running")``); call ``check()`` in wait loops.
    """

    def __init__(
        self,
        service: str,
        say: Callable[[str], None] = print,
        stop: threading.Event | None = None,
        why: Callable[[], str] | None = None,
    ) -> None:
        self.service, self.say = service, say
        self.stop = stop or threading.Event()
        self._why = why or (lambda: "cancelled")
        self.revision = ""  # the revision the target pointed the service at, before it is verified

    def pointed(self, revision: str) -> None:
        """The target changed the environment: the service now rolls out ``revision``.
        An attempt interrupted after this records what was done, not an empty revision."""
        self.revision = revision

    def __call__(self, line: str) -> None:
        self.say(f"  {self.service}: {line}")

    def check(self) -> None:
        if self.stop.is_set():
            raise Cancelled(self._why())


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


@dataclass(frozen=True)
class TargetContext:
    """What a target factory gets: the project and one environment (plus its AWS account)."""

    project: Project
    env: str
    environment: Mapping[str, Any]
    account: str = ""  # the caller's AWS account id, when the environment uses AWS


class Target(Protocol):
    name: str

    def current(self, unit: Unit) -> Running | None:
        """What runs now for ``unit``, or None when it was never deployed."""

    def diff(self, unit: Unit, release: Release, settings: Settings) -> list[Change]:
        """The changes a deploy of ``release`` would make, for the plan (keys, never secret values)."""

    def deploy(self, unit: Unit, release: Release, settings: Settings, progress: Progress) -> Running:
        """Roll out and wait until healthy; raise DeployFailed (the transaction then rolls back)."""

    def rollback(self, unit: Unit, previous: Running, progress: Progress) -> Running:
        """Put ``previous`` back and wait for it."""

    def undo_first_deploy(self, unit: Unit, progress: Progress) -> None:
        """Take a failed first deploy of ``unit`` out of service; ``current`` is None afterwards.

        Nothing ran before, so there is nothing to go back to. Does nothing when nothing runs.
        """


TargetFactory = Callable[[TargetContext], Target]


def target_name(ctx: TargetContext, unit: Unit) -> str:
    """The target of ``unit``'s kind in the environment (as `invoke services` shows it)."""
    if unit.is_lib:
        raise ShipyardError(f"{unit.name} is a lib: libs are not deployed", hint="name a service")
    return str(ctx.environment.get("targets", {}).get(unit.kind, DEFAULT_TARGETS[unit.kind]))


class Targets:
    """The targets of one environment, made once each."""

    def __init__(self, ctx: TargetContext) -> None:
        self.ctx = ctx
        self._made: dict[str, Target] = {}

    def for_unit(self, unit: Unit) -> Target:
        name = target_name(self.ctx, unit)
        if name not in self._made:
            self._made[name] = TARGETS.load(name)(self.ctx)
        return self._made[name]

    def can(self, unit: Unit, capability: str) -> bool:
        """Whether the target of ``unit`` has ``capability`` (one of deploy/targets' CAPABILITIES)."""
        return TARGETS.can(target_name(self.ctx, unit), capability)

    def names(self, units: list[Unit]) -> set[str]:
        return {target_name(self.ctx, u) for u in units}
