"""The example system deployed to ECS on a moto server of its own, with real images and PostgreSQL.

- a moto server started with MOTO_ECS_SERVICE_RUNNING=1, so a service with one desired
  task completes its roll-out (and one with two never does: the "slow roll-out");
  reset before each test;
- one copy of the example system (services/api + worker, libs/common) whose images are
  built and pushed by shipyard's own images code on the first deploy, then reused;
  environments `staging` (ECR API on moto, image bytes in the local registry) and
  `production` (protected, promote-from staging, the same repositories as a plain registry);
- a smoke-check endpoint whose answer the test flips, and a Slack webhook that records.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shipyard import aws as shipyard_aws
from tests.conftest import free_port, moto_process, require
from tests.helpers import write
from tests.images.example import copy_example, delete_registry_repositories, remove_local_images

REGION, ACCOUNT = "us-east-1", "123456789012"
EXEC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecution"


@dataclass
class Endpoint:
    """A local HTTP server: GET answers ``status``; POST bodies are recorded."""

    port: int
    status: int = 200
    posts: list[dict[str, Any]] = field(default_factory=list)
    gets: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _serve(endpoint: Endpoint) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            endpoint.gets += 1
            self.send_response(endpoint.status)
            self.end_headers()
            self.wfile.write(b'{"status": "ok"}' if endpoint.status == 200 else b'{"status": "unavailable"}')

        def do_POST(self) -> None:
            endpoint.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", endpoint.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def smoke_endpoint() -> Iterator[Endpoint]:
    endpoint = Endpoint(free_port())
    server = _serve(endpoint)
    yield endpoint
    server.shutdown()


@pytest.fixture(scope="module")
def slack_endpoint() -> Iterator[Endpoint]:
    endpoint = Endpoint(free_port())
    server = _serve(endpoint)
    yield endpoint
    server.shutdown()


@pytest.fixture(scope="module")
def ecs_moto() -> Iterator[str]:
    """A moto server for these tests: ECS services with one desired task complete."""
    yield from moto_process({"MOTO_ECS_SERVICE_RUNNING": "1"})


AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@pytest.fixture
def ecs_aws(ecs_moto: str, slack_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 (and shipyard's cached clients) pointed at a freshly reset moto server."""
    urllib.request.urlopen(urllib.request.Request(f"{ecs_moto}/moto-api/reset", method="POST"), timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", ecs_moto)
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the CI machine's own: would shadow .env.<env>
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"{slack_endpoint.url}/services/T0/B0/hook-secret-1234")  # a CI secret
    shipyard_aws.reset()
    return ecs_moto


def environments(prefix: str, registry: str, smoke: Endpoint) -> str:
    return f"""
[tool.shipyard.environments.staging]
targets = {{ service = "ecs" }}
registry = "{registry}/{prefix}"
registry-kind = "ecr"
region = "{REGION}"
account-id = "{ACCOUNT}"
cluster = "staging"
subnets = ["subnet-0a1b2c3d"]
security-groups = ["sg-0a1b2c3d"]
state-bucket = "shipyard-state"
execution-role-arn = "{EXEC_ROLE}"
urls = {{ api = "{smoke.url}" }}
smoke-attempts = 2
smoke-interval = 0
slack-webhook = "SLACK_WEBHOOK_URL"

[tool.shipyard.environments.production]
targets = {{ service = "ecs" }}
registry = "{registry}/{prefix}"
region = "{REGION}"
cluster = "production"
state-bucket = "shipyard-state"
execution-role-arn = "{EXEC_ROLE}"
protected = true
require-ci = false  # the CI gate has tests of its own (tests/deploy/test_gate.py)
promote-from = "staging"
"""


@pytest.fixture(scope="module")
def ecs_repo(
    tmp_path_factory: pytest.TempPathFactory, smoke_endpoint: Endpoint, docker_engine: None, registry: str
) -> Iterator[Path]:
    """The example system with staging/production; its images are cleaned up at the end."""
    prefix = f"sydeploy-{uuid.uuid4().hex[:8]}"
    root = tmp_path_factory.mktemp("deploy") / "repo"
    copy_example(root, prefix=prefix, registry=registry, environments=environments(prefix, registry, smoke_endpoint))
    # untracked, as a user's .env files are: references and the webhook, no secret literals in git
    write(root / ".env.staging", "DATABASE_URL=ssm:/staging/database-url\nLOG_LEVEL=debug\n")
    write(root / ".env.production", "DATABASE_URL=ssm:/production/database-url\n")
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")  # untracked: as `invoke` needs
    wheels = tmp_path_factory.mktemp("wheels")
    saved = os.environ.get("SHIPYARD_WHEEL_CACHE")
    os.environ["SHIPYARD_WHEEL_CACHE"] = str(wheels)
    yield root
    if saved is None:
        os.environ.pop("SHIPYARD_WHEEL_CACHE", None)
    else:
        os.environ["SHIPYARD_WHEEL_CACHE"] = saved
    remove_local_images([f"{prefix}/", f"{registry}/{prefix}"])
    delete_registry_repositories(registry, prefix)


def _database(server: str) -> Iterator[str]:
    name = f"sydeploy_{uuid.uuid4().hex[:10]}"
    subprocess.run(("psql", server, "-qc", f"CREATE DATABASE {name}"), check=True, capture_output=True)
    yield server.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run(("psql", server, "-qc", f"DROP DATABASE {name} WITH (FORCE)"), capture_output=True)


@pytest.fixture
def ecs_database(database_url: str) -> Iterator[str]:
    """A throwaway PostgreSQL database; its URL."""
    yield from _database(database_url)


@pytest.fixture
def ecs_production_database(database_url: str) -> Iterator[str]:
    """Another throwaway database, for a second environment."""
    yield from _database(database_url)


def psql(url: str, sql: str) -> str:
    return subprocess.run(("psql", url, "-tAc", sql), check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class Cloud:
    """The AWS side of one environment, created with boto3 as an operator would."""

    env: str
    database: str
    desired: dict[str, int] = field(default_factory=lambda: {"api": 1, "worker": 1})

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=REGION)

    def create(self) -> Cloud:
        s3 = self.client("s3")
        if "shipyard-state" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
            s3.create_bucket(Bucket="shipyard-state")
        self.client("ssm").put_parameter(
            Name=f"/{self.env}/database-url", Value=self.database, Type="SecureString", Overwrite=True
        )
        ecs = self.client("ecs")
        ecs.create_cluster(clusterName=self.env)
        for name, count in self.desired.items():
            td = ecs.register_task_definition(
                family=f"{name}-{self.env}",
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                executionRoleArn=EXEC_ROLE,
                containerDefinitions=[{"name": name, "image": f"placeholder/{name}:initial", "essential": True}],
            )["taskDefinition"]["taskDefinitionArn"]
            ecs.create_service(
                cluster=self.env, serviceName=name, taskDefinition=td, desiredCount=count, launchType="FARGATE"
            )
        return self

    def service(self, name: str) -> dict[str, Any]:
        found = self.client("ecs").describe_services(cluster=self.env, services=[name], include=["TAGS"])
        return dict(found["services"][0])

    def container(self, name: str) -> dict[str, Any]:
        arn = self.service(name)["taskDefinition"]
        td = self.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
        return dict(td["containerDefinitions"][0])

    def revisions(self, name: str) -> list[str]:
        return list(self.client("ecs").list_task_definitions(familyPrefix=f"{name}-{self.env}")["taskDefinitionArns"])


def need_tools() -> None:
    require(subprocess.run(("psql", "--version"), capture_output=True).returncode == 0, "psql")
