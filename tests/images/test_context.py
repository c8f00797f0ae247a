"""The build context: staged from the fingerprint's files only; clear errors for missing inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.fingerprint import tracked_files
from shipyard.images.context import check_inputs, stage
from shipyard.images.settings import ImageSettings
from shipyard.project import load_project
from tests.helpers import write


def test_stage_copies_the_fingerprinted_working_tree_files_only(repo: Path, tmp_path: Path) -> None:
    write(repo / ".gitignore", "*.log\n")
    write(repo / "services" / "a" / "debug.log", "ignored: not an input, not in the image\n")
    write(repo / "services" / "a" / "untracked.py", "x = 1\n")
    write(repo / "services" / "a" / "src" / "a" / "__init__.py", "VALUE = 42\n")  # edited, not committed
    dest = tmp_path / "ctx" / "unit"
    count = stage(repo, tracked_files(repo), "services/a", dest)
    copied = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert copied == ["pyproject.toml", "src/a/__init__.py", "tests/test_a.py", "untracked.py"]
    assert count == 4
    assert (dest / "src" / "a" / "__init__.py").read_text() == "VALUE = 42\n"


def test_missing_dockerfile_and_lock_are_clear_errors(repo: Path) -> None:
    project = load_project(repo)
    unit = project.units["a"]
    settings = ImageSettings.of(project, unit)
    with pytest.raises(ShipyardError) as info:
        check_inputs(project, unit, settings)
    assert info.value.message == "a: services/a/Dockerfile not found"
    write(repo / "services" / "a" / "Dockerfile", "FROM scratch\n")
    with pytest.raises(ShipyardError, match=r"requirements\.lock not found"):
        check_inputs(project, unit, settings)
    write(repo / "services" / "a" / "requirements.lock", "")
    assert check_inputs(project, unit, settings)[0].name == "Dockerfile"
