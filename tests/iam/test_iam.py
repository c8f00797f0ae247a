"""IAM from the code: the operation table, `invoke iam-policy`, and the recording of AWS operations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shipyard.aws import RECORD_ENV
from shipyard.iam import FEATURES, RESOURCES, TABLE, missing
from shipyard.iam.policy import SCOPES
from tests.conftest import recorded_operations
from tests.helpers import run_invoke, write
from tests.images.example import copy_example

ACCOUNT, REGION = "123456789012", "eu-west-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop"
EXEC_ROLE, TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecution", f"arn:aws:iam::{ACCOUNT}:role/shopTask"

ENVIRONMENTS = f"""
[tool.shipyard.cache]
s3-bucket = "team-cache"

[tool.shipyard.environments.staging]
targets = {{ service = "ecs", static = "static" }}
registry = "{REGISTRY}"
cluster = "staging"
state-bucket = "shop-state"
static-bucket = "shop-static-staging"
distribution-id = "E1STAGING"
execution-role-arn = "{EXEC_ROLE}"
task-role-arn = "{TASK_ROLE}"
migrate-via = "ecs"
slack-webhook = "SLACK_WEBHOOK_URL"

[tool.shipyard.environments.production]
targets = {{ service = "ecs", static = "static" }}
registry = "{REGISTRY}"
cluster = "production"
state-bucket = "shop-state-production"
static-bucket = "shop-static-production"
execution-role-arn = "{EXEC_ROLE}"
promote-from = "staging"
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example system (api with migrations, worker, static web) with local, staging, production."""
    root = copy_example(
        tmp_path_factory.mktemp("iam") / "repo", prefix="iam", registry="127.0.0.1:5000", environments=ENVIRONMENTS
    )
    write(root / ".env.local", "DATABASE_URL=ssm:/local/database-url\nAPI_KEY=secretsmanager:shop/api#key\n")
    write(root / ".env.staging", "DATABASE_URL=ssm:/staging/database-url\nSLACK_WEBHOOK_URL=secretsmanager:slack\n")
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    return root


def iam_policy(root: Path, env: str) -> dict[str, dict[str, Any]]:
    """`invoke iam-policy --env ENV`: its statements by Sid."""
    done = run_invoke(root, "iam-policy", "--env", env)
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document["Version"] == "2012-10-17"
    return {s["Sid"]: s for s in document["Statement"]}


def actions(statements: dict[str, dict[str, Any]]) -> set[str]:
    return {a for s in statements.values() for a in s["Action"]}


# -- the table ---------------------------------------------------------------------------------


def test_every_row_names_a_known_feature_resource_and_iam_action() -> None:
    for op in TABLE:
        assert op.feature in FEATURES and op.resource in RESOURCES and op.resource in SCOPES, op
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z]+", a) for a in op.actions), op
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", op.name), op
    assert set(SCOPES) == set(RESOURCES)


def test_the_operations_the_issue_found_missing_are_in_the_table() -> None:
    listed = {a for op in TABLE for a in op.actions}
    wanted = {"ecs:CreateService", "ecs:TagResource", "cloudfront:UpdateDistribution", "s3:ListBucket"}
    wanted |= {"ecr:PutImageTagMutability", "ecr:PutImageScanningConfiguration", "kms:Decrypt"}
    wanted |= {"ssm:GetParameters", "secretsmanager:GetSecretValue", "iam:PassRole"}
    assert wanted <= listed


def test_an_operation_not_in_the_table_is_reported() -> None:
    assert missing({"ecs.DescribeServices", "s3.GetObject"}) == []
    assert missing({"ecs.DescribeServices", "ecs.DeleteCluster", "s3.DeleteBucket"}) == [
        "ecs.DeleteCluster",
        "s3.DeleteBucket",
    ]
    assert missing({"docker.PutImage"}) == ["docker.PutImage"]  # the docker CLI's rows are not botocore's


# -- the recording -----------------------------------------------------------------------------


def test_sessions_record_the_operations_shipyard_makes_not_a_tests_own(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard import aws as shipyard_aws
    from shipyard.deploy.store import S3Store

    record = tmp_path / "ops.txt"
    monkeypatch.setenv(RECORD_ENV, str(record))
    shipyard_aws.reset()
    try:
        s3 = shipyard_aws.client("s3")
        s3.create_bucket(Bucket="iam-record-in-process")  # the test's set-up: not shipyard's call
        shipyard_aws.check_account({}, "test")
        S3Store(s3, "iam-record-in-process", "p").list("")  # a paginator, from shipyard's code
    finally:
        shipyard_aws.reset()  # later tests get sessions that record to the suite's file again
    assert recorded_operations(str(record)) == {"sts.GetCallerIdentity", "s3.ListObjectsV2"}


def test_invoke_in_a_subprocess_records_its_operations(aws: str, repo: Path, tmp_path: Path) -> None:
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="iam-record-state")
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '\n[tool.shipyard.environments.remote]\nstate-bucket = "iam-record-state"\nregion = "us-east-1"\n'
    )
    record = tmp_path / "ops.txt"
    done = run_invoke(repo, "history", "--env", "remote", env={RECORD_ENV: str(record)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert {"sts.GetCallerIdentity", "s3.ListObjectsV2"} <= recorded_operations(str(record))


# -- invoke iam-policy -------------------------------------------------------------------------


def test_policy_of_an_ecs_environment_with_cache_and_static_site(example: Path) -> None:
    statements = iam_policy(example, "staging")
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
    assert statements["EcsService"]["Resource"] == [f"{arn}:service/staging/api", f"{arn}:service/staging/worker"]
    assert {"ecs:CreateService", "ecs:UpdateService", "ecs:TagResource"} <= set(statements["EcsService"]["Action"])
    assert statements["EcsTaskdef"] == {
        "Sid": "EcsTaskdef",
        "Effect": "Allow",
        "Action": ["ecs:RunTask", "ecs:TagResource"],  # migrate-via = "ecs"; tags on registered revisions
        "Resource": [f"{arn}:task-definition/api-staging:*", f"{arn}:task-definition/worker-staging:*"],
    }
    assert statements["PassRole"]["Resource"] == [EXEC_ROLE, TASK_ROLE]
    assert statements["PassRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert statements["Repository"]["Resource"] == [
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop/api",
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop/worker",
    ]
    assert statements["StateObjects"]["Resource"] == "arn:aws:s3:::shop-state/shipyard/staging/*"
    assert statements["StateBucket"]["Action"] == ["s3:ListBucket"]
    assert statements["CacheObjects"] == {
        "Sid": "CacheObjects",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::team-cache/shipyard-cache/*",
    }
    assert statements["Distribution"]["Resource"] == f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1STAGING"
    assert "cloudfront:UpdateDistribution" in statements["Distribution"]["Action"]
    assert statements["StaticObjects"]["Resource"] == "arn:aws:s3:::shop-static-staging/*"
    # ECS reads DATABASE_URL itself (execution role); the runner reads only the webhook's secret
    assert "Parameters" not in statements
    assert statements["Secrets"]["Resource"] == f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:slack-??????"
    assert statements["KmsVia"]["Condition"] == {
        "StringLike": {"kms:ViaService": [f"secretsmanager.{REGION}.amazonaws.com"]}
    }
    assert "logs:GetLogEvents" in actions(statements)  # the one-off migration task's output


def test_policy_of_a_promoted_environment_reads_the_source_environment(example: Path) -> None:
    statements = iam_policy(example, "production")
    assert statements["SourceStateObjects"] == {
        "Sid": "SourceStateObjects",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": "arn:aws:s3:::shop-state/shipyard/staging/*",
    }
    assert statements["SourceStaticObjects"]["Action"] == ["s3:GetObject"]
    assert "Distribution" not in statements  # production names no distribution
    assert "ecs:RunTask" not in actions(statements)  # migrations run in a container here...
    assert "ecr:GetDownloadUrlForLayer" in actions(statements)  # ...pulled from ECR
    assert statements["PassRole"]["Resource"] == EXEC_ROLE


def test_policy_of_a_local_environment_has_no_deploy_actions(example: Path) -> None:
    statements = iam_policy(example, "local")
    services = {a.split(":")[0] for a in actions(statements)}
    assert services == {"s3", "ssm", "secretsmanager", "kms"}  # the cache, and the references it resolves
    assert statements["Parameters"]["Resource"] == "arn:aws:ssm:*:*:parameter/local/database-url"
    assert statements["Secrets"]["Resource"] == "arn:aws:secretsmanager:*:*:secret:shop/api-??????"
    assert statements["KmsVia"]["Condition"] == {
        "StringLike": {"kms:ViaService": ["secretsmanager.*.amazonaws.com", "ssm.*.amazonaws.com"]}
    }


def test_policy_follows_the_cache_mode(repo: Path) -> None:
    pyproject = repo / "pyproject.toml"
    base = pyproject.read_text()
    pyproject.write_text(base + '\n[tool.shipyard.cache]\ns3-bucket = "c"\ns3-mode = "read-only"\n')
    assert actions(iam_policy(repo, "local")) == {"s3:GetObject", "s3:ListBucket"}
    pyproject.write_text(base + '\n[tool.shipyard.cache]\ns3-bucket = "c"\ns3-mode = "off"\n')
    done = run_invoke(repo, "iam-policy")
    assert json.loads(done.stdout)["Statement"] == []
    assert "no AWS call needs a permission" in done.stderr


def test_unknown_environment_is_one_clear_error(example: Path) -> None:
    done = run_invoke(example, "iam-policy", "--env", "stagin")
    assert done.returncode == 1
    assert "error: unknown environment 'stagin' (did you mean 'staging'?)" in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr


def test_help_says_what_the_policy_is(example: Path) -> None:
    done = run_invoke(example, "iam-policy", "--help")
    assert done.returncode == 0
    assert "least-privilege IAM policy" in done.stdout and "--env" in done.stdout


def test_the_suite_fails_when_it_made_an_operation_missing_from_the_table(tmp_path: Path) -> None:
    """The session-finish check of tests/conftest.py, on a run whose tests all pass."""
    import os
    import subprocess
    import sys

    record = tmp_path / "ops.txt"
    record.write_text("s3.GetObject\necs.DeleteCluster\n")
    one = "tests/iam/test_iam.py::test_an_operation_not_in_the_table_is_reported"
    done = subprocess.run(
        (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", one),
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, RECORD_ENV: str(record)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "missing from src/shipyard/iam/table.py: ecs.DeleteCluster" in done.stdout


def test_every_aws_call_in_the_source_is_in_the_table() -> None:
    """The static side of the recording: a client method call (or paginator, or AwsCall) in
    src/ whose name is an operation of a service shipyard uses needs its row, even on a code
    path the suite does not run."""
    import ast

    import botocore.session
    from botocore import xform_name

    services = {op.service for op in TABLE} - {"docker", "iam"}
    session = botocore.session.get_session()
    by_method: dict[str, set[str]] = {}
    for service in services:
        for name in session.get_service_model(service).operation_names:
            by_method.setdefault(xform_name(name), set()).add(f"{service}.{name}")
    called: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "src" / "shipyard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                called.add(node.func.attr)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                called.add(node.value)  # get_paginator("list_objects_v2"), AwsCall("ecr", "put_image")
    listed = {f"{op.service}.{op.name}" for op in TABLE}
    unlisted = [m for m in sorted(called & set(by_method)) if not by_method[m] & listed]
    assert unlisted == [], "add a row to src/shipyard/iam/table.py for each"
    assert {"create_service", "tag_resource", "update_distribution", "get_parameters"} <= called & set(by_method)


def test_policy_passes_the_roles_of_task_definition_files_and_of_blue_green(tmp_path: Path) -> None:
    from shipyard.core.project import load_project
    from shipyard.iam.policy import policy

    arn = f"arn:aws:iam::{ACCOUNT}:role"
    listener = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/prod/0123/4567/89ab"
    group = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/api"
    blue_green = f"""
