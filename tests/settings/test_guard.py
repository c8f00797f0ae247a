"""The git guard: tracked files holding secret values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.settings import load_settings
from tests.helpers import git, python_unit, write


def load(root: Path, unit: str = "a") -> None:
    project = load_project(root)
    load_settings(project, "staging", project.units[unit], environ={})


def test_tracked_env_file_with_a_secret_is_refused(envrepo: Path) -> None:
    write(envrepo / "services/a/.env", "LOG=debug\nAPI_TOKEN=committed-token\nDB_PASSWORD=committed-pw\n")
    git(envrepo, "add", "-f", "services/a/.env")
    with pytest.raises(ShipyardError) as info:
        load(envrepo)
    assert info.value.message == (
        "services/a/.env is tracked by git and holds a value for the secret API_TOKEN, DB_PASSWORD"
    )
    assert "git rm --cached services/a/.env" in (info.value.hint or "")
    assert "committed-" not in info.value.message + (info.value.hint or "")


def test_untracked_references_and_empty_values_are_fine(envrepo: Path) -> None:
    write(envrepo / ".env", "API_TOKEN=\nDATABASE_URL=ssm:/stg/db\nLOG=debug\n")
    git(envrepo, "add", "-f", ".env")
    write(envrepo / ".env.staging", "DB_PASSWORD=local-only-pw\n")  # not tracked
    load(envrepo)


def test_secret_env_keys_count_as_secret(envrepo: Path) -> None:
    write(envrepo / ".env.staging", "DATABASE_URL=postgresql://db/app\n")  # secret-env of a, no password
    git(envrepo, "add", "-f", ".env.staging")
    load(envrepo, "b")  # not secret for b
    with pytest.raises(ShipyardError, match=r"^\.env\.staging is tracked by git .* DATABASE_URL$"):
        load(envrepo, "a")


def test_literal_secret_in_the_env_table_is_refused(envrepo: Path) -> None:
    python_unit(envrepo, "services/b", "b", extra_table='env = { SESSION_SECRET = "in-pyproject" }')
    git(envrepo, "add", "-A")
    with pytest.raises(ShipyardError) as info:
        load(envrepo, "b")
    assert info.value.message == (
        "services/b/pyproject.toml is tracked by git and holds a value for the secret SESSION_SECRET"
    )


def test_outside_git_nothing_is_tracked(envrepo: Path) -> None:
    import shutil

    shutil.rmtree(envrepo / ".git")
    write(envrepo / ".env", "API_TOKEN=value-outside-git\n")
    load(envrepo)
