"""Tool and interpreter versions for cache keys, found without slow imports."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from shipyard.run.versions import dist_version, interpreter_version, venv_version


def test_dist_version_agrees_with_importlib_metadata() -> None:
    for name in ("ruff", "nox", "pytest", "invoke"):
        assert dist_version(name) == metadata.version(name)
    assert dist_version("no-such-distribution-here") == ""


@pytest.mark.parametrize(
    "cfg",
    [
        "home = /usr/bin\nimplementation = CPython\nuv = 0.4.0\nversion_info = 3.11.7\n",
        "home = /usr/bin\nversion_info = 3.11.7.final.0\nvirtualenv = 20.0\n",
        "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
    ],
)
def test_venv_version(tmp_path: Path, cfg: str) -> None:
    (tmp_path / "pyvenv.cfg").write_text(cfg)
    assert venv_version(tmp_path) == "3.11.7"
    assert venv_version(tmp_path / "missing") == ""


def test_interpreter_version_is_remembered(tmp_path: Path) -> None:
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    memo = tmp_path / "interpreters.json"
    assert interpreter_version(current, memo).startswith(f"{current}.")
    assert memo.is_file() and current in memo.read_text()
    assert interpreter_version("2.1", memo) == ""
