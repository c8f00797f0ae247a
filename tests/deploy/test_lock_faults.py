"""The deploy lock under faults injected by the proxy in front of moto (test_faults.py):
dropped connections and lost answers during renew, S3's 409 on renew, a renewal that
hangs past half the lease, and a takeover while the old holder is still alive — whose
ledger writes and ECS updates are then refused."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from shipyard import aws as shipyard_aws
from shipyard.core.errors import ShipyardError
from shipyard.deploy.ledger import Ledger, LedgerWriteFailed
from shipyard.deploy.lock import LOCK_KEY, DeployLock, LockLost
from shipyard.deploy.store import S3Store
from shipyard.deploy.target import Release, Running
from tests.deploy.test_faults import (
    CONTENDED,
    DROP,
    HOLD,
    LOSE_ANSWER,
    FaultProxy,
    StandInTarget,
    ecs_service,
    s3_store,
    transaction,
    wait_for,
)

pytestmark = pytest.mark.integration


def renewed(lock: DeployLock, expires: float) -> bool:
    stored = lock.status()
    return stored is not None and stored.expires > expires


# -- the renewer under dropped connections, lost answers, 409s and a hang ------------------------


class StopsWithTheDeploy(StandInTarget):
    """Cuts the lock's renewals off once the deploy acts, then waits to be told to stop."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy

    def deploy(self, unit: Any, release: Release, settings: Any, progress: Any) -> Running:
        self.proxy.inject("PutObject", DROP, path=LOCK_KEY)  # every renewal from now on
        wait_for(progress.stop.is_set, "the deploy to be told to stop", seconds=60)
        progress.check()  # raises Cancelled with the transaction's reason
        raise AssertionError("unreachable")


@pytest.mark.usefixtures("no_botocore_retries")
def test_dropped_connections_during_renew_stop_the_deploy_and_the_ledger_says_why(
    proxy: FaultProxy, tmp_path: Path
) -> None:
    store, out = s3_store(), []
    results = transaction(tmp_path, store, out, StopsWithTheDeploy(proxy), lease=3).run()
    assert [(r.unit, r.ok) for r in results] == [("a", False)]
    [entry] = Ledger(store, "staging").history()
    assert entry.outcome == "interrupted" and entry.release == 1
    assert entry.reason.startswith("lost the deploy lock of 'staging': 3 renewals failed in a row (cannot write s3://")
    assert "AWS is unreachable" in entry.reason
    assert proxy.failed["PutObject"] == 3
    assert sum("warning: could not renew the deploy lock of staging (retrying)" in line for line in out) == 2
    assert DeployLock(store, "staging").status() is None  # still ours when it stopped: released


@pytest.mark.usefixtures("no_botocore_retries")
def test_a_renewal_whose_answer_was_lost_is_not_a_lost_lock(proxy: FaultProxy) -> None:
    store, said = s3_store(), []
    alice = DeployLock(store, "staging", lease=3, holder="alice", say=said.append)
    with alice.held("deploy api") as info:
        # S3 applies the renewal, the answer never arrives: the next try's If-Match names the old ETag (412)
        proxy.inject("PutObject", LOSE_ANSWER, 1, path=LOCK_KEY)
        wait_for(lambda: said and alice.info and alice.info.expires > info.expires, "a renewal after the lost answer")
        assert not alice.lost
        stored = alice.status()
        assert stored is not None and stored.token == alice.token and stored.expires > info.expires
        alice.fence("ecs UpdateService")  # still ours: no refusal
    assert len(said) == 1 and said[0].startswith("warning: could not renew the deploy lock of staging (retrying)")
    assert alice.status() is None


@pytest.mark.usefixtures("no_botocore_retries")
def test_a_409_on_renew_is_retried_not_a_lost_lock(proxy: FaultProxy) -> None:
    store, said = s3_store(), []
    alice = DeployLock(store, "staging", lease=3, holder="alice", say=said.append)
    with alice.held("deploy api") as info:
        proxy.inject("PutObject", CONTENDED, 2, path=LOCK_KEY)
        wait_for(lambda: renewed(alice, info.expires), "a renewal after the 409s")
        assert not alice.lost
    assert proxy.failed["PutObject"] == 2
    warning = "warning: could not renew the deploy lock of staging (retrying): ConditionalRequestConflict (409)"
    assert said == [warning, warning]
    assert alice.status() is None


def test_a_renewal_hanging_past_half_the_lease_gives_the_lock_up(proxy: FaultProxy) -> None:
    store = s3_store()
    alice = DeployLock(store, "staging", lease=2, holder="alice", say=lambda _: None)
    with alice.held("deploy api"):
        hang = proxy.inject("PutObject", HOLD, 1, path=LOCK_KEY)
        wait_for(lambda: proxy.failed["PutObject"] == 1, "the renewal to hang")
        wait_for(lambda: alice.lost, "the lock to be given up while the renewal hangs")
        assert not hang.gate.is_set() and alice.failures == 0  # the renewal has not returned
        assert alice.lost == "lost the deploy lock of 'staging': not renewed for half its lease (2s)"
        with pytest.raises(LockLost, match="refused ecs RunTask"):
            alice.fence("ecs RunTask")
        hang.gate.set()


# -- a takeover while the old holder is still alive ------------------------------------------------


