"""The strategy keys in a real monorepo: where each is set, which wins, and the combinations refused.

Also against moto's server: the configuration reaches create_service/update_service
(moto keeps loadBalancers with their advancedConfiguration, and the deploymentConfiguration
of update_service, but its create_service drops deploymentConfiguration; moto has no
service deployments, so the blue/green wait itself is on the Stubber).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shipyard.core.errors import ConfigError
from shipyard.core.project import load_project
from shipyard.deploy.targets.ecs_strategy import Strategy, strategy_for
from tests.helpers import ROOT_PYPROJECT, make_monorepo, write

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a-blue/0123456789abcdef"
TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a-green/fedcba9876543210"
RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/prod/0123/4567/89ab"
ROLE = "arn:aws:iam::123456789012:role/ecs-blue-green"
LB = f'target-group = "{TG}"\nalternate-target-group = "{TG2}"\nproduction-listener-rule = "{RULE}"\n'
LB += f'load-balancer-role = "{ROLE}"\n'


def repo_with(tmp_path: Path, environment: str, unit_keys: str = "port = 8000") -> Path:
    """services/a and b, with ``environment`` appended to the root pyproject (production on ECS)."""
    root = make_monorepo(tmp_path / "repo", commit=False)
    write(
        root / "pyproject.toml",
        ROOT_PYPROJECT + '\n[tool.shipyard.environments.production]\ntargets = { service = "ecs" }\n'
        'cluster = "prod"\n' + environment,
    )
    unit = root / "services/a/pyproject.toml"
    unit.write_text(unit.read_text() + "\n" + unit_keys + "\n")
    return root


def strategy(root: Path, service: str = "a") -> Strategy:
    project = load_project(root)
    return strategy_for("production", project.settings["environments"]["production"], project.units[service])


def test_the_most_specific_place_wins_key_by_key(tmp_path: Path) -> None:
    root = repo_with(
        tmp_path,
        'strategy = "canary"\nalarms = ["prod-5xx"]\nbake-time = 5\n'
        f'[tool.shipyard.environments.production.services.a]\nstrategy = "blue-green"\n{LB}',
        'port = 8000\nbake-time = 20\nstrategy = "linear"',
    )
    services_b = '[tool.shipyard.environments.production.services.b]\nstrategy = "rolling"\n'
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text() + services_b)
    found = strategy(root)
    assert found == Strategy(
        strategy="blue-green",  # the environment's table for the service beats the unit and the environment
        bake_time=20,  # the unit beats the environment
        alarms=("prod-5xx",),  # only the environment sets it
        target_group=TG,
        alternate_target_group=TG2,
        production_listener_rule=RULE,
        load_balancer_role=ROLE,
    )
    assert found.ecs_name == "BLUE_GREEN"
    # b is rolling: the environment's bake-time (for its canaries) does not apply, its alarms do
    assert strategy(root, "b") == Strategy(strategy="rolling", alarms=("prod-5xx",))


def test_nothing_set_leaves_the_service_alone(tmp_path: Path) -> None:
    assert strategy(repo_with(tmp_path, "")) == Strategy()


def test_blue_green_without_an_alternate_target_group_is_a_config_error(tmp_path: Path) -> None:
    lb = LB.replace(f'alternate-target-group = "{TG2}"\n', "")
    root = repo_with(
        tmp_path, f'strategy = "blue-green"\nbake-time = 10\n[tool.shipyard.environments.production.services.a]\n{lb}'
    )
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert info.value.message == (
        "pyproject.toml: tool.shipyard.environments.production.strategy: 'blue-green' needs alternate-target-group "
        "for a in production: the second target group, which ECS shifts traffic to"
    )
    assert (
        info.value.hint
        == 'set alternate-target-group = "arn:..." in [tool.shipyard.environments.production.services.a]'
    )


@pytest.mark.parametrize(
    ("environment", "unit_keys", "message"),
    [
        (
            f'strategy = "blue-green"\n[tool.shipyard.environments.production.services.a]\n{LB}',
            "port = 8000",
            "pyproject.toml: tool.shipyard.environments.production.strategy: 'blue-green' needs bake-time for a in "
            "production: ECS requires it",
        ),
        (
            "",
            "port = 8000\ncanary-percent = 10",
            "services/a/pyproject.toml: tool.shipyard.canary-percent: does nothing with strategy 'rolling' "
            "(a in production)",
        ),
        (
            f'strategy = "linear"\nlinear-percent = 1\n[tool.shipyard.environments.production.services.a]\n{LB}',
            "port = 8000",
            "pyproject.toml: tool.shipyard.environments.production.linear-percent: expected a percentage from 3 to "
            "100, got 1",
        ),
        (
            f'[tool.shipyard.environments.production.services.a]\ntarget-group = "{TG}"',
            "",
            "pyproject.toml: tool.shipyard.environments.production.services.a.target-group: a has no port for the "
            "load balancer to send to",
        ),
        (
            '[tool.shipyard.environments.production.services.api]\nstrategy = "canary"',
            "port = 8000",
            "pyproject.toml: tool.shipyard.environments.production.services.api: unknown service",
        ),
        (
            'strategy = "blue-grean"',
            "port = 8000",
            "pyproject.toml: tool.shipyard.environments.production.strategy: expected one of rolling, blue-green, "
            "canary, linear, got \"blue-grean\" (did you mean 'blue-green'?)",
        ),
    ],
)
def test_combinations_that_cannot_work_are_refused_before_anything_runs(
    tmp_path: Path, environment: str, unit_keys: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_project(repo_with(tmp_path, environment, unit_keys))
    assert info.value.message == message


def test_a_static_unit_cannot_set_a_strategy(tmp_path: Path) -> None:
    root = make_monorepo(tmp_path / "repo", commit=False)
    write(root / "services/site/shipyard.toml", 'kind = "static"\nbuild = ["true"]\nstrategy = "canary"\n')
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert info.value.message == "services/site/shipyard.toml: strategy: does nothing in a non-Python static unit"


def test_environments_on_other_targets_ignore_the_keys(tmp_path: Path) -> None:
    """A unit's blue-green is for its ECS environments; the local target rolls out its own way."""
    root = repo_with(tmp_path, "", 'port = 8000\nstrategy = "blue-green"')
    with pytest.raises(ConfigError):  # production is on ECS: the unit's blue-green needs its load balancer
        load_project(root)
    text = (root / "pyproject.toml").read_text().replace('targets = { service = "ecs" }\ncluster = "prod"\n', "")
    (root / "pyproject.toml").write_text(text)  # an ECS key in a local environment would be an error of its own
    assert load_project(root).units["a"].settings["strategy"] == "blue-green"


