"""Faults injected for real: a lock force-released under its holder, dropped connections,
and throttled (SlowDown/Throttling) AWS calls from a proxy in front of the moto server.
The proxy also drops connections, loses answers, holds requests and answers 409 (see
test_lock_faults.py)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from shipyard import aws as shipyard_aws
from shipyard.core.project import load_project
from shipyard.deploy import ledger as ledger_module
from shipyard.deploy import lock as lock_module
from shipyard.deploy.ledger import DEPLOY, SUCCEEDED, Entry, Ledger, LedgerWriteFailed
from shipyard.deploy.lock import LOCK_KEY, DeployLock, LockLost
from shipyard.deploy.plan import DeployPlan, ServicePlan
from shipyard.deploy.session import Session
from shipyard.deploy.store import S3Store
from shipyard.deploy.target import Release, Running
from shipyard.deploy.transaction import Transaction
from tests.helpers import make_monorepo

pytestmark = pytest.mark.integration

_S3_SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
_JSON_THROTTLED = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
_S3_CONTENDED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ConditionalRequestConflict</Code>'
    b"<Message>A conflicting conditional operation is currently in progress against this resource.</Message></Error>"
)


def operation(method: str, path: str, target: str) -> str:
    """The API operation of a request: the JSON protocol's X-Amz-Target, else S3's REST shape."""
    if target:
        return target.rsplit(".", 1)[-1]
    route, _, query = path.partition("?")
    has_key = route.strip("/").count("/") >= 1
    if not has_key:
        return {"GET": "ListObjectsV2" if "list-type" in query else "ListBucket", "PUT": "CreateBucket"}.get(
            method, method
        )
    return {"GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject", "HEAD": "HeadObject"}.get(method, method)


THROTTLE, DROP, LOSE_ANSWER, CONTENDED, HOLD = "throttle", "drop", "lose-answer", "409", "hold"


@dataclass
class Rule:
    op: str
    count: int  # how many matching calls fail; -1: all of them
    path: str = ""  # only requests whose path contains this
    action: str = THROTTLE  # THROTTLE: 503 SlowDown / 400 ThrottlingException; DROP: close the
    # connection unanswered; LOSE_ANSWER: forward, then close unanswered; CONTENDED: S3's 409;
    # HOLD: forward only once ``gate`` is set
    gate: threading.Event = field(default_factory=threading.Event)


class FaultProxy:
    """A threading HTTP server that forwards to moto, except for the calls a rule throttles."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.rules: list[Rule] = []
        self.seen: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def throttle(self, op: str, count: int = -1, path: str = "") -> Rule:
        return self.inject(op, THROTTLE, count, path)

    def inject(self, op: str, action: str, count: int = -1, path: str = "") -> Rule:
        rule = Rule(op, count, path, action)
        self.rules.append(rule)
        return rule

    def heal(self) -> None:
        for rule in self.rules:
            rule.gate.set()
        self.rules.clear()

    def _fault(self, op: str, path: str) -> Rule | None:
        with self.lock:
            self.seen[op] += 1
            for rule in self.rules:
                if rule.op == op and rule.path in path and rule.count != 0:
                    rule.count -= 1 if rule.count > 0 else 0
                    self.failed[op] += 1
                    return rule
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                rule = proxy._fault(operation(self.command, self.path, target), self.path)
                action = rule.action if rule else ""
                if action == THROTTLE:
                    status, payload = (400, _JSON_THROTTLED) if target else (503, _S3_SLOWDOWN)
                    self._answer(status, [("Content-Type", "application/xml")], payload)
                    return
                if action == CONTENDED:
                    self._answer(409, [("Content-Type", "application/xml")], _S3_CONTENDED)
                    return
                if rule is not None and action == HOLD:
                    rule.gate.wait(60)
                if action != DROP:
                    status, headers, payload = proxy.forward(self.command, self.path, dict(self.headers), body)
                if action in (DROP, LOSE_ANSWER):
                    self.close_connection = True  # the client sees the connection closed, no answer
                    return
                self._answer(status, headers, payload)

            def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname or "", self.upstream.port or 80, timeout=30)
        headers.pop("Expect", None)  # the body is already here
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """boto3 pointed at a fault proxy in front of this session's moto server."""
    fault = FaultProxy(aws)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault.url)
    shipyard_aws.reset()
    yield fault
    fault.close()
    shipyard_aws.reset()


