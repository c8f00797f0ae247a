"""How ECS rolls a service out: the strategy keys of one service in one environment, as a value.

The keys (config.py ``STRATEGY_FIELDS``) may be set in three places; the most specific
wins, key by key:

1. ``[tool.shipyard.environments.<env>.services.<service>]`` in the root pyproject.toml
2. the service's own ``[tool.shipyard]`` table
3. ``[tool.shipyard.environments.<env>]``

``check_project`` validates every combination when the project is loaded (before anything
runs); ``strategy_for`` gives the typed value the ECS target turns into
``deploymentConfiguration`` and ``loadBalancers`` (pure functions below).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.core.config import STRATEGY_FIELDS
from shipyard.core.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from shipyard.core.project import Project, Unit
    from shipyard.deploy.targets.ecs_taskdef_file import TaskDefinitionFile

ECS_NAMES = {"rolling": "ROLLING", "blue-green": "BLUE_GREEN", "canary": "CANARY", "linear": "LINEAR"}
NATIVE = ("BLUE_GREEN", "CANARY", "LINEAR")  # strategies whose progress is a service deployment
# what a blue-green, canary or linear deployment needs, with what to tell the user
NEEDS_LB = {
    "target-group": "the target group serving production traffic now",
    "alternate-target-group": "the second target group, which ECS shifts traffic to",
    "production-listener-rule": "the listener rule (an NLB: the listener) ECS repoints",
    "load-balancer-role": "an IAM role ECS assumes to change the listener rules",
}
ONLY = {
    "bake-time": ("blue-green", "canary", "linear"),
    "canary-percent": ("canary",),
    "canary-interval": ("canary",),
    "linear-percent": ("linear",),
    "linear-interval": ("linear",),
    "alternate-target-group": ("blue-green", "canary", "linear"),
    "production-listener-rule": ("blue-green", "canary", "linear"),
    "test-listener-rule": ("blue-green", "canary", "linear"),
    "load-balancer-role": ("blue-green", "canary", "linear"),
    "lifecycle-hooks": ("blue-green", "canary", "linear"),
}
PERCENT_RANGE = {"canary-percent": (1, 100), "linear-percent": (3, 100)}  # ECS's own limits
MAX_MINUTES = 1440  # ECS: bake times up to a day
_ECS_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # ECS's rule for service and cluster names


@dataclass(frozen=True)
class Hook:
    """One lifecycle hook: a Lambda function ECS invokes at ``stages``; a failure rolls back."""

    name: str
    lambda_arn: str
    role_arn: str
    stages: tuple[str, ...]

    def ecs(self) -> dict[str, Any]:
        """The DeploymentLifecycleHook of deploymentConfiguration.lifecycleHooks."""
        return {"hookTargetArn": self.lambda_arn, "roleArn": self.role_arn, "lifecycleStages": list(self.stages)}


@dataclass(frozen=True)
class Strategy:
    """The effective strategy keys of one service in one environment; ``strategy`` "" = unset."""

    strategy: str = ""
    bake_time: int | None = None
    alarms: tuple[str, ...] = ()
    canary_percent: int | None = None
    canary_interval: int | None = None
    linear_percent: int | None = None
    linear_interval: int | None = None
    target_group: str = ""
    alternate_target_group: str = ""
    production_listener_rule: str = ""
    test_listener_rule: str = ""
    load_balancer_role: str = ""
    lifecycle_hooks: tuple[Hook, ...] = ()
    service_name: str = ""  # the template, as set; ``ecs_service`` renders it
    task_definition: str = ""  # the file's path template, as set (ecs_taskdef_file.py)

    @property
    def configured(self) -> bool:
        """Whether any key of the deployment itself is set (the service's name and task definition are not)."""
        return dataclasses.replace(self, service_name="", task_definition="") != Strategy()

    @property
    def ecs_name(self) -> str:
        """ROLLING, BLUE_GREEN, CANARY, LINEAR; "" when unset (the service keeps its own)."""
        return ECS_NAMES.get(self.strategy, "")


def layers(env_name: str, env: Mapping[str, Any], unit: Unit) -> list[tuple[str, Mapping[str, Any]]]:
    """(where, table) of each place the keys can be set, most specific first."""
    where = f"pyproject.toml: tool.shipyard.environments.{env_name}"
    prefix = "tool.shipyard" if unit.source.endswith("pyproject.toml") else ""
    return [
        (f"{where}.services.{unit.name}", env.get("services", {}).get(unit.name, {})),
        (f"{unit.source}: {prefix or 'top level'}", unit.settings),
        (where, env),
    ]


def merged(env_name: str, env: Mapping[str, Any], unit: Unit) -> dict[str, tuple[Any, str]]:
    """Each key set somewhere: (value, where it was set)."""
    found: dict[str, tuple[Any, str]] = {}
    for where, table in reversed(layers(env_name, env, unit)):
        for key in STRATEGY_FIELDS:
            if table.get(key) is not None:
                found[key] = (table[key], where)
    return found


def strategy_for(env_name: str, env: Mapping[str, Any], unit: Unit) -> Strategy:
    """The checked, effective strategy of ``unit`` in the environment."""
    keys = _applicable(merged(env_name, env, unit), layers(env_name, env, unit)[-1][0])
    check(env_name, unit, keys)
    value = {k.replace("-", "_"): v for k, (v, _) in keys.items()}
    if "alarms" in value:
        value["alarms"] = tuple(value["alarms"])
    if "lifecycle_hooks" in value:
        value["lifecycle_hooks"] = tuple(
            Hook(name, h["lambda-arn"], h["role-arn"], tuple(h["stages"]))
            for name, h in sorted(value["lifecycle_hooks"].items())
        )
    return Strategy(**value)


def _applicable(keys: dict[str, tuple[Any, str]], environment: str) -> dict[str, tuple[Any, str]]:
    """Less the environment-wide keys for another strategy than the one this service sets itself
    (``bake-time`` for the environment's blue-green does not apply to a service set to rolling)."""
    strategy, source = keys.get("strategy", ("rolling", ""))
    if source == environment:
        return keys
    return {k: v for k, v in keys.items() if not (v[1] == environment and strategy not in ONLY.get(k, (strategy,)))}


def check(env_name: str, unit: Unit, keys: Mapping[str, tuple[Any, str]]) -> None:
    """Combinations the schema cannot express, with the place of the key that is wrong."""
    strategy, source = keys.get("strategy", ("", ""))
    name = strategy or "rolling"
    for key, allowed in ONLY.items():
        if key in keys and name not in allowed:
            raise ConfigError(
                f"{keys[key][1]}.{key}: does nothing with strategy {name!r} ({unit.name} in {env_name})",
                hint=f"`{key}` applies to strategy {' / '.join(allowed)} only; remove it or set strategy",
            )
    if name != "rolling":
        _check_native(env_name, unit, name, source, keys)
    if "target-group" in keys and not unit.settings.get("port"):
        raise ConfigError(
            f"{keys['target-group'][1]}.target-group: {unit.name} has no port for the load balancer to send to",
            hint=f"set port in {unit.source}",
        )
    _check_numbers(keys)
    if "service-name" in keys:
        render(keys["service-name"][0], f"{keys['service-name'][1]}.service-name", service=unit.name, env=env_name)
    if any(not a.strip() for a in keys.get("alarms", ([], ""))[0]):
        raise ConfigError(f"{keys['alarms'][1]}.alarms: an alarm name is empty")
    if "lifecycle-hooks" in keys:
        _check_hooks(*keys["lifecycle-hooks"])


def _check_hooks(hooks: Mapping[str, Mapping[str, Any]], where: str) -> None:
    """Every hook names its Lambda function, its role and at least one stage."""
    for name, hook in hooks.items():
        for key, what in (("lambda-arn", "the Lambda function's ARN"), ("role-arn", "the role ECS invokes it with")):
            if not hook.get(key):
                raise ConfigError(
                    f"{where}.lifecycle-hooks.{name}: {key} is missing", hint=f'set {key} = "arn:..." ({what})'
                )
        if not hook.get("stages"):
            raise ConfigError(
                f"{where}.lifecycle-hooks.{name}: stages is missing",
                hint='set stages = ["POST_TEST_TRAFFIC_SHIFT", ...] (the lifecycle stages the hook runs at)',
            )


def _check_native(env_name: str, unit: Unit, name: str, source: str, keys: Mapping[str, tuple[Any, str]]) -> None:
    for key, what in NEEDS_LB.items():
        if not keys.get(key, ("", ""))[0]:
            raise ConfigError(
                f"{source}.strategy: {name!r} needs {key} for {unit.name} in {env_name}: {what}",
                hint=f'set {key} = "arn:..." in [tool.shipyard.environments.{env_name}.services.{unit.name}]',
            )
    if name == "blue-green" and "bake-time" not in keys:
        raise ConfigError(
            f"{source}.strategy: 'blue-green' needs bake-time for {unit.name} in {env_name}: ECS requires it",
            hint="set bake-time = 10 (minutes both revisions run after the switch; 0 for none) next to strategy",
        )


def _check_numbers(keys: Mapping[str, tuple[Any, str]]) -> None:
    for key in ("bake-time", "canary-interval", "linear-interval"):
        if key in keys and not 0 <= keys[key][0] <= MAX_MINUTES:
            raise ConfigError(f"{keys[key][1]}.{key}: expected minutes from 0 to {MAX_MINUTES}, got {keys[key][0]}")
    for key, (low, high) in PERCENT_RANGE.items():
        if key in keys and not low <= keys[key][0] <= high:
            raise ConfigError(f"{keys[key][1]}.{key}: expected a percentage from {low} to {high}, got {keys[key][0]}")


def check_project(project: Project) -> None:
    """Every service's strategy in every environment that deploys services to ECS."""
    for env_name, env in project.settings["environments"].items():
        services = [u for u in project.units.values() if u.kind == "service"]
        for name in env.get("services", {}):
            if name not in {u.name for u in services}:
                raise ConfigError(
                    f"pyproject.toml: tool.shipyard.environments.{env_name}.services.{name}: unknown service"
                    f"{did_you_mean(name, [u.name for u in services])}",
                    hint="services: " + ", ".join(sorted(u.name for u in services)),
                )
        if env.get("targets", {}).get("service") != "ecs":
            continue  # the keys are ECS's: the local target rolls out its own way
        if env.get("cluster"):
            ecs_cluster(env["cluster"], env_name)
        for unit in services:
            task_definition_file(project, env_name, unit, strategy_for(env_name, env, unit))


def task_definition_file(project: Project, env_name: str, unit: Unit, strategy: Strategy) -> TaskDefinitionFile | None:
    """The unit's task-definition file in the environment, read and checked; None without one."""
    from shipyard.deploy.targets.ecs_taskdef_file import for_unit

    services = sum(1 for u in project.units.values() if u.kind == "service")
    return for_unit(
        project.root, unit.path, strategy.task_definition, service=unit.name, env=env_name, services=services
    )


def render(template: str, where: str, **names: str) -> str:
    """``template`` with {service}/{env} filled in, checked against ECS's naming rule."""
    try:
        value = template.format(**names)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"{where}: cannot fill in {template!r} ({type(exc).__name__}: {exc})",
            hint="the template may use " + " and ".join("{" + n + "}" for n in names),
        ) from None
    if not _ECS_NAME.match(value):
        raise ConfigError(
            f"{where}: {value!r} is not a valid ECS name", hint="up to 255 letters, digits, hyphens and underscores"
        )
    return value


