"""Waiting for an ECS roll-out, showing why it is slow while it is slow.

Each poll: describe_services (deployments, events) and the stopped tasks of the new
task definition (describe_tasks' stoppedReason and container exit codes). New events and
stopped-task reasons are printed as they arrive, so a roll-out that is going nowhere says
why long before the timeout. The verdict is a pure function of the service description:

- our deployment COMPLETED                         -> done
- our deployment FAILED                            -> failed (rolloutStateReason)
- the service is back on another task definition,
  or our deployment is no longer PRIMARY           -> failed (circuit-breaker rollback)
- no rolloutState (older controllers)              -> done when it is the only deployment at full count

A poll that AWS throttles (or whose connection drops), after botocore's own retries, is
skipped, not a failure: the next poll tries again, until the roll-out's timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shipyard.aws import aws_errors, transient
from shipyard.deploy.target import DeployFailed, Progress

DONE = "done"
T = TypeVar("T")


@dataclass
class Seen:
    """What was already shown during one wait."""

    events: set[str] = field(default_factory=set)
    tasks: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)  # stopped-task reasons, in order
    counts: str = ""
    throttled: int = 0  # polls in a row that AWS throttled


def our_deployment(service: Mapping[str, Any], deployment_id: str, taskdef: str) -> Mapping[str, Any] | None:
    """The deployment our update created: by id, else the one running our task definition."""
    deployments = service.get("deployments", [])
    if deployment_id:
        found = next((d for d in deployments if d.get("id") == deployment_id), None)
        if found is not None:
            return dict(found)
    return next((dict(d) for d in deployments if d.get("taskDefinition") == taskdef), None)


def _rollback_note(service: Mapping[str, Any]) -> str:
    for event in service.get("events", [])[:5]:
        message = str(event.get("message", ""))
        if "circuit breaker" in message or "rolling back" in message:
            return f": {message}"
    return ""


def verdict(service: Mapping[str, Any], deployment_id: str, taskdef: str) -> str:
    """DONE, a failure reason, or "" (still in progress)."""
    ours = our_deployment(service, deployment_id, taskdef)
    if service.get("taskDefinition") != taskdef:
        reason = f" ({ours['rolloutStateReason']})" if ours and ours.get("rolloutStateReason") else ""
        back = short(service.get("taskDefinition", ""))
        return f"ECS rolled the service back to {back}{reason}{_rollback_note(service)}"
    if ours is None:
        return "the deployment disappeared from the service (another deploy replaced it?)"
    state = ours.get("rolloutState")
    if state == "FAILED":
        return f"roll-out failed: {ours.get('rolloutStateReason') or 'rolloutState FAILED'}"
    if ours.get("status") not in (None, "PRIMARY"):
        return f"the deployment was superseded (status {ours.get('status')}){_rollback_note(service)}"
    if state == "COMPLETED":
        return DONE
    alone = len(service.get("deployments", [])) == 1
    if state is None and alone and ours.get("runningCount", 0) >= ours.get("desiredCount", 0):
        return DONE
    return ""


def short(arn: str) -> str:
    """``family:revision`` of a task-definition ARN."""
    return arn.rsplit("/", 1)[-1]


def task_reason(task: Mapping[str, Any]) -> str:
    """One line: why a task stopped, with each container's exit code and reason."""
    parts = [str(task.get("stoppedReason") or task.get("stopCode") or "stopped")]
    for container in task.get("containers", []):
        detail = []
        if container.get("exitCode") is not None:
            detail.append(f"exit {container['exitCode']}")
        if container.get("reason"):
            detail.append(str(container["reason"]))
        if detail:
            parts.append(f"{container.get('name', '?')}: {', '.join(detail)}")
    return "; ".join(parts)


