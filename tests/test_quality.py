"""shipyard's own code stays ruff-clean and mypy-strict (src/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run((sys.executable, "-m", *argv), cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_and_format() -> None:
    for argv in (("ruff", "check", "src", "tests", "bench"), ("ruff", "format", "--check", "src", "tests", "bench")):
        out = run(*argv)
        assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_strict_on_src() -> None:
    out = run("mypy")
    assert out.returncode == 0, out.stdout + out.stderr