[tool.shipyard.environments.staging.services.api]
strategy = "blue-green"
bake-time = 5
target-group = "{group}-blue/01"
alternate-target-group = "{group}-green/02"
production-listener-rule = "{listener}"
load-balancer-role = "{arn}/ecs-listeners"
[tool.shipyard.environments.staging.services.api.lifecycle-hooks.smoke]
lambda-arn = "arn:aws:lambda:{REGION}:{ACCOUNT}:function:api-smoke"
role-arn = "{arn}/ecs-hooks"
stages = ["POST_TEST_TRAFFIC_SHIFT"]
"""
    root = copy_example(
        tmp_path / "repo", prefix="iam", registry="127.0.0.1:5000", environments=ENVIRONMENTS + blue_green
    )
    taskdef = {"executionRoleArn": EXEC_ROLE, "taskRoleArn": f"{arn}/worker", "containerDefinitions": [{"name": "w"}]}
    write(root / "services/worker/.aws/task-definition.json", json.dumps(taskdef))
    statements = {s["Sid"]: s for s in policy(load_project(root), "staging")["Statement"]}
    assert statements["PassRole"]["Resource"] == [EXEC_ROLE, TASK_ROLE, f"{arn}/worker"]
    assert statements["PassRoleEcs"] == {
        "Sid": "PassRoleEcs",
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": [f"{arn}/ecs-listeners", f"{arn}/ecs-hooks"],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},
    }


def test_policy_names_the_cluster_and_services_as_their_templates_make_them(tmp_path: Path) -> None:
    """`cluster = "{env}-main"` and `service-name = "{env}-{service}"`: the ECS resources are
    the names deploys use (old: the raw templates, so every ECS call was denied)."""
    from shipyard.core.project import load_project
    from shipyard.iam.policy import policy

    templates = 'cluster = "{env}-main"\nservice-name = "{env}-{service}"'
    environments = ENVIRONMENTS.replace('cluster = "staging"', templates)
    root = copy_example(tmp_path / "repo", prefix="iam", registry="127.0.0.1:5000", environments=environments)
    resources = {r for s in policy(load_project(root), "staging")["Statement"] for r in s["Resource"]}
    service = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/staging-main/staging-api"
    assert {service, f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/staging-main/staging-api/*"} <= resources
    assert not [r for r in resources if "{" in r]
