"""Test jobs: nox sessions, and the direct run in a venv nox already installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

from shipyard.ci import pipeline as ci
from shipyard.ci import sessions, testing
from shipyard.ci.pipeline import RunOptions
from shipyard.ci.sessions import install_digest, ready_venv, stamp_path
from shipyard.core.fingerprint import tracked_files
from shipyard.core.project import Project, load_project
from shipyard.run.results import FAILED, PASSED, SKIPPED
from tests.helpers import git, python_unit, run_invoke, write


def fake_venv(repo: Path, unit: str, python: str = "3.11") -> Path:
    """A stamp as the nox session writes it, for a venv that exists."""
    project = load_project(repo)
    venv = repo / ".nox" / f"fake-{unit}"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    digest = install_digest(project, project.units[unit], python, tracked_files(repo))
    stamp = stamp_path(project, project.units[unit], python)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"venv": str(venv), "install": digest}))
    return venv


def test_ready_venv_needs_unchanged_install_inputs(repo: Path) -> None:
    venv = fake_venv(repo, "a")
    project = load_project(repo)
    a = project.units["a"]
    assert ready_venv(project, a, "3.11", tracked_files(repo)) == venv
    assert ready_venv(project, a, "3.12", tracked_files(repo)) is None  # no stamp for that session
    write(repo / "services" / "a" / "src" / "a" / "more.py", "X = 1\n")
    git(repo, "add", "-A")
    assert ready_venv(project, a, "3.11", tracked_files(repo)) == venv  # code is installed editable
    write(repo / "libs" / "core" / "requirements.lock", "six==1.16.0\n")
    git(repo, "add", "-A")
    assert ready_venv(project, a, "3.11", tracked_files(repo)) is None  # a lib's pins changed: reinstall


def test_direct_jobs_run_the_session_command_in_the_venv(repo: Path) -> None:
    venv = fake_venv(repo, "b")
    project = load_project(repo)
    jobs = testing.test_jobs(project, project.select([]))
    assert all("nox" in j.commands[0].argv for j in jobs)
    swapped = {j.unit: j for j in testing.direct(project, jobs, tracked_files(repo))}
    cmd = swapped["b"].commands[0]
    plan = sessions.test_session(project, project.units["b"], "3.11")
    junit = f"--junitxml={repo / '.shipyard' / 'junit' / 'b-3.11.xml'}"  # pytest's cases, for the JUnit report
    assert cmd.argv == plan.argv == ("pytest", junit)
    assert cmd.cwd == str(repo / "services" / "b")
    env = dict(cmd.env)
    assert env["VIRTUAL_ENV"] == str(venv)
    assert env["PATH"].startswith(f"{venv / 'bin'}{os.pathsep}")
    assert swapped["a"] == next(j for j in jobs if j.unit == "a")  # no stamp: still nox


def test_nox_writes_the_stamp_then_tests_run_directly(repo: Path) -> None:
    project = load_project(repo)
    first = ci.test(project, project.select(["b"]), RunOptions())
    assert [(r.unit, r.status) for r in first] == [("b", PASSED)]
    assert "-m nox" in first[0].output
    stamp = json.loads(stamp_path(project, project.units["b"], "3.11").read_text())
    assert Path(stamp["venv"], "bin", "python").exists()
    write(repo / "services" / "b" / "tests" / "test_more.py", "def test_more():\n    assert 2 + 2 == 4\n")
    git(repo, "add", "-A")
    second = ci.test(project, project.select(["b"]), RunOptions())
    assert (second[0].status, second[0].cached) == (PASSED, False)
    assert second[0].output.startswith("$ pytest --junitxml=")
    assert "2 passed" in second[0].output


def test_changed_install_inputs_ask_uv_to_reinstall_local_packages(repo: Path) -> None:
    project = load_project(repo)
    a = project.units["a"]
    assert sessions._reinstall(project, a, "3.11") == []  # no stamp: a new venv installs everything
    fake_venv(repo, "a")
    assert sessions._reinstall(project, a, "3.11") == []  # unchanged inputs
    pyproject = repo / "services" / "a" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('test = ["pytest"]', 'test = ["pytest", "iniconfig"]'))
    expected = ["--reinstall-package", "core", "--reinstall-package", "a"]
    assert sessions._reinstall(project, a, "3.11") == (expected if sessions.venv_backend() == "uv" else [])


def no_tests_repo(repo: Path, setting: str = "") -> Project:
    """services/b with its tests deleted (and ``setting`` in its table), committed."""
    shutil.rmtree(repo / "services" / "b" / "tests")
    if setting:
        python_unit(repo, "services/b", "b", extra_table=setting)
        shutil.rmtree(repo / "services" / "b" / "tests")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "no tests")
    return load_project(repo)


def test_no_tests_collected_is_a_skip_never_cached_as_a_pass(repo: Path) -> None:
    project = no_tests_repo(repo)
    for run in ("nox", "direct"):  # the second run uses the venv nox installed
        [result] = ci.test(project, project.select(["b"]), RunOptions())
        assert (result.status, result.reason, result.cached) == (SKIPPED, "no tests", False), run
    assert "-m nox" not in result.output  # the direct run did happen
    out = run_invoke(repo, "test", "-s", "b")
    assert out.returncode == 0, out.stdout
    assert re.search(r"^b +test-3\.11 +skipped +\S+ +no tests$", out.stdout, re.M), out.stdout


def test_no_tests_can_be_made_a_failure_with_its_reason(repo: Path) -> None:
    project = no_tests_repo(repo, 'no-tests = "fail"')
    for run in ("nox", "direct"):
        [result] = ci.test(project, project.select(["b"]), RunOptions())
        assert (result.status, result.reason) == (FAILED, 'no tests collected (no-tests = "fail")'), run
    assert testing.nox_report(project, project.units["b"], "3.11").exists() is False


def test_a_test_run_leaves_git_status_clean(repo: Path) -> None:
    """.shipyard ignores itself; the egg-info an editable install writes into a unit is removed."""
    (repo / "libs" / "core" / "keep.egg-info").mkdir()  # the user's own: left alone
    git(repo, "add", "-A")  # an empty directory: nothing to add, and still not "new"
    before = git(repo, "status", "--porcelain", "--untracked-files=all")
    out = run_invoke(repo, "test", "-s", "a")
    assert out.returncode == 0, out.stdout
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == before
    assert (repo / ".shipyard" / ".gitignore").read_text().endswith("\n*\n")
    assert (repo / "libs" / "core" / "keep.egg-info").is_dir()
    assert not list(repo.glob("*/*/src/*.egg-info"))
