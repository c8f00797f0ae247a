"""The checks a team already uses (flake8, black, isort beside ruff), run for real by `invoke lint`."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.checks import CHECKS
from shipyard.checks.base import Check
from shipyard.checks.tools import find_executable
from shipyard.ci.lint import lint_key, unit_tools
from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.run.keys import Inputs
from tests.helpers import git, make_monorepo, python_unit, run_invoke, write

TEAM_TOOLS = 'checks = ["flake8", "black", "isort"]'
CLEAN = "import os\nimport sys\n\n\ndef paths() -> list[str]:\n    return [os.sep, sys.prefix]\n"


@pytest.fixture
def team_repo(tmp_path: Path) -> Path:
    """services/b is checked with flake8, black and isort, configured in its own files."""
    repo = make_monorepo(tmp_path / "repo", commit=False)
    unit = python_unit(repo, "services/b", "b", extra_table=TEAM_TOOLS)
    with (unit / "pyproject.toml").open("a") as f:
        f.write('\n[tool.black]\nline-length = 100\n\n[tool.isort]\nprofile = "black"\nline_length = 100\n')
    write(unit / ".flake8", "[flake8]\nmax-line-length = 100\n")
    write(unit / "src" / "b" / "__init__.py", CLEAN)
    write(unit / "tests" / "test_b.py", "def test_it() -> None:\n    assert True\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def test_the_units_own_tools_run_and_each_failure_is_reported(team_repo: Path) -> None:
    ok = run_invoke(team_repo, "lint", "-s", "b")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "b     lint  passed" in ok.stdout
    module = team_repo / "services/b/src/b/__init__.py"
    module.write_text(
        "import sys\nimport os\nimport json\n\n\ndef paths() -> list[str]:\n    return [os.sep, sys.prefix]\n"
    )
    bad = run_invoke(team_repo, "lint", "-s", "b")
    assert bad.returncode == 1, bad.stdout
    assert "./src/b/__init__.py:3:1: F401 'json' imported but unused" in bad.stdout  # flake8, from the unit
    assert "Imports are incorrectly sorted" in bad.stdout  # isort


def test_a_long_line_within_the_units_own_limit_passes(team_repo: Path) -> None:
    """flake8 reads services/b/.flake8 (max 100), not its default of 79."""
    line = 'x = "' + "a" * 80 + '"\n'  # 86 characters, black-formatted
    write(team_repo / "services/b/src/b/long.py", line)
    result = run_invoke(team_repo, "lint", "-s", "b")
    assert result.returncode == 0, result.stdout + result.stderr


def test_fix_formats_with_black_and_isort_then_lint_passes(team_repo: Path) -> None:
    module = team_repo / "services/b/src/b/__init__.py"
    module.write_text("import sys\nimport os\ndef paths( ) -> list[str]:\n    return [os.sep,sys.prefix]\n")
    assert run_invoke(team_repo, "lint", "-s", "b").returncode == 1
    fixed = run_invoke(team_repo, "lint", "--fix", "-s", "b")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert module.read_text() == CLEAN
    assert run_invoke(team_repo, "lint", "-s", "b").returncode == 0


def test_a_checks_root_config_is_in_its_units_key_and_not_in_a_ruff_units(team_repo: Path) -> None:
    def keys() -> tuple[str, str]:
        project = load_project(team_repo)
        inputs = Inputs.read(project)
        b, a = project.unit("b"), project.unit("a")
        return lint_key(b, inputs, unit_tools(project, b)), lint_key(a, inputs, unit_tools(project, a))

    b_before, a_before = keys()
    write(team_repo / ".flake8", "[flake8]\nextend-ignore = E203\n")
    b_after, a_after = keys()
    assert b_after != b_before  # flake8 walks up to the root's .flake8
    assert a_after == a_before  # services/a is checked by ruff only


def test_an_unknown_check_is_a_config_error_with_a_did_you_mean(tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo", commit=False)
    python_unit(repo, "services/b", "b", extra_table='checks = ["flake9"]')
    result = run_invoke(repo, "lint")
    assert result.returncode == 1
    choices = "ruff, flake8, black, isort, mypy, pylint, command:..."
    assert f'tool.shipyard.checks: expected one of {choices}, got "flake9"' in result.stderr
    assert "did you mean 'flake8'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_check_whose_tool_is_not_installed_is_one_clear_error(tmp_path: Path) -> None:
    project = load_project(make_monorepo(tmp_path / "repo"))
    missing = Check(name="nosuch", dist="nosuch-lint", executable="shipyard-test-no-such-tool", check=(("{paths}",),))
    with pytest.raises(ShipyardError) as caught:
        find_executable(project, project.unit("b"), missing)
    assert "services/b: check 'nosuch' needs shipyard-test-no-such-tool, which is not installed" in str(caught.value)
    assert "pip install nosuch-lint" in (caught.value.hint or "")


def test_every_registered_check_is_documented_in_the_configuration_reference() -> None:
    reference = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    line = next(row for row in reference.splitlines() if row.startswith("| `checks`"))
    for name in CHECKS:
        assert name in line