@pytest.fixture
def no_botocore_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Faults reach shipyard's own retries at once (botocore's are tested on their own)."""
    monkeypatch.setattr(shipyard_aws, "MAX_ATTEMPTS", 0)
    monkeypatch.setattr(ledger_module, "WRITE_BACKOFF", 0.01)
    shipyard_aws.reset()


def s3_store(prefix: str = "shipyard/staging") -> S3Store:
    client = shipyard_aws.client("s3", "", "us-east-1")
    bucket = f"state-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3Store(client, bucket, prefix)


def wait_for(condition: Callable[[], object], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def an_entry(service: str = "api") -> Entry:
    return Entry(service, DEPLOY, SUCCEEDED, "fp1", "repo@sha256:1", revision="td:1")


# -- 1. a force-released lock stops its holder ----------------------------------------------------


def test_a_force_released_lock_is_lost_by_its_holder_and_fences_the_ledger(aws: str) -> None:
    shipyard_aws.reset()
    store = s3_store()
    said: list[str] = []
    alice = DeployLock(store, "staging", lease=0.9, holder="alice", say=said.append)
    with alice.held("deploy api"):
        assert DeployLock(store, "staging", holder="ops").force_release() is not None
        # the renewer's If-Match put on the deleted object gets 404 NoSuchKey: that is a lost lock
        wait_for(lambda: alice.lost, "the holder to notice its lock is gone")
        assert "lost the deploy lock of 'staging'" in alice.lost
        bob = DeployLock(store, "staging", holder="bob", say=said.append)
        bob.acquire("deploy worker")
        with pytest.raises(LedgerWriteFailed, match="lost the deploy lock"):
            Ledger(store, "staging", fence=alice.fence).append(an_entry())
    assert Ledger(store, "staging").history() == []
    assert bob.status() is not None and bob.status().holder == "bob"  # type: ignore[union-attr]
    assert not any("warning: could not renew" in line for line in said)


class DropConnections:
    """A botocore hook: the next ``count`` PutObject calls of the lock end in ConnectionClosedError."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.dropped = 0

    def __call__(self, request: Any, **_: Any) -> None:
        from botocore.exceptions import ConnectionClosedError

        if LOCK_KEY in request.url and request.method == "PUT" and self.count:
            self.count -= 1
            self.dropped += 1
            raise ConnectionClosedError(endpoint_url=request.url)


def _dropping_store(aws: str, drop: DropConnections) -> S3Store:
    import boto3
    from botocore.config import Config

    # no botocore retries: each dropped connection reaches the renewer
    client = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 0}))
    bucket = f"state-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    client.meta.events.register("before-send.s3.PutObject", drop)
    return S3Store(client, bucket, "shipyard/staging")


def test_a_renewal_that_fails_on_dropped_connections_is_retried(aws: str) -> None:
    drop = DropConnections(0)
    store = _dropping_store(aws, drop)
    said: list[str] = []
    alice = DeployLock(store, "staging", lease=1.5, holder="alice", say=said.append)
    with alice.held("deploy api") as info:
        drop.count = 2
        wait_for(lambda: alice.status().expires > info.expires, "a renewal after the drops")  # type: ignore[union-attr]
        assert not alice.lost
    assert drop.dropped == 2
    warning = "warning: could not renew the deploy lock of staging (retrying): cannot write s3://"
    assert said and all(line.startswith(warning) and "AWS is unreachable" in line for line in said)


def test_renewals_failing_in_a_row_give_the_lock_up_while_its_lease_still_holds(aws: str) -> None:
    drop = DropConnections(0)
    store = _dropping_store(aws, drop)
    alice = DeployLock(store, "staging", lease=6, holder="alice", say=lambda _: None)
    with alice.held("deploy api"):
        drop.count = 10_000
        wait_for(lambda: alice.lost, "the lock to be given up")
        assert alice.lost.startswith("lost the deploy lock of 'staging': 3 renewals failed in a row (cannot write")
        assert "AWS is unreachable" in alice.lost
        stored = alice.status()
        assert stored is not None and stored.token == alice.token  # still ours: nobody can take it over yet
        with pytest.raises(LockLost, match="refused ecs UpdateService: lost the deploy lock"):
            alice.fence("ecs UpdateService")  # the deploy acts no more...
        # ...but the record of why it stopped still reaches the ledger
        Ledger(store, "staging", fence=lambda: alice.fence(record=True)).append(an_entry())
    assert drop.dropped == 3
    assert [e.release for e in Ledger(store, "staging").history()] == [1]
    assert alice.status() is None  # released: the object was still ours


