"""Image fingerprints on throwaway git repositories: stable, content-only, dependency-aware."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from shipyard.core.project import Project, load_project
from shipyard.images.settings import Checkout, image_fingerprint, revision, static_fingerprint
from tests.helpers import git, write


def fingerprints(root: Path) -> dict[str, str]:
    project = load_project(root)
    return {u.name: image_fingerprint(project, u).digest for u in project.services}


def test_same_content_same_fingerprint_across_clones(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "elsewhere" / "deeper" / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    assert fingerprints(repo) == fingerprints(clone)
    assert len(set(fingerprints(repo).values())) == 2


def test_untracked_files_count_ignored_ones_do_not(repo: Path) -> None:
    write(repo / ".gitignore", "*.log\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore logs")
    before = fingerprints(repo)  # the root .gitignore is not an input; committing it changes nothing
    write(repo / "services" / "a" / "debug.log", "ignored\n")
    write(repo / "services" / "a" / "src" / "a" / "__pycache__" / "m.cpython-311.pyc", "by-product\n")
    assert fingerprints(repo) == before
    write(repo / "services" / "a" / "notes.txt", "untracked: the wheel and the context take it too\n")
    untracked = fingerprints(repo)
    assert untracked["a"] != before["a"] and untracked["b"] == before["b"]
    write(repo / "services" / "a" / "src" / "a" / "__init__.py", "VALUE = 2\n")  # uncommitted edit
    assert fingerprints(repo)["a"] != untracked["a"]


def test_lib_change_changes_its_dependents_only(repo: Path) -> None:
    before = fingerprints(repo)
    write(repo / "libs" / "core" / "src" / "core" / "__init__.py", "VALUE = 3\n")
    after = fingerprints(repo)
    assert after["a"] != before["a"]  # a uses core
    assert after["b"] == before["b"]


def _with_image(project: Project, **image: str) -> Project:
    settings = {**project.settings, "image": {**project.settings["image"], **image}}
    return dataclasses.replace(project, settings=settings)


def test_build_settings_count_deploy_settings_do_not(repo: Path) -> None:
    project = load_project(repo)
    unit = project.units["b"]
    base = image_fingerprint(project, unit).digest
    deploy_only = dataclasses.replace(unit, settings={**unit.settings, "memory": 4096, "env": {"X": "1"}})
    assert image_fingerprint(project, deploy_only).digest == base
    other_python = dataclasses.replace(unit, settings={**unit.settings, "python": "3.12"})
    assert image_fingerprint(project, other_python).digest != base
    assert image_fingerprint(_with_image(project, **{"base-image": "python:3.11-bookworm"}), unit).digest != base
    assert image_fingerprint(_with_image(project, **{"cache-from": "reg/cache"}), unit).digest == base
    assert static_fingerprint(project, unit).digest != base  # a different artifact, a different identity


def test_fingerprint_inputs_name_files_and_settings(repo: Path) -> None:
    project = load_project(repo)
    names = [name for name, _ in image_fingerprint(project, project.units["a"]).inputs]
    assert "services/a/pyproject.toml" in names and "libs/core/src/core/__init__.py" in names
    assert {"settings:base-image", "settings:platform", "settings:python"} <= set(names)
    assert not any(n.startswith("services/b/") for n in names)


def test_revision_marks_dirty_trees(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD").strip()
    assert revision(repo).tag == f"git-{sha}"
    write(repo / "services" / "b" / "src" / "b" / "__pycache__" / "x.pyc", "tool by-products do not count\n")
    assert not revision(repo).dirty
    write(repo / "services" / "b" / "src" / "b" / "new.py", "X = 1\n")  # untracked: an input, so not git-<sha>
    assert revision(repo).dirty
    (repo / "services" / "b" / "src" / "b" / "new.py").unlink()
    write(repo / "services" / "b" / "src" / "b" / "__init__.py", "VALUE = 9\n")
    assert revision(repo).tag == f"git-{sha}-dirty"
    assert Checkout.read(repo).revision.dirty
