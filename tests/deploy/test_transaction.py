"""Deploys of the example system for real: shipyard's images, moto's ECS/ECR/S3/SSM, PostgreSQL.

The first deploy builds and pushes the api and worker images; later tests reuse them.
Each test starts from a reset moto server and a throwaway database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.deploy.commands import DeployOptions, deploy, rollback, run_migrations, status
from shipyard.deploy.ledger import DEPLOY, FAILED, INTERRUPTED, ROLLBACK, ROLLED_BACK, SUCCEEDED, Ledger
from shipyard.deploy.lock import LOCK_KEY, DeployLock, LockInfo
from shipyard.deploy.report import status_table
from shipyard.deploy.session import open_store
from shipyard.errors import ShipyardError
from shipyard.project import load_project
from shipyard.results import PASSED
from tests.deploy.ecs_example import ACCOUNT, Cloud, Endpoint, psql
from tests.helpers import default_sigint

pytestmark = pytest.mark.integration


class Output:
    """Collects what a deploy says."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def ledger(root: Path, env: str) -> Ledger:
    project = load_project(root)
    return Ledger(open_store(project, env, project.environment(env)), env)


def run_deploy(root: Path, env: str = "staging", *services: str, **flags: object) -> tuple[list, Output]:
    out = Output()
    options = DeployOptions(services=tuple(services), **flags)  # type: ignore[arg-type]
    return deploy(load_project(root), env, options, say=out), out


@pytest.fixture
def staging(ecs_aws: str, ecs_database: str, smoke_endpoint: Endpoint) -> Cloud:
    smoke_endpoint.status = 200
    return Cloud("staging", ecs_database).create()


@pytest.fixture
def settings_change(ecs_repo: Path) -> Iterator[Path]:
    """A second release of the same image: a changed setting makes a new task-definition revision."""
    env_file = ecs_repo / ".env.staging"
    original = env_file.read_text()
    yield env_file
    env_file.write_text(original)


def change_log_level(env_file: Path) -> None:
    env_file.write_text(env_file.read_text().replace("LOG_LEVEL=debug", "LOG_LEVEL=info"))


def test_happy_path_deploys_two_services_migrates_and_records(
    ecs_repo: Path, staging: Cloud, ecs_database: str, slack_endpoint: Endpoint, smoke_endpoint: Endpoint
) -> None:
    results, out = run_deploy(ecs_repo)
    assert [(r.unit, r.status) for r in results] == [("api", PASSED), ("worker", PASSED)], out.text
    # migrations ran in the api image against the environment's database, before the roll-out
    assert psql(ecs_database, "SELECT version_num FROM alembic_version") == "0002"
    assert "api: migrating base -> 0002: 0001, 0002" in out.text
    assert out.text.index("migrations applied") < out.text.index("api: registered")
    # ECS: new revisions with the image by digest, settings as environment, the secret by reference
    for name in ("api", "worker"):
        container = staging.container(name)
        assert container["image"].split("@")[1].startswith("sha256:")
        assert container["image"] == results[[r.unit for r in results].index(name)].details["artifact"]
        assert container["secrets"] == [
            {
                "name": "DATABASE_URL",
                "valueFrom": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/staging/database-url",
            }
        ]
        assert {"name": "LOG_LEVEL", "value": "debug"} in container["environment"]
        assert "sydeploy_" not in json.dumps(container)  # the database URL itself never reaches ECS
    assert smoke_endpoint.gets >= 1  # api was smoke-checked
    entries = {e.service: e for e in ledger(ecs_repo, "staging").history()}
    for name in ("api", "worker"):
        e = entries[name]
        assert (e.action, e.outcome, e.artifact) == (DEPLOY, SUCCEEDED, staging.container(name)["image"])
        assert e.revision == staging.service(name)["taskDefinition"] and e.git_sha and e.who and e.finished
    assert entries["api"].migration == "0002"
    assert entries["api"].deploy_id == entries["worker"].deploy_id
    texts = [p["text"] for p in slack_endpoint.posts]
    assert any(t.startswith("deployed api (release") for t in texts) and any("is deploying" in t for t in texts)
    # nothing changed: the next deploy has nothing to do
    again, out2 = run_deploy(ecs_repo)
    assert again == [] and "deploy plan for staging: nothing to deploy" in out2.text
    rows = status(load_project(ecs_repo), "staging")
    assert [(r["service"], r["release"], r["last"], r["drift"]) for r in rows] == [
        ("api", entries["api"].release, "deploy succeeded", ""),
        ("worker", entries["worker"].release, "deploy succeeded", ""),
    ]
    table = status_table("staging", rows)
    assert table.splitlines()[0].split() == [
        "service",
        "release",
        "artifact",
        "git",
        "last",
        "attempt",
        "who",
        "when",
        "url",
        "note",
    ]
    assert f"api@{entries['api'].artifact.split('@')[1][:19]}" in table


