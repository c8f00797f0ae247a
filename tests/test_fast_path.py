"""Cheap imports: listing tasks and the all-cached decision never load boto3, docker or nox,
nor the smaller start-up costs shipyard avoided (packaging: ~20 ms, xml.sax: ~10 ms).

Checked with ``python -X importtime``, which lists every module a process imports.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import run_invoke

HEAVY = ("boto3", "botocore", "docker", "nox", "packaging", "xml")


def imported(repo: Path, *args: str) -> set[str]:
    done = subprocess.run(
        (sys.executable, "-X", "importtime", "-m", "invoke", *args), cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {name.split(".")[0] for name in lines}


def test_listing_tasks_imports_no_heavy_module(repo: Path) -> None:
    assert not imported(repo, "--list") & set(HEAVY)


def test_all_cached_ci_imports_no_heavy_module(repo: Path) -> None:
    first = run_invoke(repo, "ci", "-s", "b")  # one nox session: lint + test of b
    assert first.returncode == 0, first.stdout + first.stderr
    modules = imported(repo, "ci", "-s", "b")
    assert "shipyard" in modules and "invoke" in modules  # the check sees real imports
    assert not modules & set(HEAVY), modules & set(HEAVY)
    again = run_invoke(repo, "ci", "-s", "b")
    assert "2 result(s) from the cache: nothing to run" in again.stdout
