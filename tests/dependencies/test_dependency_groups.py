"""Test tools from PEP 735 [dependency-groups] (a uv project's `dev` group), not only a [test] extra."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.ci.sessions import group_test_tools, install_args
from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from tests.helpers import make_monorepo, run_invoke, write

UV_STYLE = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "b"
version = "0.1.0"
requires-python = ">=3.10"

[dependency-groups]
test = ["pytest"]
dev = [{ include-group = "test" }, "coverage"]

[tool.shipyard]
test = ["coverage", "run", "-m", "pytest"]
"""


def test_the_dev_group_installs_the_tools_the_test_command_needs(tmp_path: Path) -> None:
    """The issue's case: `coverage run -m pytest` with coverage in the dev group only."""
    repo = make_monorepo(tmp_path / "repo", files={"services/b/pyproject.toml": UV_STYLE})
    project = load_project(repo)
    assert group_test_tools(project, project.unit("b")) == ["pytest", "coverage"]
    assert install_args(project, project.unit("b"))[-2:] == ["pytest", "coverage"]
    result = run_invoke(repo, "test", "-s", "b")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ b test (python 3.11) passed" in result.stdout


def test_an_include_group_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    broken = UV_STYLE.replace('include-group = "test"', 'include-group = "tset"')
    repo = make_monorepo(tmp_path / "repo", files={"services/b/pyproject.toml": broken}, commit=False)
    project = load_project(repo)
    with pytest.raises(ShipyardError, match=r"dependency-groups\.dev: includes unknown group 'tset'"):
        group_test_tools(project, project.unit("b"))


def test_no_group_and_no_extra_still_gets_pytest(tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo", commit=False)
    write(repo / "services/b/pyproject.toml", '[project]\nname = "b"\nversion = "0"\n')
    project = load_project(repo)
    assert install_args(project, project.unit("b"))[-1] == "pytest"
