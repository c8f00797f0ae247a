"""extra-tags: `{git-tag}` is HEAD's exact git tag on a clean tag build, and nothing otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.images.jobs import Destination, extra_tags
from shipyard.images.registry import parse_registry
from tests.helpers import git

WANTED = {"extra-tags": ["latest", "{git-tag}", "latest"]}


def to(environment: dict[str, list[str]]) -> Destination:
    return Destination("staging", environment, parse_registry("127.0.0.1:5000"))


def test_git_tag_only_on_a_clean_tag_build(repo: Path) -> None:
    project = load_project(repo)
    assert extra_tags(project, to(WANTED), dirty=False) == (["latest"], [])  # HEAD has no tag
    git(repo, "tag", "v2.0.1")
    assert extra_tags(project, to(WANTED), dirty=False) == (["latest", "v2.0.1"], [])
    assert extra_tags(project, to(WANTED), dirty=True) == (["latest"], [])  # names no reproducible state
    assert extra_tags(project, to({}), dirty=False) == ([], [])  # off by default


def test_a_git_tag_that_is_no_image_tag_is_left_out_with_a_note(repo: Path) -> None:
    git(repo, "tag", "release/1.0")
    assert extra_tags(load_project(repo), to(WANTED), dirty=False) == (
        ["latest"],
        ["git tag 'release/1.0' is not an image tag"],
    )


def test_a_configured_tag_that_is_no_image_tag_is_an_error(repo: Path) -> None:
    message = r"\[tool.shipyard.environments.staging\] extra-tags: '-latest' is not an image tag"
    with pytest.raises(ShipyardError, match=message) as info:
        extra_tags(load_project(repo), to({"extra-tags": ["-latest"]}), dirty=False)
    assert info.value.hint.startswith("use letters, digits")
