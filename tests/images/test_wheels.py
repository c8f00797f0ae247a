"""Wheel commands as values, and the wheel cache key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.images.wheels import abi, build_wheels, cache_key, download_command, wheel_commands
from tests.helpers import git, make_monorepo


def test_download_command_targets_the_image_interpreter() -> None:
    cmd = download_command(Path("/r/requirements.lock"), Path("/c/x"), python="3.12", platform="linux/amd64")
    assert cmd.argv == (
        sys.executable, "-m", "pip", "download", "--only-binary=:all:",
        "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64",
        "--python-version", "3.12", "--implementation", "cp", "--abi", "cp312",
        "--requirement", "/r/requirements.lock", "--dest", "/c/x",
        "--progress-bar", "off", "--disable-pip-version-check",
    )  # fmt: skip


def test_unknown_platform_is_a_clear_error() -> None:
    with pytest.raises(ShipyardError, match="linux/s390x"):
        download_command(Path("l"), Path("d"), python="3.11", platform="linux/s390x")


def test_wheel_commands_are_reproducible_builds() -> None:
    sources = [Path("/w/src/api"), Path("/w/src/common")]
    pip = wheel_commands(sources, Path("/ctx/app"), uv=None)
    assert [c.argv for c in pip] == [
        (sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
         "--wheel-dir", "/ctx/app", "/w/src/api", "/w/src/common"),
    ]  # fmt: skip
    uv = wheel_commands(sources, Path("/ctx/app"), uv="/bin/uv")
    assert [c.argv for c in uv] == [
        ("/bin/uv", "build", "--wheel", "--out-dir", "/ctx/app", "/w/src/api"),
        ("/bin/uv", "build", "--wheel", "--out-dir", "/ctx/app", "/w/src/common"),
    ]
    assert all(c.env == (("SOURCE_DATE_EPOCH", "315532800"),) for c in pip + uv)


def test_cache_key_follows_lock_python_and_platform() -> None:
    key = cache_key(b"flask==3.0.0\n", python="3.11", platform="linux/amd64")
    assert key == cache_key(b"flask==3.0.0\n", python="3.11", platform="linux/amd64")
    assert key != cache_key(b"flask==3.0.1\n", python="3.11", platform="linux/amd64")
    assert key != cache_key(b"flask==3.0.0\n", python="3.12", platform="linux/amd64")
    assert key != cache_key(b"flask==3.0.0\n", python="3.11", platform="linux/arm64")
    assert abi("3.11") == "cp311"


def test_wheel_builds_leave_the_source_tree_as_git_had_it(tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo")
    built = build_wheels([repo / "services" / "a", repo / "libs" / "core"], tmp_path / "wheels")
    assert built == ["a-0.1.0-py3-none-any.whl", "core-0.1.0-py3-none-any.whl"]
    assert git(repo, "status", "--porcelain", "--untracked-files=all", "--ignored") == ""
