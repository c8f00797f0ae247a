"""Deploys of the example system for real: shipyard's images, moto's ECS/ECR/S3/SSM, PostgreSQL.

The first deploy builds and pushes the api and worker images; later tests reuse them.
Each test starts from a reset moto server and a throwaway database.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.deploy.commands import DeployOptions, deploy, rollback, run_migrations, status
from shipyard.deploy.ledger import DEPLOY, FAILED, INTERRUPTED, ROLLBACK, ROLLED_BACK, STARTED, SUCCEEDED, Ledger
from shipyard.deploy.lock import LOCK_KEY, DeployLock, LockInfo
from shipyard.deploy.plan import UNRECORDED
from shipyard.deploy.report import status_table
from shipyard.deploy.session import open_store
from shipyard.run.results import PASSED
from tests.deploy.ecs_example import ACCOUNT, Cloud, Endpoint, psql
from tests.helpers import default_sigint, run_invoke

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
    # which database it reads, before reading it: host:port/db, never the user or password
    url = urlsplit(ecs_database)
    assert out.lines[-2] == f"api: reading migrations of {url.hostname}:{url.port}{url.path}"
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


def test_a_queued_deploy_plans_again_after_the_wait(ecs_repo: Path, staging: Cloud) -> None:
    """--lock-wait queues a deploy: when the holder changed the environment meanwhile, the
    waiter plans again against what runs now instead of refusing its stale plan."""
    store = ledger(ecs_repo, "staging").store
    other = DeployLock(store, "staging", holder="ci-runner-8", say=lambda _: None)
    other.acquire("deploy worker")
    ecs = staging.client("ecs")

    def other_deploy_finishes() -> None:  # it put worker on a revision of its own, then released
        td = ecs.describe_task_definition(taskDefinition=staging.service("worker")["taskDefinition"])["taskDefinition"]
        keep = ("family", "containerDefinitions", "cpu", "memory", "networkMode", "requiresCompatibilities")
        arn = ecs.register_task_definition(**{k: td[k] for k in keep if k in td})["taskDefinition"]["taskDefinitionArn"]
        ecs.update_service(cluster="staging", service="worker", taskDefinition=arn)
        other.release()

    out = Output()

    def when_the_waiter_waits() -> None:
        deadline = time.monotonic() + 60
        while "waiting for the deploy lock" not in out.text and time.monotonic() < deadline:
            time.sleep(0.2)
        other_deploy_finishes()

    thread = threading.Thread(target=when_the_waiter_waits)
    thread.start()
    try:
        results = deploy(load_project(ecs_repo), "staging", DeployOptions(services=("worker",), lock_wait=60), say=out)
    finally:
        thread.join()
        other.release()
    assert results[0].status == PASSED, out.text
    assert "staging changed while this deploy waited for the lock (worker now runs" in out.text
    assert ledger(ecs_repo, "staging").history("worker")[0].outcome == SUCCEEDED
    assert ledger(ecs_repo, "staging").open_attempts() == []  # the start marker went with the record


def test_an_expired_lease_is_taken_over(ecs_repo: Path, staging: Cloud) -> None:
    store = ledger(ecs_repo, "staging").store
    stale = LockInfo("cancelled-ci-job", "deploy api", time.time() - 3600, time.time() - 3000, "t0k3n")
    store.put(LOCK_KEY, stale.to_bytes(), if_absent=True)
    results, out = run_deploy(ecs_repo, "staging", "worker")
    assert results[0].status == PASSED
    assert "took over the deploy lock of staging: its lease had expired (held by cancelled-ci-job" in out.text
    assert store.get(LOCK_KEY) is None


def deploy_and_signal(repo: Path, endpoint: str, sig: signal.Signals) -> tuple[int, str]:
    """``invoke deploy -s worker`` in a child, sent ``sig`` once its roll-out wait starts;
    returns the exit code and everything it printed."""
    # no PYTHONUNBUFFERED: progress must reach a pipe while the deploy runs, as in CI logs
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "AWS_ENDPOINT_URL": endpoint}
    proc = subprocess.Popen(
        (sys.executable, "-m", "invoke", "deploy", "--env", "staging", "-s", "worker"),
        cwd=repo,
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
    return proc.returncode, "".join(seen) + rest


@pytest.mark.parametrize(
    ("sig", "why"), [(signal.SIGINT, "interrupted (Ctrl-C)"), (signal.SIGTERM, "interrupted by SIGTERM")]
)
def test_a_signal_while_waiting_releases_the_lock_and_records_interrupted(
    ecs_repo: Path, ecs_aws: str, ecs_database: str, sig: signal.Signals, why: str
) -> None:
    """Ctrl-C on a laptop, SIGTERM from a cancelled CI job: the lock must not stay behind."""
    # worker wants 2 tasks and moto runs 1: its roll-out never completes
    cloud = Cloud("staging", ecs_database, desired={"api": 1, "worker": 2}).create()
    returncode, output = deploy_and_signal(ecs_repo, ecs_aws, sig)
    assert returncode == 130, output
    assert f"{why}: recording the attempt and releasing the lock" in output
    store = ledger(ecs_repo, "staging").store
    assert store.get(LOCK_KEY) is None
    entry = ledger(ecs_repo, "staging").history("worker")[0]
    assert (entry.outcome, entry.action) == (INTERRUPTED, DEPLOY)
    assert entry.reason.startswith(f"{why} while rolling out")
    # what was done is recorded: the service was updated to the task definition it registered
    assert entry.revision == cloud.service("worker")["taskDefinition"] != entry.previous


def test_a_deploy_killed_outright_leaves_a_started_attempt(ecs_repo: Path, ecs_aws: str, ecs_database: str) -> None:
    """SIGKILL (an OOM-killed or vanished runner) runs no clean-up: the attempt was marked
    started before anything acted, so history and status show it instead of nothing."""
    Cloud("staging", ecs_database, desired={"api": 1, "worker": 2}).create()  # worker never completes
    deploy_and_signal(ecs_repo, ecs_aws, signal.SIGKILL)
    found = ledger(ecs_repo, "staging").history("worker")
    assert [(e.outcome, e.release) for e in found] == [(STARTED, 0)]
    assert found[0].reason.startswith("started; no outcome was recorded")
    shown = run_invoke(ecs_repo, "history", "--env", "staging", env={"AWS_ENDPOINT_URL": ecs_aws})
    assert "started" in shown.stdout, shown.stdout + shown.stderr
    assert DeployLock(ledger(ecs_repo, "staging").store, "staging").status() is not None  # held until the lease


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


@pytest.fixture
def network(ecs_repo: Path, ecs_aws: str) -> Iterator[None]:
    """A subnet and security group in moto (which checks them), named in the staging environment."""
    ec2 = Cloud("staging", "").client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="api", Description="api", VpcId=vpc)["GroupId"]
    pyproject = ecs_repo / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(original.replace("subnet-0a1b2c3d", subnet).replace("sg-0a1b2c3d", group))
    yield
    pyproject.write_text(original)


def test_a_failed_first_deploy_is_taken_out_of_service_and_tried_again(
    ecs_repo: Path, ecs_aws: str, ecs_database: str, smoke_endpoint: Endpoint, network: None
) -> None:
    """No ECS service yet: the deploy creates it; its smoke check fails: scaled to 0, not "up to date"."""
    cloud = Cloud("staging", ecs_database, desired={}).create()  # a cluster without services
    smoke_endpoint.status = 503
    results, out = run_deploy(ecs_repo, "staging", "api")
    assert [r.status for r in results] == ["failed"], out.text
    assert results[0].reason.endswith(" (first deploy: nothing runs now)")
    assert "api: first deploy taken out of service: api scaled from 1 to 0 tasks" in out.text
    assert cloud.service("api")["desiredCount"] == 0
    rows = status(load_project(ecs_repo), "staging")
    assert [(r["service"], r["release"], r["last"]) for r in rows] == [("api", None, "deploy failed")]
    # the next deploy tries again: the environment runs nothing
    _, out = run_deploy(ecs_repo, "staging", "api", plan_only=True)
    assert "deploy plan for staging: 1 service(s)" in out.text and "    now: not deployed" in out.text, out.text
    smoke_endpoint.status = 200
    results, out = run_deploy(ecs_repo, "staging", "api")
    assert [r.status for r in results] == [PASSED], out.text
    service = cloud.service("api")
    assert service["desiredCount"] == 1 and service.get("tags", []) == []  # its count restored, the mark gone
    rows = status(load_project(ecs_repo), "staging")
    assert [(r["release"], r["last"]) for r in rows] == [(results[0].details["release"], "deploy succeeded")]
    assert run_deploy(ecs_repo, "staging", "api")[0] == []  # now it is up to date


def test_a_live_release_without_a_recorded_success_is_not_up_to_date(ecs_repo: Path, staging: Cloud) -> None:
    """What runs counts as current only when the ledger's newest success is it (here: it failed)."""
    first, out = run_deploy(ecs_repo, "staging", "worker")
    assert [r.status for r in first] == [PASSED], out.text
    live = staging.service("worker")["taskDefinition"]
    store, book = ledger(ecs_repo, "staging").store, ledger(ecs_repo, "staging")
    recorded = book.history("worker")[0]
    store.delete(f"ledger/{recorded.release:010d}.json")  # as if that deploy had failed, its undo not done
    book.append(replace(recorded, outcome=FAILED, reason="smoke check failed"))
    results, out = run_deploy(ecs_repo, "staging", "worker")
    assert "deploy plan for staging: 1 service(s)" in out.text, out.text
    assert f"    note: {UNRECORDED}" in out.text
    assert [r.status for r in results] == [PASSED], out.text
    assert staging.service("worker")["taskDefinition"] != live  # deployed again, as a new revision
    assert ledger(ecs_repo, "staging").current("worker").revision == staging.service("worker")["taskDefinition"]  # type: ignore[union-attr]