def ecs_service(strategy: Strategy, unit: Unit, env_name: str) -> str:
    """The ECS service name of ``unit`` in the environment."""
    return render(strategy.service_name or "{service}", "service-name", service=unit.name, env=env_name)


def ecs_cluster(template: str, env_name: str) -> str:
    """The environment's cluster name, ``{env}`` filled in."""
    where = f"pyproject.toml: tool.shipyard.environments.{env_name}.cluster"
    return render(template, where, env=env_name)


def deployment_configuration(strategy: Strategy, current: str = "") -> dict[str, Any]:
    """The ``deploymentConfiguration`` of update_service/create_service for ``strategy``.

    ``current`` is the service's strategy now (ECS's name), which an unset ``strategy`` keeps.
    """
    config: dict[str, Any] = {"strategy": strategy.ecs_name} if strategy.ecs_name else {}
    if (strategy.ecs_name or current) not in NATIVE:  # ECS: the circuit breaker is for rolling updates
        config["deploymentCircuitBreaker"] = {"enable": True, "rollback": True}
    if strategy.bake_time is not None:
        config["bakeTimeInMinutes"] = strategy.bake_time
    if strategy.alarms:
        config["alarms"] = {"alarmNames": list(strategy.alarms), "enable": True, "rollback": True}
    if strategy.lifecycle_hooks:
        config["lifecycleHooks"] = [hook.ecs() for hook in strategy.lifecycle_hooks]
    canary = _steps("canaryPercent", strategy.canary_percent, "canaryBakeTimeInMinutes", strategy.canary_interval)
    if canary:
        config["canaryConfiguration"] = canary
    linear = _steps("stepPercent", strategy.linear_percent, "stepBakeTimeInMinutes", strategy.linear_interval)
    if linear:
        config["linearConfiguration"] = linear
    return config


