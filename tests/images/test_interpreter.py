"""The base image's Python: read once from the image (no network), cached by image id."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment

from shipyard.core.errors import ShipyardError
from shipyard.images.interpreter import check_python, image_python
from shipyard.run.results import PASSED
from tests.images.example import build
from tests.images.test_wheels import IMAGE


def test_a_unit_python_other_than_the_image_python_is_a_clear_error() -> None:
    check_python("api", "3.11", "python:3.11-slim", IMAGE)
    with pytest.raises(ShipyardError) as info:
        check_python("api", "3.12", "python:3.11-slim", IMAGE)
    assert info.value.message == "api: base image python:3.11-slim has Python 3.11.2, but the unit's python is 3.12"
    assert info.value.hint == 'set python = "3.11" for api, or a base-image with Python 3.12'


@pytest.mark.integration
def test_image_python_is_read_from_the_base_image_once(docker_engine: None, tmp_path: Path) -> None:
    found = image_python("python:3.11-slim", "linux/amd64", tmp_path / "python")
    assert (found.version, found.implementation, found.markers["sys_platform"]) == ("3.11", "cp", "linux")
    assert set(found.markers) == set(default_environment())
    (entry,) = (tmp_path / "python").glob("sha256-*.json")  # keyed by the base image's id
    json.dump({**found.markers, "python_full_version": "3.11.99"}, entry.open("w"))
    assert image_python("python:3.11-slim", "linux/amd64", tmp_path / "python").full_version == "3.11.99"


@pytest.mark.integration
def test_missing_base_image_is_a_clear_error(docker_engine: None, tmp_path: Path) -> None:
    with pytest.raises(ShipyardError) as info:
        image_python("sytest-no-such-image:1", "linux/amd64", tmp_path)
    assert info.value.message == "base image sytest-no-such-image:1 is not on this Docker engine"


@pytest.mark.integration
def test_an_image_builds_with_a_pin_only_its_python_needs(
    tmp_path: Path, make_example: Callable[[Path], Path], wheel_cache: Path
) -> None:
    # The lock line, with a pin the local index has: true for the image's 3.11.2,
    # false for this host's interpreter, which pip would have evaluated it for.
    line = "blinker==1.9.0 ; python_full_version < '3.11.3'"
    assert not Marker(line.split(";")[1]).evaluate()  # the host drops it
    root = make_example(tmp_path / "repo")
    lock = root / "services" / "worker" / "requirements.lock"
    lock.write_text(lock.read_text() + line + "\n")
    result = build(root, wheel_cache, ["worker"])["worker"]
    assert result.status == PASSED, result.reason + result.output
    assert result.details["built"] is True
    image = result.details["tags"][0]
    listed = subprocess.run(
        ("docker", "run", "--rm", "--network", "none", image, "pip", "show", "blinker"),
        capture_output=True, text=True,
    )  # fmt: skip
    assert "Version: 1.9.0" in listed.stdout, listed.stdout + listed.stderr
