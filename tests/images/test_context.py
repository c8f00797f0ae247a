"""The build context: staged from the fingerprint's files only; clear errors for missing inputs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.fingerprint import tracked_files
from shipyard.core.project import load_project
from shipyard.images.context import check_inputs, hermetic_inputs, stage
from shipyard.images.settings import ImageSettings
from shipyard.run.results import ERROR
from tests.helpers import git, write
from tests.images.example import build


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
    write(repo / "services" / "a" / "Dockerfile.prod", "FROM scratch\n")
    with pytest.raises(ShipyardError) as info:
        check_inputs(project, unit, settings)
    assert info.value.message == "a: services/a/Dockerfile not found; services/a has Dockerfile.prod"
    assert 'dockerfile = "..."' in (info.value.hint or "")
    write(repo / "services" / "a" / "Dockerfile", "FROM scratch\n")
    check_inputs(project, unit, settings)  # the team's own: no lock needed
    write(repo / "services" / "a" / "Dockerfile", "FROM scratch\nCOPY deps/ /deps/\n")  # the hermetic contract
    with pytest.raises(ShipyardError, match=r"requirements\.lock not found"):
        check_inputs(project, unit, settings)
    write(repo / "services" / "a" / "requirements.lock", "")
    assert hermetic_inputs(project, unit, settings)[0].name == "Dockerfile"


def _link(repo: Path, rel: str, target: str | Path) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, repo / rel)
    git(repo, "add", rel)
    git(repo, "commit", "-qm", f"link {rel}")


def test_a_symlink_out_of_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    host_file = write(tmp_path / "host" / "id_rsa", "a host secret\n")
    _link(repo, "services/a/src/a/key.pem", host_file)
    with pytest.raises(ShipyardError) as info:
        stage(repo, tracked_files(repo), "services/a", tmp_path / "ctx" / "unit")
    assert info.value.message == (
        f"services/a/src/a/key.pem is a symlink to {host_file}, outside the repository:"
        " its content would go into the image"
    )
    assert (info.value.hint or "").startswith("replace it with a regular file in the repository")
    assert not (tmp_path / "ctx" / "unit" / "src" / "a" / "key.pem").exists()


def test_a_relative_symlink_out_of_the_repository_in_a_lib_is_refused(repo: Path, tmp_path: Path) -> None:
    write(tmp_path / "outside.py", "SECRET = 1\n")
    _link(repo, "libs/core/src/core/outside.py", "../../../../../outside.py")
    with pytest.raises(ShipyardError, match=r"libs/core/src/core/outside\.py is a symlink to \.\./"):
        stage(repo, tracked_files(repo), "libs/core", tmp_path / "src" / "core")


def test_symlinks_inside_the_repository_are_staged_by_content(repo: Path, tmp_path: Path) -> None:
    _link(repo, "services/a/src/a/shared.py", "../../../../libs/core/src/core/__init__.py")
    _link(repo, "services/a/tests/fixtures", "../../b/src")  # a symlinked folder: one git entry
    dest = tmp_path / "ctx" / "unit"
    stage(repo, tracked_files(repo), "services/a", dest)
    assert not (dest / "src" / "a" / "shared.py").is_symlink()
    assert (dest / "src" / "a" / "shared.py").read_text() == "VALUE = 1\n"
    assert (dest / "tests" / "fixtures" / "b" / "__init__.py").read_text() == "VALUE = 1\n"
    assert not any(p.is_symlink() for p in dest.rglob("*"))


def test_a_dockerfile_symlinked_out_of_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    _link(repo, "services/a/Dockerfile", write(tmp_path / "Dockerfile", "FROM scratch\n"))
    write(repo / "services" / "a" / "requirements.lock", "")
    project = load_project(repo)
    with pytest.raises(ShipyardError, match=r"services/a/Dockerfile is a symlink to .*outside the repository"):
        check_inputs(project, project.units["a"], ImageSettings.of(project, project.units["a"]))


@pytest.mark.integration
def test_build_with_a_symlink_out_of_the_repository_is_an_error_and_builds_nothing(
    tmp_path: Path, make_example: Callable[[Path], Path], wheel_cache: Path
) -> None:
    root = make_example(tmp_path / "repo")
    host_file = write(tmp_path / "host.env", "TOKEN=x\n")
    _link(root, "services/api/src/example_api/settings.env", host_file)
    result = build(root, wheel_cache, ["api"])["api"]
    assert result.status == ERROR
    assert result.reason.startswith(f"services/api/src/example_api/settings.env is a symlink to {host_file}")
    assert "hint: replace it with a regular file" in result.reason
    assert result.details["built"] is False
