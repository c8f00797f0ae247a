"""`invoke build/push --help` say what --no-cache and --force each do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_invoke


@pytest.mark.parametrize("task", ["build", "push"])
def test_help_tells_no_cache_from_force(repo: Path, task: str) -> None:
    out = run_invoke(repo, "--help", task)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())  # invoke wraps the help column
    assert "-f, --force rebuild each image" in text
    assert "-n, --no-cache when an image" in text and "without Docker's layer cache" in text
    assert "(use --force)" in text or "(to rebuild it, use --force)" in text
