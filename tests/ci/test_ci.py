"""`invoke lint`, `invoke test` and `invoke ci` for real: ruff and nox on a throwaway monorepo."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import default_sigint, git, python_unit, run_invoke, write

pytestmark = pytest.mark.integration


def rows(stdout: str) -> set[tuple[str, str, str]]:
    """(unit, task, status) rows of the summary table."""
    found = re.findall(r"^(\S+) +(\S+) +(passed|failed|skipped|error)\b", stdout, flags=re.M)
    return set(found)


def test_ci_passes_and_prints_a_summary(repo: Path) -> None:
    out = run_invoke(repo, "ci", "--report", "out/report.json", "--report", "out/junit.xml")
    assert out.returncode == 0, out.stdout + out.stderr
    assert {("a", "test-3.11", "passed"), ("core", "lint", "passed")} <= rows(out.stdout)
    records = json.loads((repo / "out" / "report.json").read_text())["results"]
    assert {(r["unit"], r["task"], r["status"]) for r in records} >= {("a", "test", "passed"), ("b", "lint", "passed")}
    assert '<testsuite name="a"' in (repo / "out" / "junit.xml").read_text()


def test_failing_test_fails_ci_and_names_service_and_session(repo: Path) -> None:
    python_unit(repo, "services/b", "b", test_body="assert 1 == 2, 'b is broken'")
    out = run_invoke(repo, "ci")
    assert out.returncode == 1
    assert ("b", "test-3.11", "failed") in rows(out.stdout)
    assert "tests(service='b', python='3.11')" in out.stdout
    assert "b is broken" in out.stdout  # the failing session's output is shown
    assert ("a", "test-3.11", "passed") in rows(out.stdout)  # the others still ran


def test_lint_failure_and_fix(repo: Path) -> None:
    write(repo / "services" / "a" / "src" / "a" / "bad.py", "import os\nx=1\n")
    out = run_invoke(repo, "a.lint")
    assert out.returncode == 1
    assert "F401" in out.stdout
    assert ("a", "lint", "failed") in rows(out.stdout)
    fixed = run_invoke(repo, "lint", "-s", "a", "--fix")
    assert fixed.returncode == 0, fixed.stdout
    assert (repo / "services" / "a" / "src" / "a" / "bad.py").read_text() == "x = 1\n"


def test_nox_lists_generated_sessions(repo: Path) -> None:
    out = subprocess.run((sys.executable, "-m", "nox", "-l"), cwd=repo, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for name in ("lint", "tests(service='a', python='3.11')", "tests(service='core', python='3.11')"):
        assert f"* {name}" in out.stdout
    tagged = subprocess.run((sys.executable, "-m", "nox", "-l", "-t", "b"), cwd=repo, capture_output=True, text=True)
    assert "* tests(service='b', python='3.11')" in tagged.stdout
    assert "* tests(service='a'" not in tagged.stdout


def test_missing_interpreter_skips_or_fails_when_strict(repo: Path) -> None:
    text = (repo / "pyproject.toml").read_text().replace('python = ["3.11"]', 'python = ["3.11", "3.99"]')
    (repo / "pyproject.toml").write_text(text)
    git(repo, "commit", "-qam", "want 3.99")
    out = run_invoke(repo, "test", "-s", "b")
    assert out.returncode == 0, out.stdout
    assert ("b", "test-3.99", "skipped") in rows(out.stdout)
    strict = run_invoke(repo, "test", "-s", "b", "--strict-python")
    assert strict.returncode == 1
    assert strict.stderr.startswith("error: b: no interpreter for Python 3.99\n")


def test_ctrl_c_exits_130(repo: Path) -> None:
    python_unit(repo, "services/b", "b", test_body="import time; time.sleep(120)")
    proc = subprocess.Popen(
        (sys.executable, "-m", "invoke", "test", "-s", "b"),
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((repo / ".nox").glob("*/bin/pytest")):
        time.sleep(0.2)
    time.sleep(2)  # let pytest start sleeping
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
