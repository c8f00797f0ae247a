"""`invoke config`: the merged settings with their sources, `--json`, `--check`, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from invoke import Config, MockContext
from invoke.exceptions import Exit

from shipyard.tasks import common
from shipyard.tasks.settings import config
from tests.helpers import make_monorepo, python_unit, run_invoke, write

A_TABLE = 'required-env = ["DATABASE_URL", "API_TOKEN"]\nsecret-env = ["DATABASE_URL"]\nenv = { LOG_LEVEL = "info" }'


@pytest.fixture
def cfgrepo(tmp_path: Path) -> Path:
    root = make_monorepo(tmp_path / "repo", commit=False)
    with (root / "pyproject.toml").open("a") as f:
        f.write('\n[tool.shipyard.environments.staging]\nregion = "eu-west-1"\n')
    python_unit(root, "services/a", "a", depends_on=["core"], extra_table=A_TABLE)
    write(root / ".env", "LOG_LEVEL=warning\nSESSION_SECRET=very-secret-session\n")
    write(root / ".env.staging", "DATABASE_URL=ssm:/stg/a/db\nPAYMENT_KEY=ssm:/stg/a/pay\n")
    write(root / "services/a/.env", "API_TOKEN=tok-abcdef-123\nLOG_LEVEL=debug\n")
    return root


def test_config_table(cfgrepo: Path) -> None:
    out = run_invoke(cfgrepo, "config", "--env", "staging", "-s", "a", env={"DATABASE_URL": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "environment: staging",
        '  region  "eu-west-1"  tool.shipyard.environments.staging',
        "",
        "a",
        "  API_TOKEN       [REDACTED]      services/a/.env",
        '  DATABASE_URL    ""              process environment (overrides .env.staging)',
        "  LOG_LEVEL       debug           services/a/.env (overrides .env, default (services/a/pyproject.toml))",
        "  PAYMENT_KEY     ssm:/stg/a/pay  .env.staging",
        "  SESSION_SECRET  [REDACTED]      .env",
    ]


def test_config_json_per_service(cfgrepo: Path) -> None:
    out = run_invoke(cfgrepo, "a.config", "-e", "staging", "--json", "--set", "LOG_LEVEL=trace")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["environment"] == "staging" and list(doc["services"]) == ["a"]
    rows = {r["key"]: r for r in doc["services"]["a"]["settings"]}
    assert rows["PAYMENT_KEY"] == {
        "key": "PAYMENT_KEY", "value": "ssm:/stg/a/pay", "source": ".env.staging",
        "secret": True, "reference": True, "overrides": [],
    }  # fmt: skip
    assert (rows["LOG_LEVEL"]["value"], rows["LOG_LEVEL"]["source"]) == ("trace", "--set")
    assert rows["API_TOKEN"]["value"] == "[REDACTED]"
    assert "tok-abcdef-123" not in out.stdout and "very-secret-session" not in out.stdout


def test_config_lists_missing_required_keys(cfgrepo: Path) -> None:
    (cfgrepo / "services/a/.env").unlink()
    out = run_invoke(cfgrepo, "config", "-s", "a", env={"DATABASE_URL": "ssm:/x"})
    assert out.returncode == 0
    assert out.stdout.splitlines()[-1] == "  API_TOKEN       -           missing (required)"


def test_check_fails_listing_all_missing(cfgrepo: Path) -> None:
    (cfgrepo / "services/a/.env").unlink()
    out = run_invoke(cfgrepo, "config", "--check", env={"DATABASE_URL": ""})
    assert out.returncode == 1
    assert (
        out.stderr.splitlines()[0]
        == "error: missing required settings for environment 'local': a: DATABASE_URL, API_TOKEN"
    )
    ok = run_invoke(cfgrepo, "config", "--check", "-e", "staging", "--set", "API_TOKEN=x", env={"DATABASE_URL": "u"})
    assert (ok.returncode, ok.stdout) == (0, "ok: every required setting is set for a, b in 'staging'\n")


def test_unknown_environment(cfgrepo: Path) -> None:
    out = run_invoke(cfgrepo, "config", "--env", "stagng")
    assert out.returncode == 1
    assert (
        out.stderr
        == "error: unknown environment 'stagng' (did you mean 'staging'?)\nhint: known environments: local, staging\n"
    )


def test_malformed_env_file(cfgrepo: Path) -> None:
    write(cfgrepo / "services/a/.env", "A=1\nB='unclosed\n")
    out = run_invoke(cfgrepo, "a.config")
    assert out.returncode == 1
    assert out.stderr.startswith("error: services/a/.env: line 2: cannot parse the value of B (an unclosed quote?)\n")


def test_libs_have_no_settings(
    cfgrepo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(cfgrepo)
    common._load.cache_clear()
    with pytest.raises(Exit):
        config(MockContext(config=Config(overrides={"shipyard": {"service": "core"}})))
    assert capsys.readouterr().err == "error: core is a lib: settings belong to services\nhint: name a service\n"
    config(MockContext(), env="local", service=None)  # all units: the lib is skipped
    assert [line for line in capsys.readouterr().out.splitlines() if line and not line.startswith(" ")] == [
        "environment: local", "a", "b",
    ]  # fmt: skip


EXTENDS = """
[tool.shipyard.environments.staging]
region = "eu-west-1"
cluster = "apps"
targets = { service = "ecs" }
state-bucket = "acme-state-staging"

[tool.shipyard.environments.production]
extends = "staging"
state-bucket = "acme-state-production"
protected = true

[tool.shipyard.environments.production-us]
extends = "production"
region = "us-east-1"
"""


def test_config_shows_which_environment_each_key_came_from(tmp_path: Path) -> None:
    root = make_monorepo(tmp_path / "repo")
    with (root / "pyproject.toml").open("a") as f:
        f.write(EXTENDS)
    out = run_invoke(root, "config", "--env", "production-us", "-s", "b")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    env = "tool.shipyard.environments."
    assert lines[: lines.index("")] == [
        "environment: production-us (extends production -> staging)",
        f'  targets       {{"service": "ecs"}}       {env}staging',
        f'  region        "us-east-1"              {env}production-us (overrides {env}staging)',
        f"  protected     true                     {env}production",
        f'  state-bucket  "acme-state-production"  {env}production (overrides {env}staging)',
        f'  cluster       "apps"                   {env}staging',  # an ecs target key: after the common ones
    ]
    doc = json.loads(run_invoke(root, "config", "--env", "production", "-s", "b", "--json").stdout)
    assert doc["extends"] == ["staging"]
    assert {k["key"]: (k["value"], k["source"], k["overrides"]) for k in doc["keys"]}["state-bucket"] == (
        "acme-state-production", f"{env}production", [f"{env}staging"],
    )  # fmt: skip