# -- moto's server: what reaches create_service / update_service -----------------------------------


def moto_target(cluster: str, env_keys: dict[str, Any]) -> tuple[Any, Any]:
    """A fresh cluster of its own (the moto server lives for the whole session) and a target on it."""
    import boto3

    from shipyard.deploy.target import TargetContext
    from shipyard.deploy.targets.ecs import EcsTarget

    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    env = {"cluster": cluster, "subnets": [subnet], "deploy-timeout": 30, **env_keys}
    return ecs, EcsTarget(TargetContext(None, "production", env), poll=0.01)  # type: ignore[arg-type]


def register(ecs: Any, image: str) -> str:
    return str(
        ecs.register_task_definition(
            family="a-production",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "a", "image": image, "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def test_moto_receives_the_rolling_configuration_and_load_balancers(aws: str) -> None:
    from shipyard.core.project import Unit

    ecs, target = moto_target("prod-rolling", {"strategy": "rolling", "target-group": TG, "alarms": ["prod-5xx"]})
    unit = Unit("a", "service", "services/a", "services/a/pyproject.toml", {"port": 8000}, ">=3.10", True)
    first = register(ecs, "a@sha256:" + "1" * 64)
    service = target._point(unit, first)  # created: moto runs no tasks, so no roll-out wait here
    assert service["loadBalancers"] == [{"targetGroupArn": TG, "containerName": "a", "containerPort": 8000}]
    second = register(ecs, "a@sha256:" + "2" * 64)
    updated = target._point(unit, second)
    assert updated["taskDefinition"] == second
    described = ecs.describe_services(cluster="prod-rolling", services=["a"])["services"][0]
    assert described["loadBalancers"] == [{"targetGroupArn": TG, "containerName": "a", "containerPort": 8000}]
    # moto stores the deploymentConfiguration update_service sent (its create_service drops it)
    assert described["deploymentConfiguration"] == {
        "strategy": "ROLLING",
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "alarms": {"alarmNames": ["prod-5xx"], "enable": True, "rollback": True},
    }


def test_moto_receives_the_blue_green_advanced_configuration(aws: str) -> None:
    keys = {"strategy": "blue-green", "bake-time": 10}
    ecs, target = moto_target(
        "prod-blue-green",
        {
            "services": {
                "a": {
                    **keys,
                    "target-group": TG,
                    "alternate-target-group": TG2,
                    "production-listener-rule": RULE,
                    "load-balancer-role": ROLE,
                }
            }
        },
    )
    from shipyard.core.project import Unit

    unit = Unit("a", "service", "services/a", "services/a/pyproject.toml", {"port": 8000}, ">=3.10", True)
    created = target._point(unit, register(ecs, "a@sha256:" + "1" * 64))
    assert "strategy" not in created.get("deploymentConfiguration", {})  # moto's create_service drops it
    service = target._point(unit, register(ecs, "a@sha256:" + "2" * 64))
    assert service["deploymentConfiguration"] == {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10}
    advanced = {"alternateTargetGroupArn": TG2, "productionListenerRule": RULE, "roleArn": ROLE}
    expected = [{"targetGroupArn": TG, "containerName": "a", "containerPort": 8000, "advancedConfiguration": advanced}]
    assert service["loadBalancers"] == expected
    assert ecs.describe_services(cluster="prod-blue-green", services=["a"])["services"][0]["loadBalancers"] == expected


def test_moto_service_and_cluster_names_from_templates(aws: str) -> None:
    """`agentic-deals-service-{env}` in the unit's table and `deals-{env}` as the cluster."""
    import boto3

    from shipyard.core.project import Unit
    from shipyard.deploy.target import TargetContext
    from shipyard.deploy.targets.ecs import EcsTarget

    boto3.client("ecs").create_cluster(clusterName="deals-production")
    ecs, base = moto_target("prod-names", {})  # its subnet; the cluster is the template's
    env = {**base.env, "cluster": "deals-{env}"}
    target = EcsTarget(TargetContext(None, "production", env), poll=0.01)  # type: ignore[arg-type]
    settings = {"port": 8000, "service-name": "agentic-deals-service-{env}"}
    unit = Unit("deals", "service", "services/deals", "services/deals/pyproject.toml", settings, ">=3.10", True)
    created = target._point(unit, register(ecs, "a@sha256:" + "1" * 64))
    assert (created["serviceName"], created["clusterArn"].rsplit("/", 1)[-1]) == (
        "agentic-deals-service-production",
        "deals-production",
    )
    assert target.describe_service(unit) is not None
    assert target.name_of(unit) == "agentic-deals-service-production"


@pytest.mark.parametrize(
    ("environment", "unit_keys", "message"),
    [
        (
            'service-name = "{service}-{stage}"',
            "port = 8000",
            "pyproject.toml: tool.shipyard.environments.production.service-name: cannot fill in '{service}-{stage}' "
            "(KeyError: 'stage')",
        ),
        (
            "",
            'port = 8000\nservice-name = "deals service"',
            "services/a/pyproject.toml: tool.shipyard.service-name: 'deals service' is not a valid ECS name",
        ),
    ],
)
def test_name_templates_are_checked_when_the_project_loads(
    tmp_path: Path, environment: str, unit_keys: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_project(repo_with(tmp_path, environment, unit_keys))
    assert info.value.message == message


def test_a_cluster_template_with_an_unknown_placeholder_is_a_config_error(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "")
    text = (root / "pyproject.toml").read_text().replace('cluster = "prod"', 'cluster = "deals-{environment}"')
    (root / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert info.value.message == (
        "pyproject.toml: tool.shipyard.environments.production.cluster: cannot fill in 'deals-{environment}' "
        "(KeyError: 'environment')"
    )
    assert info.value.hint == "the template may use {env}"


LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:a-smoke"
BLUE_GREEN_A = f'[tool.shipyard.environments.production.services.a]\nstrategy = "blue-green"\nbake-time = 5\n{LB}'


def hook(body: str) -> str:
    return f"{BLUE_GREEN_A}[tool.shipyard.environments.production.services.a.lifecycle-hooks.smoke]\n{body}\n"


def test_lifecycle_hooks_are_read_by_name() -> None:
    import botocore.session

    from shipyard.core.config import HOOK_STAGES

    model = botocore.session.get_session().get_service_model("ecs")
    stages = model.shape_for("DeploymentLifecycleHook").members["lifecycleStages"].member.enum
    assert tuple(stages) == HOOK_STAGES  # the schema's choices are ECS's own


def test_lifecycle_hooks_reach_the_strategy(tmp_path: Path) -> None:
    from shipyard.deploy.targets.ecs_strategy import Hook, deployment_configuration

    body = f'lambda-arn = "{LAMBDA}"\nrole-arn = "{ROLE}"\nstages = ["POST_TEST_TRAFFIC_SHIFT"]'
    found = strategy(repo_with(tmp_path, hook(body)))
    assert found.lifecycle_hooks == (Hook("smoke", LAMBDA, ROLE, ("POST_TEST_TRAFFIC_SHIFT",)),)
    assert deployment_configuration(found)["lifecycleHooks"] == [
        {"hookTargetArn": LAMBDA, "roleArn": ROLE, "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}
    ]


WHERE = "pyproject.toml: tool.shipyard.environments.production.services.a"


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            hook(f'lambda-arn = "{LAMBDA}"\nrole-arn = "{ROLE}"\nstages = ["POST_TEST_TRAFIC_SHIFT"]'),
            f"{WHERE}.lifecycle-hooks.smoke.stages: expected one of "
            "RECONCILE_SERVICE, PRE_SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, "
            "PRE_PRODUCTION_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, "
            "got \"POST_TEST_TRAFIC_SHIFT\" (did you mean 'POST_TEST_TRAFFIC_SHIFT'?)",
        ),
        (
            hook(f'lambda-arn = "{LAMBDA}"\nstages = ["PRE_SCALE_UP"]'),
            f"{WHERE}.lifecycle-hooks.smoke: role-arn is missing",
        ),
        (hook(f'lambda-arn = "{LAMBDA}"\nrole-arn = "{ROLE}"'), f"{WHERE}.lifecycle-hooks.smoke: stages is missing"),
        (
            hook(f'lambda = "{LAMBDA}"'),
            f"{WHERE}.lifecycle-hooks.smoke.lambda: unknown key (did you mean 'lambda-arn'?)",
        ),
        (
            "[tool.shipyard.environments.production.services.a.lifecycle-hooks.smoke]\n"
            f'lambda-arn = "{LAMBDA}"\nrole-arn = "{ROLE}"\nstages = ["PRE_SCALE_UP"]\n',
            f"{WHERE}.lifecycle-hooks: does nothing with strategy 'rolling' (a in production)",
        ),
    ],
)
def test_bad_lifecycle_hooks_are_refused_when_the_project_loads(tmp_path: Path, environment: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_project(repo_with(tmp_path, environment))
    assert info.value.message == message
