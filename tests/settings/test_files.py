"""Reading one .env file strictly with python-dotenv."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.settings.files import read_env_file
from tests.helpers import write

ROOT = Path(__file__).resolve().parents[2]


def test_values_are_literal(tmp_path: Path) -> None:
    path = write(tmp_path / ".env", "export A=1\nB='x y'\nC=\"q # not a comment\"\nD=${A}\nE # bare\nF=v # comment\n")
    assert read_env_file(path, ".env") == {"A": "1", "B": "x y", "C": "q # not a comment", "D": "${A}", "E": None,
                                           "F": "v"}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('A=1\nB="open\n', ".env: line 2: cannot parse the value of B (an unclosed quote?)"),
        ("A=1\n\n\njust words\n", ".env: line 4: cannot parse this statement (expected KEY=VALUE)"),
        ("A-B=1\n", ".env: 'A-B' is not a valid variable name"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ShipyardError) as info:
        read_env_file(write(tmp_path / ".env", text), ".env")
    assert info.value.message == message


def test_non_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    # past python-dotenv's first read chunk: the line is counted in the whole file
    path.write_bytes(b"A=1\n" * 3000 + b"B=caf\xe9\n")
    with pytest.raises(ShipyardError) as info:
        read_env_file(path, "services/a/.env")
    assert info.value.message == "services/a/.env: line 3001: byte 0xe9 is not UTF-8"
    assert "UTF-8" in (info.value.hint or "")


def test_the_repository_env_example_parses() -> None:
    values = read_env_file(ROOT / ".env.example", ".env.example")
    assert list(values) == ["DATABASE_URL"]
