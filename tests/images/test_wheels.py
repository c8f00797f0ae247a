"""Wheel commands as values, and the wheel cache key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.images.wheels import abi, cache_key, download_command, wheel_commands


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