def test_failing_smoke_check_rolls_back_and_both_are_recorded(
    ecs_repo: Path, staging: Cloud, smoke_endpoint: Endpoint, settings_change: Path, slack_endpoint: Endpoint
) -> None:
    first, out = run_deploy(ecs_repo)
    assert [r.status for r in first] == [PASSED, PASSED], out.text
    good = {name: staging.service(name)["taskDefinition"] for name in ("api", "worker")}
    change_log_level(settings_change)  # a new revision for both services (same images)
    smoke_endpoint.status = 503  # the new api never becomes healthy
    results, out = run_deploy(ecs_repo)
    assert "environment: ~LOG_LEVEL" in out.text  # the plan: a changed key, not its value
    api, worker = results
    assert api.status == "failed" and worker.status == "failed"
    assert "smoke check failed: GET http://127.0.0.1:" in api.reason and "HTTP 503" in api.reason
    assert worker.reason == "rolled back because api failed; rollback succeeded"
    for name in ("api", "worker"):  # both back on their previous revisions
        assert staging.service(name)["taskDefinition"] == good[name]
        assert len(staging.revisions(name)) == 3  # initial, good, the undone one
    entries = ledger(ecs_repo, "staging").history()
    by = {(e.service, e.action): e for e in entries[:4]}
    failed, back = by[("api", DEPLOY)], by[("api", ROLLBACK)]
    assert (failed.outcome, failed.previous) == (FAILED, good["api"]) and "HTTP 503" in failed.reason
    assert (back.outcome, back.revision) == (SUCCEEDED, good["api"]) and back.release == failed.release + 1
    assert back.reason.startswith("automatic rollback after: smoke check failed")
    undone, undo = by[("worker", DEPLOY)], by[("worker", ROLLBACK)]
    assert (undone.outcome, undone.reason) == (ROLLED_BACK, "rolled back because api failed")
    assert (undo.outcome, undo.revision) == (SUCCEEDED, good["worker"])
    assert ledger(ecs_repo, "staging").current("api") == back  # what runs: the rollback's revision
    assert "api: rolling back to api-staging:" in out.text and "worker: back on worker-staging:" in out.text
    texts = [p["text"] for p in slack_endpoint.posts]
    assert any(t.startswith("deploy to staging failed: api: failed: smoke check failed") for t in texts)
    assert "rolled back api, worker in staging" in texts


def test_failed_migration_stops_before_any_service_changes(
    ecs_repo: Path, staging: Cloud, ecs_database: str, smoke_endpoint: Endpoint
) -> None:
    psql(ecs_database, "CREATE TABLE jobs (id int)")  # 0001 creates `jobs`: it will fail
    before = {n: staging.revisions(n) for n in ("api", "worker")}
    with pytest.raises(ShipyardError) as info:
        run_deploy(ecs_repo)
    assert info.value.message.startswith("api: alembic upgrade head failed:")
    assert 'relation "jobs" already exists' in info.value.message
    assert {n: staging.revisions(n) for n in ("api", "worker")} == before  # nothing registered, nothing updated
    assert staging.container("api")["image"] == "placeholder/api:initial"
    outcomes = {e.service: (e.outcome, e.reason) for e in ledger(ecs_repo, "staging").history()}
    assert outcomes["api"][0] == FAILED and outcomes["api"][1].startswith("api: alembic upgrade head failed")
    assert outcomes["worker"] == (FAILED, "not deployed: the migration of api failed")
    assert DeployLock(ledger(ecs_repo, "staging").store, "staging").status() is None


def test_migrate_on_its_own_checks_then_upgrades(ecs_repo: Path, staging: Cloud, ecs_database: str) -> None:
    project, out = load_project(ecs_repo), Output()
    statuses = run_migrations(project, "staging", (), check_only=True, say=out)
    assert list(statuses) == ["api"] and statuses["api"].pending == ("0001", "0002")
    assert out.lines[-1] == "api: at base; pending: 0001, 0002"
    assert psql(ecs_database, "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'") == "0"
    run_migrations(project, "staging", ("api",), check_only=False, say=out)
    assert psql(ecs_database, "SELECT version_num FROM alembic_version") == "0002"
    assert out.lines[-1] == "api: migrated to 0002"
    assert staging.container("api")["image"] == "placeholder/api:initial"  # migrating deploys nothing


def test_a_held_lock_fails_clearly_or_is_waited_for(ecs_repo: Path, staging: Cloud) -> None:
    store = ledger(ecs_repo, "staging").store
    ci = DeployLock(store, "staging", holder="ci-runner-7", say=lambda _: None)
    ci.acquire("deploy api")
    with pytest.raises(ShipyardError) as info:
        run_deploy(ecs_repo, "staging", "worker")
    assert "the deploy lock of 'staging' is held by ci-runner-7 for 'deploy api'" in info.value.message
    assert staging.container("worker")["image"] == "placeholder/worker:initial"
    timer = threading.Timer(1.0, ci.release)
    timer.start()
    results, out = run_deploy(ecs_repo, "staging", "worker", lock_wait=120)
    timer.join()
    assert results[0].status == PASSED, out.text
    assert "waiting for the deploy lock of staging: held by ci-runner-7" in out.text