# -- 2. ledger writes are retried, then fail loudly -------------------------------------------


@pytest.mark.usefixtures("no_botocore_retries")
def test_a_throttled_ledger_write_is_retried(proxy: FaultProxy) -> None:
    store = s3_store()
    proxy.throttle("PutObject", 3, path="/ledger/")
    written = Ledger(store, "staging").append(an_entry())
    assert written.release == 1
    assert proxy.failed["PutObject"] == 3
    assert [e.release for e in Ledger(store, "staging").history()] == [1]


@pytest.mark.usefixtures("no_botocore_retries")
def test_a_ledger_that_stays_throttled_fails_loudly(proxy: FaultProxy) -> None:
    store = s3_store()
    proxy.throttle("PutObject", path="/ledger/")
    with pytest.raises(LedgerWriteFailed) as info:
        Ledger(store, "staging").append(an_entry())
    assert "could not record api deploy succeeded (repo@sha256:1, revision td:1)" in info.value.message
    assert "after 5 attempts: cannot write" in info.value.message and "SlowDown" in info.value.message
    assert "AWS is throttling the requests (SlowDown: Please reduce your request rate.; 1 try)" in info.value.message
    assert info.value.hint is not None and "higher AWS quota" in info.value.hint
    assert proxy.failed["PutObject"] == 5


# -- 4. a failed release never hides the deploy's result -------------------------------------


@pytest.mark.usefixtures("no_botocore_retries")
def test_a_throttled_release_is_retried(proxy: FaultProxy) -> None:
    store, said, slept = s3_store(), [], []
    alice = DeployLock(store, "staging", holder="alice", say=said.append, sleep=slept.append)
    with alice.held("deploy api"):
        proxy.throttle("DeleteObject", 2, path=LOCK_KEY)
    assert alice.status() is None
    assert slept == [1.0, 2.0] and said == []


@pytest.mark.usefixtures("no_botocore_retries")
def test_a_release_that_keeps_failing_says_how_to_release_by_hand(proxy: FaultProxy) -> None:
    store, said, slept = s3_store(), [], []
    alice = DeployLock(store, "staging", holder="alice", say=said.append, sleep=slept.append)
    with alice.held("deploy api"):
        proxy.throttle("DeleteObject", path=LOCK_KEY)
        done = "the deploy's own work"
    assert done  # the block's result stands: no exception out of the release
    assert proxy.failed["DeleteObject"] == lock_module.RELEASE_ATTEMPTS
    assert len(said) == 1 and said[0].startswith("warning: could not release the deploy lock of staging: ")
    assert "SlowDown" in said[0] and "invoke lock.release --env staging" in said[0]
    proxy.heal()
    assert alice.status() is not None  # still held, until its lease expires or by hand


def test_operation_names() -> None:
    assert operation("PUT", "/bucket/a/lock.json", "") == "PutObject"
    assert operation("GET", "/bucket?list-type=2&prefix=x", "") == "ListObjectsV2"
    assert operation("POST", "/", "AmazonEC2ContainerServiceV20141113.DescribeServices") == "DescribeServices"
    assert json.loads(_JSON_THROTTLED)["__type"] == "ThrottlingException"


# -- a whole transaction on a stand-in target, its state on throttled S3 ------------------------


class StandInTarget:
    """Deploys instantly; what it ran is what the ledger must then hold."""

    name = "stand-in"

    def current(self, unit: Any) -> Running | None:
        return None

    def deploy(self, unit: Any, release: Release, settings: Any, progress: Any) -> Running:
        return Running(unit.name, f"stand-in:{unit.name}:1", release.artifact, release.fingerprint)


class StandInTargets:
    def __init__(self, target: StandInTarget | None = None) -> None:
        self.target = target or StandInTarget()

    def for_unit(self, unit: Any) -> StandInTarget:
        return self.target


