"""migrate-via = "ecs" on moto: one-off tasks of the release's task definition, output from CloudWatch Logs.

moto's run_task starts no container, so the test plays the container: a botocore hook on
shipyard's own ECS client runs the task's command (the override shipyard sent) in the
task definition's image against the real PostgreSQL database, and writes what it printed
to the log stream the awslogs driver would use (``<prefix>/<container>/<task id>``).
Everything shipyard does is real: run_task, describe_tasks until STOPPED, get_log_events,
the parse of alembic's output, the ledger entry. moto reports exit code 0 for every task;
a failing task (exit code, stop reason) is covered by the Stubber test in
targets/test_ecs_rollout.py and the fake-target test in test_migrate.py.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from shipyard import aws as shipyard_aws
from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.deploy.commands import run_migrations
from shipyard.deploy.ledger import DEPLOY, MIGRATE, SUCCEEDED
from tests.deploy.ecs_example import REGION, Cloud, Endpoint, psql
from tests.deploy.test_transaction import Output, ledger, run_deploy

pytestmark = pytest.mark.integration

LOG_GROUP = "/ecs/staging"


@dataclass
class FakeContainer:
    """Runs each one-off task's command for real and puts its output into the task's log stream."""

    database: str
    silent: bool = False  # a container that prints nothing (or whose output never reached the log)
    runs: list[tuple[str, ...]] = field(default_factory=list)
    _params: list[dict[str, Any]] = field(default_factory=list)

    def capture(self, params: dict[str, Any], **_: Any) -> None:
        self._params.append(params)

    def started(self, parsed: dict[str, Any], **_: Any) -> None:
        task = parsed.get("tasks", [{}])[0]
        if not task:
            return
        params = self._params[-1]
        command = tuple(params["overrides"]["containerOverrides"][0]["command"])
        ecs, logs = boto3.client("ecs", region_name=REGION), boto3.client("logs", region_name=REGION)
        td = ecs.describe_task_definition(taskDefinition=params["taskDefinition"])["taskDefinition"]
        container = td["containerDefinitions"][0]
        done = subprocess.run(
            ("docker", "run", "--rm", "--network", "host", "-e", "DATABASE_URL", container["image"], *command),
            env={"PATH": "/usr/bin:/bin:/usr/local/bin", "DATABASE_URL": self.database},
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.runs.append(command)
        if self.silent:
            return
        options = container["logConfiguration"]["options"]
        stream = f"{options['awslogs-stream-prefix']}/{container['name']}/{task['taskArn'].rsplit('/', 1)[-1]}"
        logs.create_log_stream(logGroupName=options["awslogs-group"], logStreamName=stream)
        now = int(time.time() * 1000)
        lines = (done.stdout + done.stderr).splitlines() or ["(nothing)"]
        events = [{"timestamp": now + i, "message": line} for i, line in enumerate(lines)]
        logs.put_log_events(logGroupName=options["awslogs-group"], logStreamName=stream, logEvents=events)


def _moto(endpoint: str, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/{path}", data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(request, timeout=10)


def _network(cloud: Cloud) -> tuple[str, str]:
    """A VPC subnet and security group in moto (awsvpc tasks get a network interface in it)."""
    ec2 = cloud.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto needs it for the ENI's name
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    return subnet, group


def _with_logs(cloud: Cloud) -> None:
    """The api service's task definition sends its output to CloudWatch Logs (the awslogs driver)."""
    ecs = cloud.client("ecs")
    cloud.client("logs").create_log_group(logGroupName=LOG_GROUP)
    td = ecs.describe_task_definition(taskDefinition=cloud.service("api")["taskDefinition"])["taskDefinition"]
    container = {
        **td["containerDefinitions"][0],
        "memory": 512,  # moto sums container memory to place a task
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"},
        },
    }
    keep = ("family", "cpu", "memory", "networkMode", "requiresCompatibilities", "executionRoleArn")
    arn = ecs.register_task_definition(**{k: td[k] for k in keep}, containerDefinitions=[container])
    ecs.update_service(cluster="staging", service="api", taskDefinition=arn["taskDefinition"]["taskDefinitionArn"])


