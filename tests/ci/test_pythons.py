from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.ci import pythons
from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from tests.helpers import write

ALL = ["3.10", "3.11", "3.12", "3.13"]


def unit_with(repo: Path, requires: str):  # type: ignore[no-untyped-def]
    path = repo / "services" / "b" / "pyproject.toml"
    path.write_text(path.read_text().replace('requires-python = ">=3.10"', f'requires-python = "{requires}"'))
    return load_project(repo).units["b"]


@pytest.mark.parametrize(
    ("requires", "expected"),
    [(">=3.10", ALL), (">=3.11,<3.13", ["3.11", "3.12"]), ("==3.12.*", ["3.12"]), (">=3.11.2", ALL[1:]), ("", ALL)],
)
def test_allowed_intersects_requires_python(repo: Path, requires: str, expected: list[str]) -> None:
    assert pythons.allowed(unit_with(repo, requires), ALL) == expected


def test_invalid_specifier(repo: Path) -> None:
    with pytest.raises(ShipyardError) as info:
        pythons.allowed(unit_with(repo, ">=three"), ALL)
    assert info.value.message == "services/b/pyproject.toml: project.requires-python: invalid specifier '>=three'"


def test_missing_interpreter_is_skipped_or_strict(repo: Path) -> None:
    unit = load_project(repo).units["b"]
    found = pythons.versions(unit, ["3.11", "2.1"], strict=False)
    assert found == pythons.Versions(("3.11",), ())  # 2.1 is not admitted by >=3.10
    write(
        repo / "services" / "b" / "pyproject.toml",
        (repo / "services" / "b" / "pyproject.toml").read_text().replace(">=3.10", ">=3.0"),
    )
    unit = load_project(repo).units["b"]
    assert pythons.versions(unit, ["3.11", "3.1"], strict=False) == pythons.Versions(("3.11",), ("3.1",))
    with pytest.raises(ShipyardError) as info:
        pythons.versions(unit, ["3.11", "3.1"], strict=True)
    assert info.value.message == "b: no interpreter for Python 3.1"
