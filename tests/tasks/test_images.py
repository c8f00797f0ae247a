"""`invoke build`, `invoke push`, `invoke fingerprint` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from invoke import Config, Context
from invoke.exceptions import Exit

from shipyard.tasks import common, core
from tests.helpers import run_invoke


def test_fingerprint_json_lists_inputs_and_settings(repo: Path) -> None:
    out = run_invoke(repo, "fingerprint", "-s", "a", "--json")
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)
    assert row["unit"] == "a" and row["short"] == row["fingerprint"][:16]
    inputs = {i["input"] for i in row["inputs"]}
    assert {"services/a/pyproject.toml", "libs/core/src/core/__init__.py", "settings:base-image"} <= inputs
    assert row["settings"]["base-image"] == "python:3.11-slim"
    again = json.loads(run_invoke(repo, "a.fingerprint", "--json").stdout)
    assert again[0]["fingerprint"] == row["fingerprint"]


def test_fingerprint_text(repo: Path) -> None:
    out = run_invoke(repo, "fingerprint", "-s", "b")
    assert out.stdout.startswith("b (service)  ")
    assert "  services/b/pyproject.toml  " in out.stdout
    assert "settings:platform = linux/amd64" in out.stdout


def test_push_to_an_unknown_environment_is_one_clear_line(repo: Path) -> None:
    out = run_invoke(repo, "push", "--env", "lcoal")
    assert out.returncode == 1
    assert out.stderr.splitlines()[0] == "error: unknown environment 'lcoal' (did you mean 'local'?)"
    assert "Traceback" not in out.stderr


def test_ci_push_needs_an_environment(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    common._load.cache_clear()
    with pytest.raises(Exit) as info:
        core.ci(Context(config=Config()), push=True)
    assert info.value.code == 1
    assert "error: --push needs --env" in capsys.readouterr().err


@pytest.mark.integration
def test_build_reports_a_missing_dockerfile_and_exits_1(repo: Path, docker_engine: None) -> None:
    out = run_invoke(repo, "build", "-s", "b", "--report", "out/build.json")
    assert out.returncode == 1
    assert "b: services/b/Dockerfile not found" in out.stdout
    [record] = json.loads((repo / "out" / "build.json").read_text())["results"]
    assert (record["unit"], record["task"], record["status"]) == ("b", "build", "error")
    assert record["details"]["built"] is False and record["details"]["pushed"] is False
