"""The base image's Python: read once from the image (no network), cached by image id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.markers import default_environment

from shipyard.errors import ShipyardError
from shipyard.images.interpreter import check_python, image_python
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
