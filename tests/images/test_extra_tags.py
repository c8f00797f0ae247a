"""extra-tags: `{git-tag}` is HEAD's exact git tag on a clean tag build, and nothing otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.images.jobs import extra_tags
from shipyard.project import load_project
from tests.helpers import git

WANTED = {"extra-tags": ["latest", "{git-tag}", "latest"]}


def test_git_tag_only_on_a_clean_tag_build(repo: Path) -> None:
    project = load_project(repo)
    assert extra_tags(project, WANTED, dirty=False) == (["latest"], [])  # HEAD has no tag
    git(repo, "tag", "v2.0.1")
    assert extra_tags(project, WANTED, dirty=False) == (["latest", "v2.0.1"], [])
    assert extra_tags(project, WANTED, dirty=True) == (["latest"], [])  # names no reproducible state
    assert extra_tags(project, {}, dirty=False) == ([], [])  # off by default


def test_a_git_tag_that_is_no_image_tag_is_left_out_with_a_note(repo: Path) -> None:
    git(repo, "tag", "release/1.0")
    assert extra_tags(load_project(repo), WANTED, dirty=False) == (
        ["latest"],
        ["git tag 'release/1.0' is not an image tag"],
    )


def test_a_configured_tag_that_is_no_image_tag_is_an_error(repo: Path) -> None:
    with pytest.raises(ShipyardError, match=r"extra-tags: '-latest' is not an image tag") as info:
        extra_tags(load_project(repo), {"extra-tags": ["-latest"]}, dirty=False)
    assert info.value.hint.startswith("use letters, digits")
