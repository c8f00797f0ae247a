"""The deploy tasks are thin: flags in, library call, rendering out (local state, no cloud)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from invoke import Config, MockContext
from invoke.exceptions import Exit

from shipyard.deploy.ledger import DEPLOY, FAILED, SUCCEEDED, Entry, Ledger
from shipyard.deploy.lock import DeployLock
from shipyard.deploy.store import LocalStore
from shipyard.tasks import common
from shipyard.tasks.deploy import deploy, history, lock_release, lock_status, rollback


def context(service: str | None = None) -> MockContext:
    return MockContext(config=Config(overrides={"shipyard": {"service": service}} if service else {}))


@pytest.fixture
def local(repo: Path, monkeypatch: pytest.MonkeyPatch) -> LocalStore:
    monkeypatch.chdir(repo)
    common._load.cache_clear()
    return LocalStore(repo / ".shipyard" / "state" / "local")


def test_history_renders_the_ledger_newest_first(local: LocalStore, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = Ledger(local, "local")
    ledger.append(Entry("a", DEPLOY, SUCCEEDED, "f1", "reg/a@sha256:" + "1" * 64, who="ann", finished="2026-01-02"))
    ledger.append(Entry("b", DEPLOY, FAILED, "f2", "reg/b@sha256:" + "2" * 64, who="bob", reason="smoke check failed"))
    history(context())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "release",
        "service",
        "action",
        "outcome",
        "artifact",
        "git",
        "who",
        "finished",
        "reason",
    ]
    assert lines[2].split()[:5] == ["2", "b", "deploy", "failed", "b@sha256:222222222222"]
    assert lines[3].split()[:5] == ["1", "a", "deploy", "succeeded", "a@sha256:111111111111"]
    history(context("a"), json_=True)
    assert [e["release"] for e in json.loads(capsys.readouterr().out)] == [1]


def test_lock_status_and_release(local: LocalStore, capsys: pytest.CaptureFixture[str]) -> None:
    lock_status(context())
    assert capsys.readouterr().out == "local: unlocked\n"
    DeployLock(local, "local", holder="ann@laptop").acquire("deploy a")
    lock_status(context())
    assert capsys.readouterr().out.startswith("local: locked, held by ann@laptop for 'deploy a' since ")
    lock_release(context())
    assert capsys.readouterr().out.startswith("released: local: locked, held by ann@laptop")
    lock_release(context())
    assert capsys.readouterr().out == "local: was not locked\n"


def test_rollback_wants_exactly_one_service(local: LocalStore, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exit) as info:
        rollback(context(), service=["a", "b"])
    assert info.value.code == 1
    assert "error: rollback acts on one service" in capsys.readouterr().err


def test_libs_are_not_deployed(local: LocalStore, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exit):
        deploy(context(), service=["core"], plan=True)
    assert "error: core: libs are not deployed" in capsys.readouterr().err


def test_an_unknown_environment_is_one_line(local: LocalStore, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exit):
        history(context(), env="stagin")
    err = capsys.readouterr().err
    assert err.startswith("error: unknown environment 'stagin'")


def test_since_selects_the_affected_services_and_nothing_when_none_changed(
    local: LocalStore, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from shipyard.tasks.deploy import _names, migrate

    assert _names(context(), None, "HEAD") == ()
    deploy(context(), since="HEAD")
    migrate(context(), since="HEAD")
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "nothing to deploy: no service changed since HEAD",
        "nothing to migrate: no service changed since HEAD",
    ]
    assert not (repo / ".shipyard" / "state").exists()  # no lock taken, nothing recorded
    with (repo / "libs" / "core" / "pyproject.toml").open("a") as f:
        f.write("\n# changed\n")
    common._files.cache_clear()
    assert _names(context(), None, "HEAD") == ("a",)  # the lib is not deployable; its user is
    assert _names(context(), ["b"], "HEAD") == ()
