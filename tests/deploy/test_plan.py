"""Plans are values: roll-out waves, selection, rendering (exact text, no secret values)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.project import load_project
from shipyard.core.secrets import Sensitive
from shipyard.deploy.ledger import DEPLOY, ROLLBACK, SUCCEEDED, Entry
from shipyard.deploy.migrate import Migration, MigrationStatus
from shipyard.deploy.plan import UNRECORDED, DeployPlan, ServicePlan, deployable, needs_deploy, render, waves
from shipyard.deploy.target import Change, Release, Running
from tests.helpers import make_monorepo, python_unit


@pytest.fixture
def ordered(tmp_path: Path) -> Path:
    root = make_monorepo(tmp_path / "repo", commit=False)
    python_unit(root, "services/a", "a", depends_on=["core"], extra_table='deploy-after = ["b"]')
    python_unit(root, "services/c", "c", extra_table='deploy-after = ["a", "b"]')
    return root


def test_waves_follow_deploy_after_and_ignore_unselected(ordered: Path) -> None:
    project = load_project(ordered)
    assert waves(project, ["a", "b", "c"]) == (("b",), ("a",), ("c",))
    assert waves(project, ["a", "c"]) == (("a",), ("c",))
    assert waves(project, ["b", "c"]) == (("b",), ("c",))


def test_independent_services_share_a_wave(repo: Path) -> None:
    assert waves(load_project(repo), ["b", "a"]) == (("a", "b"),)


def test_deploy_after_cycles_and_unknown_names_are_config_errors(tmp_path: Path) -> None:
    root = make_monorepo(tmp_path / "repo", commit=False)
    python_unit(root, "services/a", "a", extra_table='deploy-after = ["b"]')
    python_unit(root, "services/b", "b", extra_table='deploy-after = ["a"]')
    with pytest.raises(ConfigError, match="deploy-after: cycle among a, b"):
        waves(load_project(root), ["a", "b"])
    python_unit(root, "services/b", "b", extra_table='deploy-after = ["nope"]')
    with pytest.raises(ConfigError, match="deploy-after: unknown service 'nope'"):
        waves(load_project(root), ["b"])


def test_selection_refuses_libs_and_defaults_to_kinds_with_a_target(repo: Path) -> None:
    project = load_project(repo)
    with pytest.raises(ShipyardError, match="core: libs are not deployed"):
        deployable(project, ["core"], {})
    assert [u.name for u in deployable(project, [], {"targets": {"service": "ecs"}})] == ["a", "b"]
    assert deployable(project, [], {"targets": {"static": "static"}}) == []


def plan() -> DeployPlan:
    running = Running(
        "api", "arn:aws:ecs:eu-west-1:1:task-definition/api-staging:4", "reg/api@sha256:" + "0" * 64, "e" * 64
    )
    api = ServicePlan(
        "api",
        "ecs",
        Release("api", "a" * 64, "reg/api@sha256:" + "1" * 64, "0123456789abcdef"),
        running,
        (
            Change("image", running.artifact, "reg/api@sha256:" + "1" * 64),
            Change("environment", "", "+NEW ~LOG_LEVEL"),
            Change("cpu", "256", "512"),
        ),
        Migration("api", "reg/api@sha256:" + "1" * 64, "/app/alembic.ini", "docker"),
        MigrationStatus("0001", ("0002",)),
    )
    worker = ServicePlan(
        "worker",
        "ecs",
        Release("worker", "b" * 64, "reg/worker@sha256:" + "2" * 64),
        None,
        (Change("image", "", "reg/worker@sha256:" + "2" * 64),),
        promoted_from="staging",
    )
    return DeployPlan("production", True, (api, worker), (("api",), ("worker",)), ("web",))


def test_render_is_the_plan_in_words() -> None:
    assert render(plan()) == "\n".join(
        [
            "deploy plan for production (protected): 2 service(s)",
            "  api (ecs) fingerprint aaaaaaaaaaaaaaaa, git 0123456789ab",
            "    now: arn:aws:ecs:eu-west-1:1:task-definition/api-staging:4",
            "    image: reg/api@sha256:000000000000 -> reg/api@sha256:111111111111",
            "    environment: +NEW ~LOG_LEVEL",
            "    cpu: 256 -> 512",
            "    migrations: 0002 pending (at 0001)",
            "  worker (ecs) fingerprint bbbbbbbbbbbbbbbb",
            "    promoted: the release staging verified",
            "    now: not deployed",
            "    image: (none) -> reg/worker@sha256:222222222222",
            "  order: api -> worker",
            "up to date: web",
        ]
    )


def test_render_redacts_a_secret_that_slipped_into_a_value() -> None:
    secret = Sensitive("s3cr3t-in-a-url")
    sp = plan().services[0]
    leaky = ServicePlan(sp.service, sp.target, Release("api", "a" * 64, f"reg/api:{secret.reveal()}"), None, ())
    assert "s3cr3t-in-a-url" not in render(DeployPlan("staging", False, (leaky,), (("api",),)))


def test_needs_deploy_when_the_target_or_the_ledger_says_so() -> None:
    api = plan().services[0]
    assert api.running is not None
    ok = Entry("api", DEPLOY, SUCCEEDED, "e" * 64, api.running.artifact, revision=api.running.revision, release=7)
    assert needs_deploy(api, ok)  # fingerprint differs
    same = ServicePlan("api", "ecs", Release("api", "e" * 64, api.running.artifact), api.running, ())
    assert not needs_deploy(same, ok)
    settings_only = ServicePlan("api", "ecs", same.release, same.running, (Change("environment", "", "~A"),))
    assert needs_deploy(settings_only, ok)
    # live, unchanged, but the ledger does not say it succeeded: deployed again, never "up to date"
    assert needs_deploy(same, None)  # a failed first deploy left it live
    older = Entry("api", DEPLOY, SUCCEEDED, "d" * 64, "reg/api@sha256:" + "9" * 64, revision="td:3", release=5)
    assert needs_deploy(same, older)  # its deploy failed and the rollback did not happen
    assert needs_deploy(same, replace(ok, revision="td:other"))  # the same release, but not this revision
    assert not needs_deploy(same, replace(ok, action=ROLLBACK))  # a rollback put it back: it runs, recorded


def test_render_says_why_an_unchanged_live_release_is_deployed_again() -> None:
    sp = replace(plan().services[1], changes=(), note=UNRECORDED)
    text = render(DeployPlan("staging", False, (sp,), (("worker",),)))
    assert f"    note: {UNRECORDED}" in text.splitlines()
