"""`shipyard init --github`: the workflows generated from `deploy-on` and the environments, written
only where missing (or with --force), shown by --dry-run, actionlint clean; `deploy-on` validated."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from shipyard import __version__
from shipyard.ci.lint import actionlint_bin
from tests.cli.test_init import shipyard, snapshot
from tests.helpers import git, make_monorepo

DEPLOY_ON = """
deploy-on = { staging = "branch:develop", production = "tag:v*" }

[tool.shipyard.environments.staging]
registry = "127.0.0.1:5000"
targets = { service = "local" }

[tool.shipyard.environments.production]
extends = "staging"
protected = true
state-bucket = "prod-state"
"""
FILES = [
    ".github/actions/setup-shipyard/action.yml",
    ".github/workflows/ci.yml",
    ".github/workflows/deploy.yml",
    ".github/workflows/migrate.yml",
]


def configured(tmp_path: Path, extra: str = DEPLOY_ON) -> Path:
    repo = make_monorepo(tmp_path / "repo", commit=False)
    text = (repo / "pyproject.toml").read_text()
    (repo / "pyproject.toml").write_text(
        text.replace("[tool.shipyard.environments.local]", extra.strip() + "\n\n[tool.shipyard.environments.local]")
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def load(path: Path) -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True)
    return data  # type: ignore[no-any-return]


def test_init_github_writes_the_workflows_from_deploy_on(tmp_path: Path) -> None:
    repo = configured(tmp_path)
    done = shipyard(repo, "init", "--github")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"write {f}" for f in FILES]
    ci = load(repo / ".github/workflows/ci.yml")
    assert ci["on"]["push"] == {"branches": ["main", "develop"]}
    assert "shipyard" not in ci["jobs"]  # shipyard's own checks run only in shipyard's repository
    deploy = load(repo / ".github/workflows/deploy.yml")
    assert deploy["on"]["push"] == {"branches": ["develop"], "tags": ["v*"]}
    assert deploy["on"]["workflow_dispatch"]["inputs"]["environment"]["options"] == ["staging", "production"]
    jobs = deploy["jobs"]
    assert "if" not in jobs["ci"]  # no template gate: this repository defines what it deploys to
    assert jobs["deploy-staging"]["if"].startswith(
        "(github.event_name == 'push' && github.ref_type == 'branch' && github.ref_name == 'develop')"
    )
    assert "startsWith(github.ref_name, 'v')" in jobs["deploy-production"]["if"]
    uses = [s.get("uses", "") for s in jobs["deploy-production"]["steps"]]
    assert any(u.startswith("aws-actions/") for u in uses)  # its state bucket is on S3
    assert not any(u.startswith("aws-actions/") for u in (s.get("uses", "") for s in jobs["deploy-staging"]["steps"]))
    action = yaml.safe_load((repo / FILES[0]).read_text())
    assert action["inputs"]["shipyard-version"]["default"] == __version__
    assert action["inputs"]["python-version"]["default"] == "3.11\n"
    migrate = load(repo / ".github/workflows/migrate.yml")
    assert migrate["on"]["workflow_dispatch"]["inputs"]["environment"]["options"] == ["staging", "production"]
    binary = actionlint_bin()
    assert binary
    lint = subprocess.run((binary, "-no-color"), cwd=repo, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_init_github_is_idempotent_never_overwrites_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    repo = configured(tmp_path)
    before = snapshot(repo)
    dry = shipyard(repo, "init", "--github", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.splitlines() == [f"would write {f}" for f in FILES]
    assert snapshot(repo) == before
    assert shipyard(repo, "init", "--github").returncode == 0
    again = shipyard(repo, "init", "--github")
    assert again.returncode == 0 and "nothing to write" in again.stdout
    ci = repo / ".github/workflows/ci.yml"
    ci.write_text(ci.read_text() + "# edited by hand\n")
    edited = snapshot(repo)
    refused = shipyard(repo, "init", "--github")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: these files exist and differ from what the configuration generates:")
    assert ".github/workflows/ci.yml" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr and snapshot(repo) == edited
    shown = shipyard(repo, "init", "--github", "--dry-run")
    assert shown.stdout.splitlines() == ["would write .github/workflows/ci.yml (it differs: needs --force)"]
    forced = shipyard(repo, "init", "--github", "--force")
    assert forced.stdout.splitlines() == ["write .github/workflows/ci.yml (overwriting)"]
    assert "# edited by hand" not in ci.read_text()


def test_without_deploy_on_the_deploys_are_a_gated_template(tmp_path: Path) -> None:
    repo = configured(tmp_path, extra="")
    assert shipyard(repo, "init", "--github").returncode == 0
    deploy = load(repo / ".github/workflows/deploy.yml")
    assert deploy["jobs"]["ci"]["if"] == "vars.SHIPYARD_DEPLOYS == 'true'"
    assert "# A template" in (repo / ".github/workflows/deploy.yml").read_text()
    assert load(repo / ".github/workflows/migrate.yml")["jobs"]["migrate"]["if"] == "vars.SHIPYARD_DEPLOYS == 'true'"


def test_init_github_refuses_outside_a_git_repository_and_before_init(tmp_path: Path) -> None:
    outside = shipyard(tmp_path, "init", "--github")
    assert outside.returncode == 1 and outside.stderr.startswith(f"error: {tmp_path} is not inside a git repository")
    assert list(tmp_path.iterdir()) == []
    bare = tmp_path / "bare"
    bare.mkdir()
    git(bare, "init", "-q")
    done = shipyard(bare, "init", "--github")
    assert done.returncode == 1 and "has no [tool.shipyard] table" in done.stderr
    assert "hint: run `shipyard init` first" in done.stderr
    assert not (bare / ".github").exists()
    assert shipyard(bare, "init", "--force").returncode == 1  # --force belongs to --github


@pytest.mark.parametrize(
    ("deploy_on", "message"),
    [
        (
            '{ stagign = "branch:develop" }',
            "deploy-on.stagign: unknown environment 'stagign' (did you mean 'staging'?)",
        ),
        ('{ staging = "brnch:develop" }', "deploy-on.staging: 'brnch:develop' is not branch:<name> or tag:<name>"),
        ('{ staging = "tag:v*.*" }', "deploy-on.staging: 'tag:v*.*' is not branch:<name> or tag:<name>"),
        ('{ staging = "branch:" }', "deploy-on.staging: 'branch:' is not branch:<name> or tag:<name>"),
    ],
)
def test_a_bad_deploy_on_is_one_config_error(tmp_path: Path, deploy_on: str, message: str) -> None:
    repo = configured(
        tmp_path, extra=DEPLOY_ON.replace('{ staging = "branch:develop", production = "tag:v*" }', deploy_on)
    )
    done = shipyard(repo, "init", "--github")
    assert done.returncode == 1
    assert message in done.stderr, done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr
    assert not (repo / ".github").exists()


def test_names_yaml_would_misread_are_quoted(tmp_path: Path) -> None:
    extra = DEPLOY_ON.replace('"branch:develop"', '"branch:1.0"').replace('"tag:v*"', '"tag:on"')
    repo = configured(tmp_path, extra=extra)
    assert shipyard(repo, "init", "--github").returncode == 0
    deploy = load(repo / ".github/workflows/deploy.yml")
    assert deploy["on"]["push"] == {"branches": ["1.0"], "tags": ["on"]}  # strings, not 1.0 and True
    assert load(repo / ".github/workflows/ci.yml")["on"]["push"] == {"branches": ["main", "1.0"]}
    binary = actionlint_bin()
    assert binary
    lint = subprocess.run((binary, "-no-color"), cwd=repo, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_an_environment_that_requires_scans_gets_them_run_by_the_deploy_workflows_ci(tmp_path: Path) -> None:
    """require-scan deploys only content whose scans passed: the generated ci job runs them at
    that environment's threshold (old: never, so every such deploy was refused)."""
    repo = configured(tmp_path, DEPLOY_ON + "require-scan = true\n")
    assert shipyard(repo, "init", "--github").returncode == 0
    steps = load(repo / ".github/workflows/deploy.yml")["jobs"]["ci"]["steps"]
    assert any("invoke ci" in s.get("run", "") and "--scan --env production" in s["run"] for s in steps)
    plain = configured(tmp_path / "plain")
    assert shipyard(plain, "init", "--github").returncode == 0
    assert "--scan" not in (plain / ".github/workflows/deploy.yml").read_text()