def test_rollbacks_go_back_release_by_release_and_never_forward(
    ecs_repo: Path, staging: Cloud, settings_change: Path, smoke_endpoint: Endpoint
) -> None:
    project = load_project(ecs_repo)
    revisions = []
    for level in ("info", "warning", "error"):  # three successful releases A, B, C
        settings_change.write_text(re.sub(r"LOG_LEVEL=\w+", f"LOG_LEVEL={level}", settings_change.read_text()))
        results, out = run_deploy(ecs_repo, "staging", "api")
        assert [r.status for r in results] == [PASSED], out.text
        revisions.append((results[0].details["release"], staging.service("api")["taskDefinition"]))
    (a, a_td), (b, b_td), (c, c_td) = revisions
    back = rollback(project, "staging", "api", say=lambda _: None)
    assert (staging.service("api")["taskDefinition"], back.restores) == (b_td, b)
    back = rollback(project, "staging", "api", say=lambda _: None)
    assert (staging.service("api")["taskDefinition"], back.restores) == (a_td, a)  # not forward to C
    entries = len(ledger(ecs_repo, "staging").history())
    done = run_invoke(ecs_repo, "rollback", "--env", "staging", "-s", "api")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"error: api has no older successful release than release {a} (which runs now) in 'staging'" in (done.stderr)
    assert "Traceback" not in done.stderr and "hint: nothing was changed" in done.stderr
    assert staging.service("api")["taskDefinition"] == a_td and len(ledger(ecs_repo, "staging").history()) == entries
    # a release that never succeeded is no goal for --to either
    smoke_endpoint.status = 503
    failed, out = run_deploy(ecs_repo, "staging", "api")
    assert [r.status for r in failed] == ["failed"], out.text
    assert staging.service("api")["taskDefinition"] == a_td  # the automatic rollback: back on A
    assert ledger(ecs_repo, "staging").history("api")[0].restores == a
    with pytest.raises(ShipyardError) as info:
        rollback(project, "staging", "api", to=failed[0].details["release"])
    assert info.value.message == (
        f"cannot roll api back to release {failed[0].details['release']} in 'staging': "
        "it never succeeded (its deploy ended failed)"
    )
    rollback(project, "staging", "api", to=c, say=lambda _: None)  # a named older-or-newer success: fine
    assert staging.service("api")["taskDefinition"] == c_td


def test_a_mistyped_environment_gets_a_did_you_mean(ecs_repo: Path, ecs_aws: str) -> None:
    for args in (("deploy", "--env", "stagng"), ("rollback", "--env", "stagng", "-s", "api")):
        done = run_invoke(ecs_repo, *args)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stderr.splitlines() == [
            "error: unknown environment 'stagng' (did you mean 'staging'?)",
            "hint: known environments: local, production, staging",
        ]
