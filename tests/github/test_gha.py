"""`invoke ci` inside GitHub Actions: groups, annotations, step summary, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.github import output as gha
from shipyard.run.results import FAILED, PASSED, Result
from tests.helpers import python_unit, run_invoke, write


def test_annotations_from_ruff_and_pytest_output() -> None:
    lint = Result("a", "lint", FAILED, output="services/a/src/a/x.py:1:8: F401 [*] `os` imported but unused\n")
    test = Result("b", "test", FAILED, python="3.11", output="tests/test_b.py:2: AssertionError\n")
    assert gha.annotations_for(lint, "services/a") == [
        "::error file=services/a/src/a/x.py,line=1,col=8::a lint: F401 [*] `os` imported but unused"
    ]
    assert gha.annotations_for(test, "services/b") == [
        "::error file=services/b/tests/test_b.py,line=2::b test-3.11: AssertionError"
    ]
    assert gha.annotations_for(Result("b", "test", PASSED), "services/b") == []


def test_annotations_from_a_check_run_in_the_units_directory() -> None:
    """flake8 runs in the unit's directory (to find its config) and prints ./-relative paths."""
    lint = Result("b", "lint", FAILED, output="./src/b/__init__.py:3:1: F401 'json' imported but unused\n")
    assert gha.annotations_for(lint, "services/b") == [
        "::error file=services/b/src/b/__init__.py,line=3,col=1::b lint: F401 'json' imported but unused"
    ]


def test_unparseable_failure_still_gets_an_annotation() -> None:
    r = Result("b", "build", FAILED, reason="docker build exited 1\nstep 3")
    assert gha.annotations_for(r, "services/b") == ["::error title=b build::docker build exited 1%0Astep 3"]


def test_output_with_a_delimiter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    gha.write_output("one", "1")
    gha.write_output("many", "a\nb")
    assert out.read_text() == "one=1\nmany<<SHIPYARD_EOF\na\nb\nSHIPYARD_EOF\n"


def test_mask_only_inside_actions(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    gha.mask("s3cret")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    gha.mask("s3cret\nline2")
    assert capsys.readouterr().out == "::add-mask::s3cret\n::add-mask::line2\n"


@pytest.mark.integration
def test_invoke_ci_inside_actions(repo: Path, tmp_path: Path) -> None:
    python_unit(repo, "services/b", "b", test_body="assert 1 == 2, 'b is broken'")
    write(repo / "services" / "a" / "src" / "a" / "bad.py", "import os\n")
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    out = run_invoke(repo, "ci", env=env)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert "::group::a lint: failed" in lines
    assert "::group::b test-3.11: failed" in lines
    assert "::group::core test-3.11: passed" in lines
    assert lines.count("::endgroup::") == sum(line.startswith("::group::") for line in lines)
    assert "::error file=services/a/src/a/bad.py,line=1,col=8::a lint: F401 [*] `os` imported but unused" in lines
    assert any(
        line.startswith("::error file=services/b/tests/test_b.py,line=2::b test-3.11: AssertionError") for line in lines
    )
    table = summary.read_text()
    assert "| unit | task | status | time | note |" in table
    assert "| b | test-3.11 | ❌ failed |" in table
    assert "| core | lint | ✅ passed |" in table
    diagram = table.split("```mermaid\n", 1)[1].split("```", 1)[0]  # the units, core feeding a
    assert 'u_a["a<br/>service: failed"]:::failed' in diagram
    assert 'u_b["b<br/>service: failed"]:::failed' in diagram
    assert 'u_core["core<br/>lib: passed"]:::passed' in diagram
    assert "u_core --> u_a" in diagram and "u_core --> u_b" not in diagram
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs["status"] == "failure"
    assert json.loads(outputs["failed"]) == ["a", "b"]


def test_secrets_are_masked_before_anything_prints(repo: Path) -> None:
    python_unit(repo, "services/b", "b", extra_table='secret-env = ["B_TOKEN"]\nrequired-env = ["B_TOKEN"]')
    write(repo / "services" / "b" / ".env", "B_TOKEN=from-dotenv-s3cr3t\nPLAIN=hello\n")  # untracked: allowed
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": "", "GITHUB_OUTPUT": ""}
    out = run_invoke(repo, "config", "--env", "local", "-s", "b", env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "::add-mask::from-dotenv-s3cr3t"
    assert sum("from-dotenv-s3cr3t" in line for line in lines) == 1  # only the mask line
    assert "[REDACTED]" in out.stdout