class RolloutWatch:
    """One wait for one service's deployment."""

    def __init__(
        self,
        client: Any,
        cluster: str,
        service: str,
        *,
        timeout: float,
        poll: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.cluster, self.service = client, cluster, service
        self.timeout, self.poll, self.clock, self.sleep = timeout, poll, clock, sleep

    def wait(self, taskdef: str, deployment_id: str, progress: Progress) -> None:
        """Return when the deployment completed; raise DeployFailed when it failed or timed out."""
        seen, deadline = Seen(), self.clock() + self.timeout
        while True:
            progress.check()
            described = self._polled(f"describe ECS service {self.service}", self._describe, seen, progress)
            if described is not None:
                self._show_events(described, seen, progress)
                self._show_counts(described, deployment_id, taskdef, seen, progress)
                stopped = self._polled(f"list stopped tasks of {self.service}", self._stopped_tasks, seen, progress)
                self._show_stopped(stopped or [], taskdef, seen, progress)
                outcome = verdict(described, deployment_id, taskdef)
                if outcome == DONE:
                    return
                if outcome:
                    raise DeployFailed(outcome + _last_reasons(seen.reasons))
            if self.clock() >= deadline:
                raise DeployFailed(
                    f"timed out after {int(self.timeout)}s waiting for {short(taskdef)} to become healthy"
                    + _last_reasons(seen.reasons)
                )
            self.sleep(self.poll)

    def _polled(self, what: str, call: Callable[[], T], seen: Seen, progress: Progress) -> T | None:
        """One AWS call of a poll; None when AWS throttled it (try again at the next poll)."""
        try:
            result = call()
        except Exception as exc:
            if not transient(exc):
                with aws_errors(what):
                    raise
            seen.throttled += 1
            if seen.throttled == 1:
                progress(f"AWS is throttling ({type(exc).__name__}: {exc}); trying again at the next poll")
            return None
        seen.throttled = 0
        return result

    def _describe(self) -> Mapping[str, Any]:
        response = self.client.describe_services(cluster=self.cluster, services=[self.service])
        services = response.get("services", [])
        if not services:
            raise DeployFailed(f"ECS service {self.service} disappeared from cluster {self.cluster}")
        return dict(services[0])

    def _show_events(self, service: Mapping[str, Any], seen: Seen, progress: Progress) -> None:
        fresh = [e for e in service.get("events", []) if e.get("id") not in seen.events]
        first = not seen.events
        seen.events.update(e.get("id") for e in service.get("events", []))
        if first:
            return  # events from before this deploy are history, not progress
        for event in reversed(fresh):  # ECS lists the newest first
            progress(f"event: {event.get('message', '')}")

    def _show_counts(
        self, service: Mapping[str, Any], deployment_id: str, taskdef: str, seen: Seen, progress: Progress
    ) -> None:
        ours = our_deployment(service, deployment_id, taskdef) or {}
        counts = (
            f"{ours.get('runningCount', 0)}/{ours.get('desiredCount', 0)} running, "
            f"{ours.get('pendingCount', 0)} pending, {ours.get('failedTasks', 0)} failed "
            f"({ours.get('rolloutState', 'no rollout state')})"
        )
        if counts != seen.counts:
            seen.counts = counts
            progress(counts)

    def _show_stopped(self, stopped: Sequence[Mapping[str, Any]], taskdef: str, seen: Seen, progress: Progress) -> None:
        for task in stopped:
            arn = str(task.get("taskArn", ""))
            if arn in seen.tasks or task.get("taskDefinitionArn") != taskdef:
                continue
            seen.tasks.add(arn)
            reason = task_reason(task)
            seen.reasons.append(reason)
            progress(f"task {arn.rsplit('/', 1)[-1]} stopped: {reason}")

    def _stopped_tasks(self) -> Sequence[Mapping[str, Any]]:
        arns = self.client.list_tasks(cluster=self.cluster, serviceName=self.service, desiredStatus="STOPPED").get(
            "taskArns", []
        )
        if not arns:
            return []
        return list(self.client.describe_tasks(cluster=self.cluster, tasks=arns[:100]).get("tasks", []))


def _last_reasons(reasons: Sequence[str]) -> str:
    if not reasons:
        return ""
    unique = list(dict.fromkeys(reasons))[-3:]
    return "; stopped tasks: " + " | ".join(unique)