def _steps(percent_key: str, percent: int | None, minutes_key: str, minutes: int | None) -> dict[str, Any]:
    """Only what is set: ECS fills in its own defaults (ECS_DEFAULTS) for the rest."""
    found: dict[str, Any] = {}
    if percent is not None:
        found[percent_key] = float(percent)
    if minutes is not None:
        found[minutes_key] = minutes
    return found


def load_balancers(strategy: Strategy, container: str, port: int) -> list[dict[str, Any]]:
    """The service's ``loadBalancers`` (with the blue/green ``advancedConfiguration``); [] without a target group."""
    if not strategy.target_group:
        return []
    entry: dict[str, Any] = {"targetGroupArn": strategy.target_group, "containerName": container, "containerPort": port}
    if strategy.alternate_target_group:
        advanced = {
            "alternateTargetGroupArn": strategy.alternate_target_group,
            "productionListenerRule": strategy.production_listener_rule,
            "roleArn": strategy.load_balancer_role,
        }
        if strategy.test_listener_rule:
            advanced["testListenerRule"] = strategy.test_listener_rule
        entry["advancedConfiguration"] = advanced
    return [entry]


# ECS's documented defaults when canaryConfiguration/linearConfiguration leave a value out
ECS_DEFAULTS = {"canaryBakeTimeInMinutes": 10, "stepPercent": 10.0, "stepBakeTimeInMinutes": 6}


def patience(config: Mapping[str, Any]) -> int:
    """Seconds a service deployment with ``config`` (as ECS returns it) spends baking on purpose.

    The roll-out's wait is deploy-timeout plus this: a 30-minute bake time is not a hang.
    """
    strategy = config.get("strategy")
    minutes = int(config.get("bakeTimeInMinutes") or 0)
    if strategy == "CANARY":
        canary = {**ECS_DEFAULTS, **(config.get("canaryConfiguration") or {})}
        minutes += int(canary["canaryBakeTimeInMinutes"])
    if strategy == "LINEAR":
        linear = {**ECS_DEFAULTS, **(config.get("linearConfiguration") or {})}
        steps = -(-1000 // int(float(linear["stepPercent"]) * 10))  # ceil, in tenths of a percent
        minutes += (steps - 1) * int(linear["stepBakeTimeInMinutes"])  # none after the last step
    return minutes * 60