@pytest.fixture
def vpc_staging(
    ecs_repo: Path, ecs_aws: str, ecs_database: str, smoke_endpoint: Endpoint
) -> Iterator[tuple[Cloud, FakeContainer]]:
    """staging with migrate-via = "ecs", a real subnet, awslogs, and the fake container on shipyard's client."""
    smoke_endpoint.status = 200
    cloud = Cloud("staging", ecs_database).create()
    subnet, group = _network(cloud)
    _with_logs(cloud)
    immediate = {"model_name": "ecs::task", "transition": {"progression": "immediate"}}
    _moto(ecs_aws, "state-manager/set-transition", immediate)  # a task is STOPPED at its first describe
    pyproject = ecs_repo / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(
        original.replace('subnets = ["subnet-0a1b2c3d"]', f'subnets = ["{subnet}"]\nmigrate-via = "ecs"').replace(
            'security-groups = ["sg-0a1b2c3d"]', f'security-groups = ["{group}"]'
        )
    )
    container = FakeContainer(ecs_database)
    client = shipyard_aws.env_client("ecs", load_project(ecs_repo).environment("staging"))
    client.meta.events.register("provide-client-params.ecs.RunTask", container.capture)
    client.meta.events.register("after-call.ecs.RunTask", container.started)
    try:
        yield cloud, container
    finally:
        client.meta.events.unregister("provide-client-params.ecs.RunTask", container.capture)
        client.meta.events.unregister("after-call.ecs.RunTask", container.started)
        pyproject.write_text(original)
        _moto(ecs_aws, "state-manager/unset-transition", {"model_name": "ecs::task"})


def test_check_and_upgrade_run_as_one_off_tasks_and_record_the_revision_read_back(
    ecs_repo: Path, vpc_staging: tuple[Cloud, FakeContainer], ecs_database: str, slack_endpoint: Endpoint
) -> None:
    cloud, container = vpc_staging
    project, out = load_project(ecs_repo), Output()
    statuses = run_migrations(project, "staging", (), check_only=True, say=out)
    assert statuses["api"].pending == ("0001", "0002") and statuses["api"].current == "base"
    assert "api: reading migrations of a one-off ECS task" in out.text  # never from this runner
    assert out.lines[-1] == "api: at base; pending: 0001, 0002"
    assert len(container.runs) == 1 and container.runs[0][-1] == "/app/alembic.ini"  # the status script only
    assert psql(ecs_database, "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'") == "0"
    # the task ran a revision of the api's task definition with the release's image, by digest
    task_image = cloud.container("api")["image"]
    assert task_image == "placeholder/api:initial"  # the service itself was not touched
    assert ledger(ecs_repo, "staging").history() == []  # --check records nothing

    slack_endpoint.posts.clear()
    out = Output()
    run_migrations(project, "staging", ("api",), check_only=False, say=out)
    assert psql(ecs_database, "SELECT version_num FROM alembic_version") == "0002"
    assert container.runs[-1][-1] == "upgrade" and len(container.runs) == 3  # check, then upgrade
    assert "Running upgrade 0001 -> 0002" in out.text  # alembic's own output, from the log stream
    assert out.lines[-1] == "api: migrated to 0002"
    (entry,) = ledger(ecs_repo, "staging").history()
    assert (entry.action, entry.outcome, entry.migration) == (MIGRATE, SUCCEEDED, "0002")
    assert entry.reason == "0001, 0002 applied (base -> 0002)" and entry.artifact.split("@")[1].startswith("sha256:")
    assert ledger(ecs_repo, "staging").current("api") is None  # a migration is not a release that runs
    assert any("migrated api in staging" in p["text"] for p in slack_endpoint.posts)


def test_a_deploy_records_the_revision_the_task_reached_not_head(
    ecs_repo: Path, vpc_staging: tuple[Cloud, FakeContainer], ecs_database: str
) -> None:
    cloud, container = vpc_staging
    results, out = run_deploy(ecs_repo, "staging", "api")
    assert results[0].ok, out.text
    assert psql(ecs_database, "SELECT version_num FROM alembic_version") == "0002"
    assert "api: migrations applied (a one-off ECS task): now at 0002" in out.text
    (entry,) = ledger(ecs_repo, "staging").history("api")
    assert (entry.action, entry.migration) == (DEPLOY, "0002")  # it was the literal "head"
    assert container.runs[-1][-1] == "upgrade"
    # the task ran the revision the deploy registered and then rolled out
    assert cloud.service("api")["taskDefinition"] == entry.revision


def test_an_empty_log_stream_is_never_up_to_date(ecs_repo: Path, vpc_staging: tuple[Cloud, FakeContainer]) -> None:
    _, container = vpc_staging
    container.silent = True
    with pytest.raises(ShipyardError, match="log stream has no migration status in it"):
        run_migrations(load_project(ecs_repo), "staging", (), check_only=True, say=Output())