def test_an_expired_lease_is_taken_over(ecs_repo: Path, staging: Cloud) -> None:
    store = ledger(ecs_repo, "staging").store
    stale = LockInfo("cancelled-ci-job", "deploy api", time.time() - 3600, time.time() - 3000, "t0k3n")
    store.put(LOCK_KEY, stale.to_bytes(), if_absent=True)
    results, out = run_deploy(ecs_repo, "staging", "worker")
    assert results[0].status == PASSED
    assert "took over the deploy lock of staging: its lease had expired (held by cancelled-ci-job" in out.text
    assert store.get(LOCK_KEY) is None


@pytest.mark.parametrize(
    ("sig", "why"), [(signal.SIGINT, "interrupted (Ctrl-C)"), (signal.SIGTERM, "interrupted by SIGTERM")]
)
def test_a_signal_while_waiting_releases_the_lock_and_records_interrupted(
    ecs_repo: Path, ecs_aws: str, ecs_database: str, sig: signal.Signals, why: str
) -> None:
    """Ctrl-C on a laptop, SIGTERM from a cancelled CI job: the lock must not stay behind."""
    # worker wants 2 tasks and moto runs 1: its roll-out never completes
    Cloud("staging", ecs_database, desired={"api": 1, "worker": 2}).create()
    # no PYTHONUNBUFFERED: progress must reach a pipe while the deploy runs, as in CI logs
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "AWS_ENDPOINT_URL": ecs_aws}
    proc = subprocess.Popen(
        (sys.executable, "-m", "invoke", "deploy", "--env", "staging", "-s", "worker"),
        cwd=ecs_repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_sigint,
    )
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "waiting for the roll-out" in line:
            proc.send_signal(sig)
            break
    rest, _ = proc.communicate(timeout=120)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert f"{why}: recording the attempt and releasing the lock" in output
    store = ledger(ecs_repo, "staging").store
    assert store.get(LOCK_KEY) is None
    entry = ledger(ecs_repo, "staging").history("worker")[0]
    assert (entry.outcome, entry.action) == (INTERRUPTED, DEPLOY)
    assert entry.reason.startswith(f"{why} while rolling out")


def test_production_takes_only_what_staging_verified(ecs_repo: Path, staging: Cloud, ecs_database: str) -> None:
    production = Cloud("production", ecs_database).create()
    with pytest.raises(ShipyardError) as info:
        run_deploy(ecs_repo, "production", "api", yes=True)
    assert "was never deployed successfully to 'staging'; 'production' only takes releases 'staging' verified" in (
        info.value.message
    )
    assert production.container("api")["image"] == "placeholder/api:initial"
    run_deploy(ecs_repo, "staging", "api")
    results, out = run_deploy(ecs_repo, "production", "api", yes=True)
    assert results[0].status == PASSED, out.text
    assert production.container("api")["image"] == staging.container("api")["image"]  # the very same digest
    assert "promoted: the release staging verified" in out.text
    assert "pushed" not in out.text  # no build, no push: promotion reuses the artifact
    # a protected environment without --yes and without a terminal: refused
    with pytest.raises(ShipyardError, match="production is protected"):
        run_deploy(ecs_repo, "production", "worker", force=True)


def test_plan_shows_digests_diff_and_migrations_but_no_secret_value(
    ecs_repo: Path, staging: Cloud, ecs_production_database: str
) -> None:
    production = Cloud("production", ecs_production_database).create()
    run_deploy(ecs_repo, "staging", "api")
    secret_url = (
        ecs_production_database + "?application_name=Pr0d-s3cret-marker"
    )  # valid, and recognisable if it leaked
    production.client("ssm").put_parameter(
        Name="/production/database-url", Value=secret_url, Type="SecureString", Overwrite=True
    )
    env = dict(os.environ)
    done = subprocess.run(
        (sys.executable, "-m", "invoke", "deploy", "--env", "production", "-s", "api", "--plan"),
        cwd=ecs_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    digest = staging.container("api")["image"].split("@")[1]
    assert "deploy plan for production (protected): 1 service(s)" in done.stdout
    assert "image: placeholder/api:initial -> " in done.stdout and digest[:19] in done.stdout
    assert "secrets: +DATABASE_URL" in done.stdout
    assert "migrations: 0001, 0002 pending (at base)" in done.stdout
    for secret in ("Pr0d-s3cret-marker", ecs_production_database, "postgres:postgres", "hook-secret-1234"):
        assert secret not in done.stdout + done.stderr
    assert production.container("api")["image"] == "placeholder/api:initial"  # --plan changed nothing


def test_manual_rollback_to_the_previous_release(ecs_repo: Path, staging: Cloud, settings_change: Path) -> None:
    run_deploy(ecs_repo, "staging", "api")
    first = staging.service("api")["taskDefinition"]
    change_log_level(settings_change)
    run_deploy(ecs_repo, "staging", "api")
    assert staging.service("api")["taskDefinition"] != first
    out: list[str] = []
    entry = rollback(load_project(ecs_repo), "staging", "api", say=out.append)
    assert staging.service("api")["taskDefinition"] == first
    assert (entry.action, entry.outcome, entry.revision) == (ROLLBACK, SUCCEEDED, first)
    assert ledger(ecs_repo, "staging").current("api") == entry
    assert out[-1].startswith("api is back on release 1 (")