def transaction(
    tmp_path: Path, store: S3Store, out: list[str], target: StandInTarget | None = None, lease: float | None = None
) -> Transaction:
    project = load_project(make_monorepo(tmp_path / "repo"))
    targets = StandInTargets(target)
    session = Session(project, "staging", {}, store, "", targets, out.append)  # type: ignore[arg-type]
    running = targets.target.current(project.units["a"])
    sp = ServicePlan("a", "stand-in", Release("a", "fp-a", "repo/a@sha256:1"), running, ())
    plan = DeployPlan("staging", False, (sp,), (("a",),))
    return Transaction(session, plan, {"a": None}, lease=lease, say=out.append)  # type: ignore[dict-item]


class ReleasedUnderfoot(StandInTarget):
    """While it deploys, an operator runs `invoke lock.release` and the roll-out then fails."""

    def __init__(self, store: S3Store) -> None:
        self.store = store
        self.rolled_back: list[str] = []
        self.previous = Running("a", "stand-in:a:0", "repo/a@sha256:0", "fp-0")

    def current(self, unit: Any) -> Running | None:
        return self.previous

    def deploy(self, unit: Any, release: Release, settings: Any, progress: Any) -> Running:
        from shipyard.deploy.target import DeployFailed

        assert DeployLock(self.store, "staging", holder="ops").force_release() is not None
        wait_for(lambda: progress.stop.is_set(), "the transaction to stop")
        raise DeployFailed("health checks failed")

    def rollback(self, unit: Any, previous: Running, progress: Any) -> Running:
        self.rolled_back.append(previous.revision)
        return previous


def test_a_deploy_whose_lock_is_force_released_stops_and_changes_and_records_nothing_more(
    aws: str, tmp_path: Path
) -> None:
    shipyard_aws.reset()
    store, out = s3_store(), []
    target = ReleasedUnderfoot(store)
    with pytest.raises(LedgerWriteFailed) as info:
        transaction(tmp_path, store, out, target, lease=0.9).run()
    assert "lost the deploy lock of 'staging': another deploy took it over or it was released" in info.value.message
    assert target.rolled_back == []  # the environment may be another deploy's now: no undo
    assert any(line.startswith("not rolling back: lost the deploy lock") for line in out)
    # no outcome is written once the lock is gone: history shows only the attempt's start marker
    assert [(e.outcome, e.release) for e in Ledger(store, "staging").history()] == [("started", 0)]


@pytest.mark.usefixtures("no_botocore_retries")
def test_a_deploy_whose_ledger_stays_throttled_fails_and_says_what_ran(proxy: FaultProxy, tmp_path: Path) -> None:
    store, out = s3_store(), []
    proxy.throttle("PutObject", path="/ledger/")
    with pytest.raises(LedgerWriteFailed) as info:
        transaction(tmp_path, store, out).run()
    assert "the release ledger of 'staging' could not record what ran" in info.value.message
    assert "not recorded: a deploy succeeded (repo/a@sha256:1, revision stand-in:a:1)" in info.value.message
    assert info.value.hint is not None and "invoke status --env staging" in info.value.hint
    proxy.heal()
    assert DeployLock(store, "staging").status() is None  # the lock was still released


@pytest.mark.usefixtures("no_botocore_retries")
def test_a_deploy_whose_lock_release_fails_still_reports_its_result(proxy: FaultProxy, tmp_path: Path) -> None:
    store, out = s3_store(), []
    tx = transaction(tmp_path, store, out)
    tx.lock.sleep = lambda _: None
    proxy.throttle("DeleteObject", path=LOCK_KEY)
    results = tx.run()
    assert [(r.unit, r.ok, r.details["release"]) for r in results] == [("a", True, 1)]
    assert any(
        line.startswith("warning: could not release the deploy lock of staging")
        and "invoke lock.release --env staging" in line
        for line in out
    )


# -- 3. a burst of throttling is "try again", not a failed deploy ----------------------------------


@pytest.fixture
def instant_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore decides what to retry and how often; only its jittered waits are skipped here."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def ecs_service(cluster: str) -> tuple[str, str]:
    """A moto ECS service of no tasks (its roll-out is COMPLETED at once): (task definition, deployment id)."""
    ecs = shipyard_aws.client("ecs", "", "us-east-1")
    ecs.create_cluster(clusterName=cluster)
    taskdef = ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": "repo/api@sha256:1", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    created = ecs.create_service(cluster=cluster, serviceName="api", taskDefinition=taskdef, desiredCount=0)
    return taskdef, created["service"]["deployments"][0]["id"]


