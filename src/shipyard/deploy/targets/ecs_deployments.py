"""Waiting for an ECS service deployment (blue/green, canary, linear): verdicts from its status.

A service whose deploymentConfiguration.strategy is BLUE_GREEN, CANARY or LINEAR is
followed through its *service deployment* (DescribeServiceDeployments), not through the
service's deployments list and its English events. The service deployment is the one
update_service/create_service names in ``currentServiceDeployment``; a response without it
is looked up with ListServiceDeployments (the newest created since the update).

Each poll: describe_service_deployments (status, lifecycle stage, traffic weights),
describe_services (the event stream, shown as it arrives and quoted in a failure), and the
stopped tasks of the new task definition (their stoppedReason). The verdict is a pure
function of the service deployment:

- SUCCESSFUL                               -> done
- ROLLBACK_SUCCESSFUL / ROLLBACK_FAILED    -> failed: rollback.reason or statusReason, the stage it
  was in, the alarms that triggered, the lifecycle hooks that failed
- STOPPED                                  -> failed: statusReason
- PENDING, IN_PROGRESS, STOP_REQUESTED,
  ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS -> still going (a rollback is waited for, so the
  transaction's own rollback does not race ECS's)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipyard.deploy.target import DeployFailed, Progress
from shipyard.deploy.targets.ecs_wait import DONE, RolloutWatch, Seen, _last_reasons, short

FAILED_HOOK = ("FAILED", "TIMED_OUT")
ROLLING_BACK = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")


@dataclass
class Followed(Seen):
    """What one service-deployment wait has seen, beyond the events and stopped tasks."""

    line: str = ""
    stage: str = ""  # the last lifecycle stage before a rollback began
    status: str = ""
    new_events: list[str] = field(default_factory=list)


def percent(weight: Any) -> str:
    return f"{float(weight):g}%"


def describe(deployment: Mapping[str, Any]) -> str:
    """One progress line: status, stage, traffic share and task counts, where ECS gives them."""
    parts = [str(deployment.get("status", "?"))]
    if deployment.get("lifecycleStage"):
        parts.append(f"stage {deployment['lifecycleStage']}")
    target = deployment.get("targetServiceRevision") or {}
    if target.get("requestedProductionTrafficWeight") is not None:
        parts.append(f"{percent(target['requestedProductionTrafficWeight'])} of production traffic")
    if target.get("requestedTestTrafficWeight") is not None:
        parts.append(f"{percent(target['requestedTestTrafficWeight'])} of test traffic")
    if target.get("requestedTaskCount") is not None:
        parts.append(f"{target.get('runningTaskCount', 0)}/{target['requestedTaskCount']} tasks running")
    return ", ".join(parts)


def why(deployment: Mapping[str, Any], stage: str) -> str:
    """Why ECS rolled back or stopped: its reason, the stage, triggered alarms, failed hooks."""
    reason = (deployment.get("rollback") or {}).get("reason") or deployment.get("statusReason") or "no reason given"
    parts = [f"{reason} (at {stage})" if stage else str(reason)]
    alarms = deployment.get("alarms") or {}
    if alarms.get("triggeredAlarmNames"):
        parts.append("alarm " + ", ".join(alarms["triggeredAlarmNames"]) + " triggered")
    breaker = deployment.get("deploymentCircuitBreaker") or {}
    if breaker.get("status") == "TRIGGERED":
        parts.append(f"circuit breaker: {breaker.get('failureCount', '?')} failed tasks of {breaker.get('threshold')}")
    for hook in deployment.get("lifecycleHookDetails") or []:
        if hook.get("status") in FAILED_HOOK:
            target = hook.get("targetArn") or f"{hook.get('targetType', 'PAUSE')} hook"
            parts.append(f"lifecycle hook {target} {hook['status']}")
    return "; ".join(parts)


def deployment_verdict(deployment: Mapping[str, Any], stage: str = "") -> str:
    """DONE, a failure reason, or "" (still in progress, including an ECS rollback under way)."""
    status = deployment.get("status")
    stage = stage or str(deployment.get("lifecycleStage") or "")
    if status == "SUCCESSFUL":
        return DONE
    if status == "ROLLBACK_SUCCESSFUL":
        revision = str((deployment.get("rollback") or {}).get("serviceRevisionArn") or "")
        back = f" to service revision {short(revision)}" if revision else ""
        return f"ECS rolled the deployment back{back}: {why(deployment, stage)}"
    if status == "ROLLBACK_FAILED":
        return f"ECS's rollback failed, the service needs a look: {why(deployment, stage)}"
    if status == "STOPPED":
        return f"the service deployment was stopped: {why(deployment, stage)}"
    return ""


class ServiceDeploymentWatch(RolloutWatch):
    """One wait for one service deployment (the events and stopped tasks as RolloutWatch shows them)."""

    def wait_deployment(self, taskdef: str, arn: str, since: datetime, progress: Progress) -> None:
        """Return when the service deployment succeeded; raise DeployFailed when it did not, or timed out."""
        seen, deadline = Followed(), self.clock() + self.timeout
        while True:
            progress.check()
            arn = arn or self._polled("list ECS service deployments", lambda: self._find(since), seen, progress) or ""
            found = self._poll_deployment(arn, seen, progress)
            self._show_context(taskdef, seen, progress)
            if found is not None:
                outcome = self._judge(found, seen, progress)
                if outcome == DONE:
                    return
                if outcome:
                    raise DeployFailed(outcome + _events(seen.new_events) + _last_reasons(seen.reasons))
            if self.clock() >= deadline:
                state = f" (still {seen.line})" if seen.line else " (ECS listed no service deployment)"
                raise DeployFailed(
                    f"timed out after {int(self.timeout)}s waiting for the service deployment of {short(taskdef)}"
                    + state
                    + _last_reasons(seen.reasons)
                )
            self.sleep(self.poll)

    def _poll_deployment(self, arn: str, seen: Followed, progress: Progress) -> Mapping[str, Any] | None:
        if not arn:
            return None
        return self._polled("describe the service deployment", lambda: self._get(arn), seen, progress)

    def _judge(self, found: Mapping[str, Any], seen: Followed, progress: Progress) -> str:
        line = describe(found)
        if line != seen.line:
            seen.line = line
            progress(line)
        status = str(found.get("status", ""))
        if status in ROLLING_BACK and seen.status not in ROLLING_BACK:
            progress(f"ECS is rolling back: {why(found, seen.stage)}")
        if status in ("PENDING", "IN_PROGRESS") and found.get("lifecycleStage"):
            seen.stage = str(found["lifecycleStage"])
        seen.status = status
        return deployment_verdict(found, seen.stage)

    def _show_context(self, taskdef: str, seen: Followed, progress: Progress) -> None:
        """The event stream and the stopped tasks, as a rolling update's wait shows them."""
        described = self._polled(f"describe ECS service {self.service}", self._describe, seen, progress)
        if described is not None:
            before = set(seen.events) if seen.events else None
            self._show_events(described, seen, progress)
            if before is not None:
                fresh = [e for e in described.get("events", []) if e.get("id") not in before]
                seen.new_events += [str(e.get("message", "")) for e in reversed(fresh)]
        stopped = self._polled(f"list stopped tasks of {self.service}", self._stopped_tasks, seen, progress)
        self._show_stopped(stopped or [], taskdef, seen, progress)

    def _find(self, since: datetime) -> str:
        """The newest service deployment created since the update; "" while ECS lists none."""
        listed = self.client.list_service_deployments(
            cluster=self.cluster, service=self.service, createdAt={"after": since}
        ).get("serviceDeployments", [])
        newest = sorted(listed, key=lambda d: d.get("createdAt") or since, reverse=True)
        return str(newest[0]["serviceDeploymentArn"]) if newest else ""

    def _get(self, arn: str) -> Mapping[str, Any]:
        response = self.client.describe_service_deployments(serviceDeploymentArns=[arn])
        found = response.get("serviceDeployments", [])
        if not found:
            reasons = "; ".join(str(f.get("reason", "")) for f in response.get("failures", []))
            raise DeployFailed(f"ECS does not describe service deployment {arn}: {reasons or 'no reason given'}")
        return dict(found[0])


def _events(messages: Sequence[str]) -> str:
    if not messages:
        return ""
    return "; ECS events: " + " | ".join(messages[-3:])
