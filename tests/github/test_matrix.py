"""`invoke matrix`: units x Python versions for GitHub Actions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.core.project import load_project
from shipyard.github.matrix import matrix, publish
from tests.helpers import python_unit, run_invoke, write


def test_units_times_admitted_versions(repo: Path) -> None:
    text = (repo / "pyproject.toml").read_text().replace('python = ["3.11"]', 'python = ["3.10", "3.12", "3.99"]')
    (repo / "pyproject.toml").write_text(text)
    python_unit(repo, "services/b", "b")
    pyproject = repo / "services" / "b" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('requires-python = ">=3.10"', 'requires-python = ">=3.12"'))
    write(repo / "services" / "site" / "shipyard.toml", 'kind = "static"\npython = "3.12"\ntest = ["true"]\n')
    write(repo / "services" / "docs" / "shipyard.toml", 'kind = "static"\n')  # nothing to test
    project = load_project(repo)
    assert matrix(project, project.select(["b", "site", "docs"])) == {
        "include": [
            {"service": "b", "python": "3.12"},
            {"service": "b", "python": "3.99"},  # the runner installs it: no interpreter needed here
            {"service": "site", "python": "3.12"},
        ]
    }


def test_written_to_github_output_inside_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "output"
    value = {"include": [{"service": "a", "python": "3.11"}]}
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert publish(value) == '{"include":[{"service":"a","python":"3.11"}]}'
    assert not output.exists()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    publish(value)
    assert output.read_text() == 'matrix={"include":[{"service":"a","python":"3.11"}]}\ncount=1\n'


def test_invoke_matrix_since(repo: Path, tmp_path: Path) -> None:
    write(repo / "libs" / "core" / "src" / "core" / "__init__.py", "VALUE = 2\n")
    output = tmp_path / "github_output"
    out = run_invoke(repo, "matrix", "--since", "HEAD", env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output)})
    assert out.returncode == 0, out.stderr
    expected = {"include": [{"service": "a", "python": "3.11"}, {"service": "core", "python": "3.11"}]}
    assert json.loads(out.stdout) == expected
    lines = output.read_text().splitlines()
    assert json.loads(lines[0].removeprefix("matrix=")) == expected
    assert lines[1] == "count=2"
    assert "a: uses lib core, which changed" in out.stderr
