"""ruff from the repository root sorts a unit's own packages as first-party, as `ruff check`
run in the unit does, when the team has no ruff configuration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from shipyard.checks.ruff import ruff_overrides
from shipyard.core.project import load_project
from tests.helpers import git, run_invoke, write

# sorted as ruff sorts it in backend/: fastapi third-party, then app (first-party) after a blank line
TEST_FILE = "from fastapi import FastAPI\n\nfrom app import VALUE\n\nassert FastAPI and VALUE\n"


def backend_repo(root: Path, root_table: str = "") -> Path:
    write(root / "pyproject.toml", f'[tool.shipyard]\nservices = ["backend", "worker"]\n{root_table}')
    write(root / "noxfile.py", "import nox\n\nfrom shipyard.sessions import register\n\nregister(nox)\n")
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    write(root / "backend" / "pyproject.toml", '[project]\nname = "backend"\nversion = "0"\n')
    write(root / "backend" / "app" / "__init__.py", "VALUE = 1\n")
    write(root / "backend" / "tests" / "__init__.py", "")
    write(root / "backend" / "tests" / "test_app.py", TEST_FILE)
    write(root / "worker" / "pyproject.toml", '[project]\nname = "worker"\nversion = "0"\n')
    write(root / "worker" / "src" / "worker" / "__init__.py", "")
    write(
        root / "worker" / "tests" / "test_worker.py",
        TEST_FILE.replace("from app import VALUE", "from worker import VALUE"),
    )
    write(root / "worker" / "src" / "worker" / "__init__.py", "VALUE = 2\n")
    git(root, "init", "-q", "-b", "main")
    return root


def test_without_ruff_config_a_units_own_packages_are_first_party(tmp_path: Path) -> None:
    repo = backend_repo(tmp_path / "repo")
    project = load_project(repo)
    assert ruff_overrides(project) == (
        "--config",
        'src = [".", "src", "backend", "backend/src", "worker", "worker/src"]',
    )
    for args in (("lint",), ("lint", "-s", "backend")):  # the batched run and the per-unit run
        result = run_invoke(repo, *args, "--no-cache")
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_team_that_configures_ruff_keeps_its_own_src(tmp_path: Path) -> None:
    repo = backend_repo(tmp_path / "repo", root_table="\n[tool.ruff]\nline-length = 100\n")
    assert ruff_overrides(load_project(repo)) == ()
    (repo / "pyproject.toml").write_text('[tool.shipyard]\nservices = ["backend", "worker"]\n')
    write(repo / "worker" / "ruff.toml", "line-length = 100\n")
    assert ruff_overrides(load_project(repo)) == ()


class Untouchable:
    """A unit whose folder must not be looked at."""

    @property
    def path(self) -> str:
        raise AssertionError("a unit's folder was looked at")


def test_a_root_ruff_config_answers_without_looking_at_the_units(tmp_path: Path) -> None:
    # lint asks once per unit: with the answer at the root, each question must not walk every unit
    repo = backend_repo(tmp_path / "repo", root_table="\n[tool.ruff]\nline-length = 100\n")
    units: dict[str, Any] = {"backend": Untouchable(), "worker": Untouchable()}
    assert ruff_overrides(replace(load_project(repo), units=units)) == ()