class TakenOverMidDeploy(StandInTarget):
    """While alice deploys, bob takes her lock over (to his clock her lease has expired: a
    paused runner, a skewed clock); alice then tries to change ECS."""

    def __init__(self, store: S3Store, cluster: str, taskdef: str) -> None:
        self.store, self.cluster, self.taskdef = store, cluster, taskdef
        self.refused: list[str] = []
        self.bob = DeployLock(store, "staging", holder="bob", say=lambda _: None, clock=lambda: time.time() + 3600)

    def deploy(self, unit: Any, release: Release, settings: Any, progress: Any) -> Running:
        self.bob.acquire("deploy a")
        ecs = shipyard_aws.client("ecs", "", "us-east-1")
        writes = (
            lambda: ecs.register_task_definition(
                family="api", containerDefinitions=[{"name": "api", "image": "repo/api@sha256:2", "memory": 128}]
            ),
            lambda: ecs.update_service(cluster=self.cluster, service="api", desiredCount=3),
            lambda: ecs.run_task(cluster=self.cluster, taskDefinition=self.taskdef),
        )
        for write in writes:
            with pytest.raises(LockLost) as info:
                write()
            self.refused.append(info.value.message)
        raise LockLost(self.refused[0])


def test_a_takeover_refuses_the_old_holders_ecs_updates_and_ledger_writes(aws: str, tmp_path: Path) -> None:
    shipyard_aws.reset()
    store, out = s3_store(), []
    cluster = f"c-{uuid.uuid4().hex[:8]}"
    taskdef, _ = ecs_service(cluster)
    target = TakenOverMidDeploy(store, cluster, taskdef)
    ecs = shipyard_aws.client("ecs", "", "us-east-1")
    # the "api" family is shared with other tests on the same moto server: compare, not list
    revisions_before = ecs.list_task_definitions(familyPrefix="api")["taskDefinitionArns"]
    assert taskdef in revisions_before
    with pytest.raises(LedgerWriteFailed) as info:
        transaction(tmp_path, store, out, target, lease=600).run()
    held_by_bob = "lost the deploy lock of 'staging': another deploy holds it (held by bob for 'deploy a'"
    assert [m.split(": ", 1)[0] for m in target.refused] == [
        "refused ecs RegisterTaskDefinition",
        "refused ecs UpdateService",
        "refused ecs RunTask",
    ]
    assert all(held_by_bob in m for m in target.refused)
    assert "refused a ledger write: " + held_by_bob in info.value.message
    assert ecs.list_task_definitions(familyPrefix="api")["taskDefinitionArns"] == revisions_before
    service = ecs.describe_services(cluster=cluster, services=["api"])["services"][0]
    assert (service["taskDefinition"], service["desiredCount"]) == (taskdef, 0)
    assert ecs.list_tasks(cluster=cluster)["taskArns"] == []
    assert [(e.outcome, e.release) for e in Ledger(store, "staging").history()] == [("started", 0)]
    assert any(line.startswith("not rolling back: lost the deploy lock") for line in out)
    bobs = DeployLock(store, "staging").status()
    assert bobs is not None and bobs.holder == "bob"  # alice's release left bob's lock alone
    # after the lock is released, nothing is fenced any more
    ecs.update_service(cluster=cluster, service="api", desiredCount=0)


# -- botocore without the S3 conditional writes ------------------------------------------------


def _client_without_put_if_match(tmp_path: Path) -> Any:
    """An S3 client on the service model botocore had before 1.35.69: PutObject without IfMatch."""
    import json

    import boto3
    from botocore.loaders import Loader

    model = Loader().load_service_model("s3", "service-2")
    del model["shapes"]["PutObjectRequest"]["members"]["IfMatch"]
    api = tmp_path / "models" / "s3" / model["metadata"]["apiVersion"]
    api.mkdir(parents=True)
    (api / "service-2.json").write_text(json.dumps(model))
    session = boto3.session.Session(region_name="us-east-1")
    session._session.get_component("data_loader").search_paths.insert(0, str(tmp_path / "models"))
    return session.client("s3")


def test_a_botocore_without_conditional_writes_is_one_error_naming_the_floor(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore

    client = _client_without_put_if_match(tmp_path)
    bucket = f"state-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    store = S3Store(client, bucket, "shipyard/staging")
    etag = store.put(LOCK_KEY, b"{}", if_absent=True)  # IfNoneMatch: known since botocore 1.35.2
    monkeypatch.setattr(botocore, "__version__", "1.35.60")
    with pytest.raises(ShipyardError) as info:
        store.put(LOCK_KEY, b"{}", if_match=etag)
    assert info.value.message.startswith(f"cannot write s3://{bucket}/shipyard/staging/lock.json: botocore 1.35.60")
    assert 'Unknown parameter in input: "IfMatch"' in info.value.message
    assert info.value.hint == ("shipyard needs boto3>=1.35.69 (S3 conditional writes): pip install 'boto3>=1.35.69'")
    monkeypatch.setattr(botocore, "__version__", "1.44.0")  # new enough, so the bug is ours
    with pytest.raises(ShipyardError) as info:
        store.put(LOCK_KEY, b"{}", if_match=etag)
    assert info.value.hint is not None and "meets shipyard's floor (boto3>=1.35.69): a shipyard bug" in info.value.hint
