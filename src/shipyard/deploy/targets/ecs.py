"""The ECS (Fargate) target: task-definition revisions by digest, service updates, waits.

One ECS service per shipyard service, named like it, in the environment's ``cluster``.
A deploy registers the next task-definition revision (from the repository's task-definition
file, or the running revision; image by digest, settings as ``environment``, secrets as
``valueFrom`` references), points the service at it and
waits for the roll-out (ecs_wait.py). A rollback points the service back at the
previous revision and waits again. A service that does not exist yet is created
(awsvpc with the environment's subnets and security groups, circuit breaker on).

A first deploy that fails has nothing to go back to: the service is scaled to 0 tasks
and tagged with the count it had (STOPPED_TAG). A tagged service runs nothing as far as
shipyard is concerned (``current`` is None); the next deploy restores the count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from shipyard.aws import aws_errors, env_client
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.deploy.target import Change, DeployFailed, Progress, Release, Running, TargetContext
from shipyard.deploy.targets import ecs_logs
from shipyard.deploy.targets import ecs_strategy as strategies
from shipyard.deploy.targets import ecs_taskdef as taskdefs
from shipyard.deploy.targets.ecs_deployments import ServiceDeploymentWatch
from shipyard.deploy.targets.ecs_wait import short, task_reason

if TYPE_CHECKING:
    from shipyard.settings import Settings

STOPPED_TAG = "shipyard:stopped-first-deploy"  # value: the desired count to restore


def stopped_count(service: Mapping[str, Any]) -> int | None:
    """The desired count to restore when a failed first deploy stopped ``service``; else None."""
    value = next((str(t.get("value", "")) for t in service.get("tags", []) if t.get("key") == STOPPED_TAG), None)
    if value is None:
        return None
    return int(value) if value.isdigit() and int(value) > 0 else 1


@dataclass(frozen=True)
class OneOff:
    """How a one-off task ended: its container's exit code, why it stopped, what it printed
    (``output`` None: the task definition has no awslogs configuration to read it from)."""

    code: int
    reason: str
    task_arn: str = ""
    output: str | None = None


class EcsTarget:
    """ECS services of one environment's cluster."""

    name = "ecs"

    def __init__(
        self,
        ctx: TargetContext,
        *,
        client: Any = None,
        poll: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ctx, self.env = ctx, ctx.environment
        if not self.env.get("cluster"):
            raise ShipyardError(
                f"environment {ctx.env!r} deploys to ECS but names no cluster",
                hint=f'set cluster = "..." in [tool.shipyard.environments.{ctx.env}]',
            )
        self.cluster = strategies.ecs_cluster(self.env["cluster"], ctx.env)
        self.client = client if client is not None else env_client("ecs", self.env)
        self.poll, self.clock, self.sleep = poll, clock, sleep

    def _watch(self, unit: Unit, extra: int = 0) -> ServiceDeploymentWatch:
        timeout = float(self.env.get("deploy-timeout", 900)) + extra
        return ServiceDeploymentWatch(
            self.client,
            self.cluster,
            self.name_of(unit),
            timeout=timeout,
            poll=self.poll,
            clock=self.clock,
            sleep=self.sleep,
        )

    def name_of(self, unit: Unit) -> str:
        """The unit's ECS service name (``service-name``; by default the unit's name)."""
        return strategies.ecs_service(self.strategy(unit), unit, self.ctx.env)

    def strategy(self, unit: Unit) -> strategies.Strategy:
        """The unit's deployment strategy keys in this environment (checked when the project loaded)."""
        return strategies.strategy_for(self.ctx.env, self.env, unit)

    def _wait(self, unit: Unit, arn: str, service: Mapping[str, Any], since: datetime, progress: Progress) -> None:
        """Wait on the service deployment (blue/green, canary, linear) or the rolling update."""
        config = service.get("deploymentConfiguration") or {}
        native = (self.strategy(unit).ecs_name or config.get("strategy")) in strategies.NATIVE
        watch = self._watch(unit, strategies.patience(config) if native else 0)
        if native:
            watch.wait_deployment(arn, str(service.get("currentServiceDeployment") or ""), since, progress)
            return
        primary = [d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"]
        watch.wait(arn, str(primary[0].get("id", "")) if primary else "", progress)

    # -- reading -------------------------------------------------------------------------

    def describe_service(self, unit: Unit) -> Mapping[str, Any] | None:
        name = self.name_of(unit)
        with aws_errors(f"describe ECS service {name} in {self.cluster}", self.env.get("profile", "")):
            response = self.client.describe_services(cluster=self.cluster, services=[name], include=["TAGS"])
        found = [s for s in response.get("services", []) if s.get("status") == "ACTIVE"]
        return found[0] if found else None

    def task_definition(self, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        with aws_errors(f"describe task definition {short(arn)}", self.env.get("profile", "")):
            response = self.client.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        return dict(response["taskDefinition"]), list(response.get("tags", []))

    def current(self, unit: Unit) -> Running | None:
        """The service's task definition, the image in it, and the fingerprint it was tagged with."""
        service = self.describe_service(unit)
        if service is None or not service.get("taskDefinition") or stopped_count(service) is not None:
            return None
        td, tags = self.task_definition(service["taskDefinition"])
        image = str(taskdefs.container_of(td, unit).get("image", ""))
        return Running(
            unit.name,
            td["taskDefinitionArn"],
            image,
            taskdefs.tag_value(tags, taskdefs.FINGERPRINT_TAG),
            {"taskDefinition": td, "gitSha": taskdefs.tag_value(tags, taskdefs.GIT_SHA_TAG)},
        )

    def proposed(self, unit: Unit, release: Release, settings: Settings, running: Running | None) -> dict[str, Any]:
        """The next task-definition revision for ``release`` (register_task_definition kwargs)."""
        from shipyard.settings import ecs_secrets

        environment, secrets = ecs_secrets(settings, self.env.get("region", "") or self._region(), self.ctx.account)
        base = running.details.get("taskDefinition") if running else None
        project = self.ctx.project  # None in tests that make a target without a project
        file = strategies.task_definition_file(project, self.ctx.env, unit, self.strategy(unit)) if project else None
        return taskdefs.next_revision(
            base, unit, release, environment, secrets, env=self.ctx.env, env_config=self.env, file=file
        )

    def _region(self) -> str:
        return str(self.client.meta.region_name or "")

    def diff(self, unit: Unit, release: Release, settings: Settings) -> list[Change]:
        running = self.current(unit)
        base = running.details.get("taskDefinition") if running else None
        changes = taskdefs.diff(base, self.proposed(unit, release, settings, running), unit)
        if running is None or running.fingerprint:
            return changes
        # shipyard tags what it registers: this revision was made elsewhere (a console edit, Terraform)
        drift = f"{short(running.revision)} was not registered by shipyard; the lines below replace what it changed"
        return [Change("drift", "", drift), *changes]

    # -- acting --------------------------------------------------------------------------

    def register(self, unit: Unit, release: Release, settings: Settings) -> str:
        """Register the next revision; returns its ARN (nothing runs it yet)."""
        td = self.proposed(unit, release, settings, self.current(unit))
        with aws_errors(f"register a task definition for {unit.name}", self.env.get("profile", "")):
            return str(self.client.register_task_definition(**td)["taskDefinition"]["taskDefinitionArn"])

    def deploy(self, unit: Unit, release: Release, settings: Settings, progress: Progress) -> Running:
        arn = self.register(unit, release, settings)
        progress(f"registered {short(arn)} with {release.artifact}")
        since = _now()
        service = self._point(unit, arn)
        progress.pointed(arn)
        progress(f"service {unit.name} updated to {short(arn)}; waiting for the roll-out")
        self._wait(unit, arn, service, since, progress)
        progress(f"roll-out of {short(arn)} completed")
        return Running(unit.name, arn, release.artifact, release.fingerprint)

    def rollback(self, unit: Unit, previous: Running, progress: Progress) -> Running:
        if self._rolled_back_by_ecs(unit, previous):
            progress(f"ECS already rolled the service back to {short(previous.revision)}")
            return previous
        progress(f"rolling back to {short(previous.revision)}")
        since = _now()
        service = self._point(unit, previous.revision)
        self._wait(unit, previous.revision, service, since, progress)
        progress(f"back on {short(previous.revision)}")
        return previous

    def _rolled_back_by_ecs(self, unit: Unit, previous: Running) -> bool:
        """A blue/green, canary or linear deployment that ECS rolled back is on ``previous`` already:
        pointing it there again would be one more deployment, bake time and all."""
        found = self.describe_service(unit) or {}
        strategy = self.strategy(unit).ecs_name or (found.get("deploymentConfiguration") or {}).get("strategy")
        return strategy in strategies.NATIVE and found.get("taskDefinition") == previous.revision

    def undo_first_deploy(self, unit: Unit, progress: Progress) -> None:
        """Scale the service to 0 tasks, tagged with its count so that the next deploy restores it."""
        service = self.describe_service(unit)
        if service is None or stopped_count(service) is not None:
            return
        count = int(service.get("desiredCount", 0))
        with aws_errors(f"stop ECS service {unit.name}", self.env.get("profile", "")):
            self.client.tag_resource(
                resourceArn=service["serviceArn"], tags=[{"key": STOPPED_TAG, "value": str(count)}]
            )
            self.client.update_service(cluster=self.cluster, service=self.name_of(unit), desiredCount=0)
        progress(f"first deploy taken out of service: {unit.name} scaled from {count} to 0 tasks")

    def _point(self, unit: Unit, arn: str) -> Mapping[str, Any]:
        """Put the service on ``arn`` (creating the service if needed); returns ECS's description of it."""
        found = self.describe_service(unit)
        return self._create(unit, arn) if found is None else self._update(unit, found, arn)

    def _strategy_args(self, unit: Unit, arn: str, found: Mapping[str, Any] | None) -> dict[str, Any]:
        """deploymentConfiguration and loadBalancers for the configured strategy; {} when none is configured
        (an update then leaves the service's own configuration, say Terraform's, alone)."""
        strategy = self.strategy(unit)
        if found is not None and not strategy.configured:
            return {}
        current = str((found or {}).get("deploymentConfiguration", {}).get("strategy") or "")
        args: dict[str, Any] = {"deploymentConfiguration": strategies.deployment_configuration(strategy, current)}
        if strategy.target_group:
            container = taskdefs.container_of(self.task_definition(arn)[0], unit)["name"]
            port = int(unit.settings.get("port") or 0)
            args["loadBalancers"] = strategies.load_balancers(strategy, container, port)
        return args

    def _update(self, unit: Unit, found: Mapping[str, Any], arn: str) -> Mapping[str, Any]:
        """Point an existing service at ``arn``; one a failed first deploy stopped gets its count back."""
        restore = stopped_count(found)
        count = {} if restore is None else {"desiredCount": restore}
        args = {**count, **self._strategy_args(unit, arn, found)}
        with aws_errors(f"update ECS service {unit.name}", self.env.get("profile", "")):
            service = dict(
                self.client.update_service(
                    cluster=self.cluster, service=self.name_of(unit), taskDefinition=arn, **args
                )["service"]
            )
            if restore is not None:
                self.client.untag_resource(resourceArn=found["serviceArn"], tagKeys=[STOPPED_TAG])
        return service

    def _create(self, unit: Unit, arn: str) -> Mapping[str, Any]:
        subnets, groups = self.env.get("subnets", []), self.env.get("security-groups", [])
        if not subnets:
            raise DeployFailed(
                f"ECS service {self.name_of(unit)} does not exist in {self.cluster}, and the environment has no "
                "subnets to create it in (set subnets and security-groups, or create the service)"
            )
        network = {
            "awsvpcConfiguration": {
                "subnets": list(subnets),
                "securityGroups": list(groups),
                "assignPublicIp": "DISABLED",
            }
        }
        with aws_errors(f"create ECS service {unit.name}", self.env.get("profile", "")):
            return dict(
                self.client.create_service(
                    cluster=self.cluster,
                    serviceName=self.name_of(unit),
                    taskDefinition=arn,
                    desiredCount=1,
                    launchType="FARGATE",
                    networkConfiguration=network,
                    **self._strategy_args(unit, arn, None),
                )["service"]
            )

    # -- one-off tasks (migrations for VPC-only databases) -------------------------------

    def run_once(self, unit: Unit, taskdef: str, command: Sequence[str], progress: Progress) -> OneOff:
        """Run the unit's container once with ``command``; how it ended, with its log output."""
        network = None
        if self.env.get("subnets"):
            network = {
                "awsvpcConfiguration": {
                    "subnets": list(self.env["subnets"]),
                    "securityGroups": list(self.env.get("security-groups", [])),
                    "assignPublicIp": "DISABLED",
                }
            }
        td, _ = self.task_definition(taskdef)
        container = taskdefs.container_of(td, unit)
        name = container["name"]
        kwargs: dict[str, Any] = {
            "cluster": self.cluster,
            "taskDefinition": taskdef,
            "launchType": "FARGATE",
            "startedBy": "shipyard-migrate",
            "overrides": {"containerOverrides": [{"name": name, "command": list(command)}]},
        }
        if network:
            kwargs["networkConfiguration"] = network
        with aws_errors(f"run a one-off {unit.name} task", self.env.get("profile", "")):
            started = self.client.run_task(**kwargs)
        if not started.get("tasks"):
            failures = "; ".join(f.get("reason", "") for f in started.get("failures", []))
            return OneOff(1, f"the task did not start: {failures or 'no reason given'}")
        task_arn = str(started["tasks"][0]["taskArn"])
        code, reason = self._wait_stopped(task_arn, name, progress)
        where = ecs_logs.stream_of(container, task_arn)
        if where is None:
            return OneOff(code, reason, task_arn)
        return OneOff(code, reason, task_arn, ecs_logs.read(self.env, where, sleep=self.sleep, poll=self.poll))

    def _wait_stopped(self, task_arn: str, container: str, progress: Progress) -> tuple[int, str]:
        deadline, last = self.clock() + float(self.env.get("deploy-timeout", 900)), ""
        while True:
            progress.check()
            with aws_errors("describe the one-off task"):
                task = self.client.describe_tasks(cluster=self.cluster, tasks=[task_arn])["tasks"][0]
            if task.get("lastStatus") != last:
                last = str(task.get("lastStatus"))
                progress(f"one-off task {task_arn.rsplit('/', 1)[-1]}: {last}")
            if last == "STOPPED":
                code = next((c.get("exitCode") for c in task.get("containers", []) if c.get("name") == container), None)
                return (1 if code is None else int(code)), task_reason(task)
            if self.clock() >= deadline:
                return 1, "timed out waiting for the one-off task"
            self.sleep(self.poll)


def _now() -> datetime:
    """When a roll-out starts, for ListServiceDeployments' createdAt filter (a minute early: clock skew)."""
    return datetime.now(timezone.utc) - timedelta(minutes=1)
