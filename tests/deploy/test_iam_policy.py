"""`invoke iam-policy` is enough: every AWS operation a real deploy makes is granted by the
environment's policy (the ECS example on moto: ECR API, state bucket, migrations in a local
container with an SSM reference, a Slack webhook)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard import aws as shipyard_aws
from shipyard.aws import RECORD_ENV
from shipyard.core.project import load_project
from shipyard.iam import TABLE
from shipyard.iam.policy import context, features, statements
from shipyard.run.results import PASSED
from tests.conftest import recorded_operations
from tests.deploy.ecs_example import Cloud, Endpoint
from tests.deploy.test_transaction import run_deploy

pytestmark = pytest.mark.integration


def ungranted(root: Path, env: str, operations: set[str]) -> list[str]:
    """The recorded operations whose rows (in the features the environment uses) the policy lacks."""
    ctx = context(load_project(root), env)
    used = features(ctx)
    granted = {a for s in statements(ctx) for a in s["Action"]}
    missing = []
    for name in sorted(operations):
        rows = [op for op in TABLE if f"{op.service}.{op.name}" == name and op.feature in used]
        if not rows or any(not set(op.actions) <= granted for op in rows):
            missing.append(name)
    return missing


def test_the_staging_policy_grants_every_operation_of_a_deploy_and_a_rollback(
    ecs_repo: Path,
    ecs_aws: str,
    ecs_database: str,
    smoke_endpoint: Endpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smoke_endpoint.status = 200
    Cloud("staging", ecs_database).create()  # the operator's set-up, before recording starts
    record = tmp_path / "ops.txt"
    monkeypatch.setenv(RECORD_ENV, str(record))
    shipyard_aws.reset()
    env_file = ecs_repo / ".env.staging"
    original = env_file.read_text()
    try:
        results, out = run_deploy(ecs_repo)
        assert [r.status for r in results] == [PASSED, PASSED], out.text
        env_file.write_text(original.replace("LOG_LEVEL=debug", "LOG_LEVEL=info"))
        smoke_endpoint.status = 503  # the second release fails its smoke check: rolled back
        run_deploy(ecs_repo)
    finally:
        env_file.write_text(original)
        smoke_endpoint.status = 200
        shipyard_aws.reset()
    operations = recorded_operations(str(record))
    assert {"ecr.DescribeImages", "ecs.RegisterTaskDefinition", "ecs.UpdateService", "ssm.GetParameters"} <= operations
    assert ungranted(ecs_repo, "staging", operations) == []
