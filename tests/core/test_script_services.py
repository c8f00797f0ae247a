"""Script services: a directory with a requirements.txt and no pyproject.toml is a Python unit,
linted, and tested from its directory with its requirements installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.ci import sessions
from shipyard.ci.sessions import install_steps
from shipyard.cli import init
from shipyard.core.project import load_project
from tests.helpers import ROOT_PYPROJECT, git, run_invoke, write

JOB = "import six\n\n\ndef double(x):\n    return x if six.PY2 else 2 * x\n"
JOB_TEST = "from job import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    write(repo / "pyproject.toml", ROOT_PYPROJECT)
    write(repo / "noxfile.py", "import nox\n\nfrom shipyard.sessions import register\n\nregister(nox)\n")
    write(repo / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    # a script that imports its own module and a pinned dependency, tested from tests/
    write(repo / "services" / "cron" / "requirements.txt", "six==1.16.0\n")
    write(repo / "services" / "cron" / "requirements-dev.txt", "pytest\niniconfig\n")
    write(repo / "services" / "cron" / "job.py", JOB)
    write(
        repo / "services" / "cron" / "tests" / "test_job.py",
        JOB_TEST + "\n\ndef test_dev():\n    import iniconfig\n\n    assert iniconfig.__name__\n",
    )
    write(repo / "services" / "cron" / "Dockerfile", "FROM python:3.11-slim\nCOPY requirements.txt .\n")
    # one with no tests at all
    write(repo / "services" / "notifier" / "requirements.txt", "six==1.16.0\n")
    write(repo / "services" / "notifier" / "main.py", 'print("sent")\n')
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "Test")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def test_a_requirements_only_directory_is_a_python_script_unit(repo: Path) -> None:
    project = load_project(repo)
    cron = project.unit("cron")
    assert (cron.kind, cron.is_python, cron.script, cron.source) == (
        "service",
        True,
        True,
        "services/cron/shipyard.toml",  # where its overrides go, as hints say
    )
    folder = repo / "services" / "cron"
    assert install_steps(project, cron) == [
        ["-r", str(folder / "requirements.txt"), "-r", str(folder / "requirements-dev.txt")]
    ]
    assert dict(sessions.test_session(project, cron, "3.11").env)["PYTHONPATH"].split(":")[0] == str(folder)
    assert install_steps(project, project.unit("notifier"))[0][-1] == "pytest"


def test_script_services_are_tested_and_linted_for_real(repo: Path) -> None:
    result = run_invoke(repo, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ cron test (python 3.11) passed" in result.stdout, result.stdout
    assert "notifier test (python 3.11) skipped: no tests" in result.stdout, result.stdout
    assert "1 passed, 0 failed, 1 skipped" in result.stdout
    again = run_invoke(repo, "test", "--no-cache")  # the stamped venv, run directly: still its dir on sys.path
    assert again.returncode == 0 and "✓ cron test (python 3.11) passed" in again.stdout, again.stdout + again.stderr

    write(repo / "services" / "cron" / "job.py", JOB.replace("2 * x", "3 * x"))
    failed = run_invoke(repo, "test", "-s", "cron")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "✗ cron test (python 3.11) failed" in failed.stdout

    lint = run_invoke(repo, "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "2 passed, 0 failed" in lint.stdout, lint.stdout
    write(repo / "services" / "notifier" / "main.py", 'import os\nprint("sent")\n')  # F401: unused import
    lint = run_invoke(repo, "lint", "-s", "notifier")
    assert lint.returncode == 1, lint.stdout + lint.stderr
    assert "F401" in lint.stdout


def test_init_describes_a_script_service_and_writes_it_no_shipyard_toml(repo: Path) -> None:
    found = init.plan(repo)
    cron = next(line for line in found.units if line.startswith("  services/cron:"))
    assert cron == (
        "  services/cron: Python script service (tested from its directory); checks: ruff; tests: pytest; "
        "dependencies: requirements.txt; image: Dockerfile, built as docker build"
    )
    assert "services/cron/shipyard.toml" not in found.writes  # a Dockerfile beside requirements: still Python