@pytest.mark.usefixtures("instant_backoff")
def test_a_burst_of_throttled_describe_services_does_not_fail_the_roll_out(proxy: FaultProxy) -> None:
    from shipyard.deploy.target import Progress
    from shipyard.deploy.targets.ecs_wait import RolloutWatch

    cluster = f"c-{uuid.uuid4().hex[:8]}"
    taskdef, deployment = ecs_service(cluster)
    proxy.throttle("DescribeServices", 12)  # the incident: 12 in a row, ~3.5 s
    lines: list[str] = []
    client = shipyard_aws.client("ecs", "", "us-east-1")
    watch = RolloutWatch(client, cluster, "api", timeout=600, poll=15, sleep=lambda _: None)
    watch.wait(taskdef, deployment, Progress("api", lines.append))
    assert proxy.failed["DescribeServices"] == 12
    # botocore's standard mode retried 8 times inside the first poll; the next poll went through
    assert proxy.seen["DescribeServices"] == 13
    throttled = [line for line in lines if "AWS is throttling" in line]
    assert len(throttled) == 1 and "ThrottlingException" in throttled[0]
    assert lines[-1] == "  api: 0/0 running, 0 pending, 0 failed (COMPLETED)"


def test_every_shipyard_client_uses_standard_retries(aws: str) -> None:
    shipyard_aws.reset()
    for service in ("s3", "ecs", "sts"):
        retries = shipyard_aws.client(service, "", "us-east-1").meta.config.retries
        assert retries == {"mode": "standard", "total_max_attempts": shipyard_aws.MAX_ATTEMPTS + 1}


# -- 6. SIGTERM mid-migration stops the migration before the lock goes -------------------------

_INTERRUPTED_RUN = """
import sys
from shipyard.deploy import migrate
from shipyard.run.proc import sigterm_as_interrupt
from shipyard.run.proc import command, run
from shipyard.core.secrets import Sensitive

kind, arg = sys.argv[1], sys.argv[2]
if kind == "docker":
    m = migrate.Migration("api", "python:3.11-slim", "/app/alembic.ini", "docker")
    sleeper = ("python", "-c", "import time; time.sleep(300)")
    cmd = migrate.docker_command(m, sleeper, Sensitive("postgresql://u:p@127.0.0.1/db"), name=arg)
else:
    cmd = command(sys.executable, "-c", f"import os, time; open({arg!r}, 'w').write(str(os.getpid())); time.sleep(300)")
try:
    with sigterm_as_interrupt():
        run(cmd)
except KeyboardInterrupt:
    print("stopped the child, now the lock would be released", flush=True)
    sys.exit(143)
"""


def _start(kind: str, arg: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_RUN, kind, arg],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_and_waits_for_the_child_before_unwinding(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    parent = _start("process", str(pid_file))
    wait_for(lambda: pid_file.is_file() and pid_file.read_text(), "the child to start")
    child = int(pid_file.read_text())
    parent.send_signal(signal.SIGTERM)
    out, _ = parent.communicate(timeout=60)
    assert parent.returncode == 143, out
    assert "stopped the child" in out
    assert not _alive(child)  # terminated and reaped before the interrupt went on


def _containers(name: str) -> str:
    listed = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", f"name=^{name}$"], capture_output=True, text=True, check=True
    )
    return listed.stdout.strip()


@pytest.mark.usefixtures("docker_engine")
def test_sigterm_mid_migration_stops_and_removes_the_migration_container() -> None:
    name = f"shipyard-migrate-api-{uuid.uuid4().hex[:8]}"
    parent = _start("docker", name)
    try:
        wait_for(lambda: _containers(name), "the migration container to run", seconds=60)
        parent.send_signal(signal.SIGTERM)
        out, _ = parent.communicate(timeout=90)
        assert parent.returncode == 143, out
        assert _containers(name) == ""  # old: it went on migrating after shipyard had gone
    finally:
        parent.kill()
        subprocess.run(["docker", "rm", "--force", name], capture_output=True)
