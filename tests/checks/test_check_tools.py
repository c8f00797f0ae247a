"""mypy, pylint and `command:` checks, the tool versions a unit pins, and tools found nowhere.

Every check runs for real (mypy, pylint and black from the dev extra; a pinned black from
PyPI into the unit's tool venv) in throwaway git repositories.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shipyard.checks import CHECKS, tools
from shipyard.checks.base import Check
from shipyard.ci import pipeline as ci
from shipyard.ci.lint import MAX_SETTLE, lint_job, lint_key, settle, unit_tools
from shipyard.ci.pipeline import RunOptions
from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.run.keys import Inputs
from tests.helpers import git, make_monorepo, python_unit, run_invoke, write

GHA = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": "", "GITHUB_OUTPUT": ""}
TYPED = "def double(x: int) -> int:\n    return x * 2\n"
TESTS = "def test_it() -> None:\n    assert True\n"


def team_unit(tmp_path: Path, checks: str, config: str = "", files: dict[str, str] | None = None) -> Path:
    """services/b checked with ``checks``, ``config`` appended to its pyproject.toml; committed."""
    repo = make_monorepo(tmp_path / "repo", commit=False)
    unit = python_unit(repo, "services/b", "b", extra_table=f"checks = {checks}")
    with (unit / "pyproject.toml").open("a") as f:
        f.write(config)
    write(unit / "src" / "b" / "__init__.py", TYPED)
    write(unit / "tests" / "test_b.py", TESTS)
    for rel, text in (files or {}).items():
        write(repo / rel, text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def lint_b(repo: Path) -> subprocess.CompletedProcess[str]:
    return run_invoke(repo, "lint", "-s", "b", env=GHA)  # type: ignore[no-any-return]


def test_mypy_reports_a_type_error_as_an_annotation_passes_clean_code_and_caches(tmp_path: Path) -> None:
    repo = team_unit(tmp_path, '["mypy"]', "\n[tool.mypy]\nstrict = true\n")
    ok = lint_b(repo)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "--ignore-missing-imports" in ok.stdout  # no test venv yet
    again = lint_b(repo)
    assert "1 result(s) from the cache" in again.stdout, again.stdout
    write(repo / "services/b/src/b/__init__.py", "def double(x: int) -> str:\n    return x * 2\n")
    bad = lint_b(repo)
    assert bad.returncode == 1, bad.stdout
    assert (
        "::error file=services/b/src/b/__init__.py,line=2,col=12::b lint: error: "
        'Incompatible return value type (got "int", expected "str")  [return-value]'
    ) in bad.stdout


def test_mypy_sees_a_same_size_rewrite_in_the_second_its_cache_saw(tmp_path: Path) -> None:
    """mypy's cache trusts a file whose size and whole-second mtime it recorded. The file is
    stamped with a second F just ahead (as if written in the second lint starts), and
    rewritten (same size, the wrong type) for real once F has come: mypy must not have
    cached it in F, or it sees the rewrite as unchanged and says "Success"."""
    repo = team_unit(tmp_path, '["mypy"]', "\n[tool.mypy]\nstrict = true\n")
    source = repo / "services/b/src/b/__init__.py"
    second = int(time.time()) + 1
    os.utime(source, ns=(second * 10**9, second * 10**9))
    ok = lint_b(repo)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert time.time() >= second + 1  # lint waited for F to pass before it ran mypy
    if time.time() < second:
        time.sleep(second - time.time())  # without the wait: rewrite within F
    write(source, "def double(x: int) -> str:\n    return x * 2\n")
    bad = lint_b(repo)
    assert bad.returncode == 1, bad.stdout
    assert 'Incompatible return value type (got "int", expected "str")' in bad.stdout


def test_settle_waits_only_for_a_file_written_in_the_current_second(tmp_path: Path) -> None:
    old, fresh = write(tmp_path / "old.py", "x = 1\n"), write(tmp_path / "fresh.py", "x = 1\n")
    os.utime(old, (time.time() - 60, time.time() - 60))
    assert settle([old, tmp_path / "deleted.py"]) == 0.0
    settle([old, fresh])
    assert time.time() >= int(fresh.stat().st_mtime) + 1
    future = time.time() + 3600  # clock skew, a restored cache: waiting is no use, and capped
    os.utime(fresh, (future, future))
    assert settle([fresh]) <= MAX_SETTLE


def test_mypy_with_files_in_the_units_config_checks_only_those(tmp_path: Path) -> None:
    """[tool.mypy] files = ["src"]: `mypy` with no paths, so the untyped tests are not checked."""
    repo = team_unit(tmp_path, '["mypy"]', '\n[tool.mypy]\nstrict = true\nfiles = ["src"]\n')
    write(repo / "services/b/tests/test_b.py", "def test_it():\n    assert True\n")  # untyped: strict fails it
    result = lint_b(repo)
    assert result.returncode == 0, result.stdout
    assert "--ignore-missing-imports\n" in result.stdout  # the argv ends there: no "."


def test_mypy_reads_the_units_test_venv_once_there_is_one(tmp_path: Path) -> None:
    """Service a uses lib core. Without a test venv mypy cannot see core (ignored); once
    `invoke test` installed a's venv, mypy reads core from it and finds the wrong type,
    and the key differs, so the earlier pass is not reused."""
    repo = make_monorepo(tmp_path / "repo", commit=False)
    with (repo / "services/a/pyproject.toml").open("a") as f:
        f.write('checks = ["mypy"]\n')  # the last table is [tool.shipyard]
    write(repo / "libs/core/src/core/__init__.py", "VALUE: int = 1\n")
    write(repo / "libs/core/src/core/py.typed", "")
    write(repo / "services/a/src/a/__init__.py", "from core import VALUE\n\nNAME: str = VALUE\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    before = run_invoke(repo, "lint", "-s", "a")
    assert before.returncode == 0, before.stdout + before.stderr
    tested = run_invoke(repo, "test", "-s", "a")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    after = run_invoke(repo, "lint", "-s", "a")
    assert after.returncode == 1, after.stdout
    assert "--python-executable" in after.stdout
    assert 'Incompatible types in assignment (expression has type "int", variable has type "str")' in after.stdout


def test_pylint_reports_a_finding_as_an_annotation_passes_clean_code_and_caches(tmp_path: Path) -> None:
    config = '\n[tool.pylint.main]\ndisable = ["missing-module-docstring", "missing-function-docstring"]\n'
    repo = team_unit(tmp_path, '["pylint"]', config)
    ok = lint_b(repo)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 result(s) from the cache" in lint_b(repo).stdout
    write(repo / "services/b/src/b/__init__.py", "def double(x: int) -> int:\n    unused = 3\n    return x * 2\n")
    bad = lint_b(repo)
    assert bad.returncode == 1, bad.stdout
    assert (  # pylint says column 4 (it counts from 0); GitHub's columns start at 1
        "::error file=services/b/src/b/__init__.py,line=2,col=5::b lint: W0612 Unused variable 'unused'" in bad.stdout
    )


def test_a_root_pylintrc_is_in_a_pylint_units_key_and_not_in_a_ruff_units(tmp_path: Path) -> None:
    repo = team_unit(tmp_path, '["pylint"]')

    def keys() -> tuple[str, str]:
        project = load_project(repo)
        inputs = Inputs.read(project)
        b, a = project.unit("b"), project.unit("a")
        return lint_key(b, inputs, unit_tools(project, b)), lint_key(a, inputs, unit_tools(project, a))

    b_before, a_before = keys()
    write(repo / ".pylintrc", "[MAIN]\ndisable = C0114\n")
    b_after, a_after = keys()
    assert b_after != b_before and a_after == a_before
    write(repo / "ruff.toml", "line-length = 90\n")
    assert keys()[1] != a_after  # ruff's root config is the ruff unit's input (from checks/ruff.py)


def test_a_command_check_runs_from_the_unit_fails_on_its_exit_status_and_caches(tmp_path: Path) -> None:
    script = "import pathlib, sys; sys.exit(pathlib.Path('FAIL').exists())"
    repo = team_unit(tmp_path, f'["ruff", "command:{sys.executable} -c \\"{script}\\""]')
    ok = lint_b(repo)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 result(s) from the cache" in lint_b(repo).stdout
    write(repo / "services/b/FAIL", "")  # the unit's content changed, and the command now fails
    bad = lint_b(repo)
    assert bad.returncode == 1, bad.stdout
    assert "exited 1" in bad.stdout


def test_a_command_check_whose_program_is_missing_is_one_clear_error(tmp_path: Path) -> None:
    repo = team_unit(tmp_path, '["command:shipyard-test-no-such-linter --strict"]')
    result = lint_b(repo)
    assert result.returncode == 1
    assert (
        "error: services/b: check 'command:shipyard-test-no-such-linter --strict' needs "
        "shipyard-test-no-such-linter, which is not installed"
    ) in result.stderr
    assert "hint: install shipyard-test-no-such-linter or put it on PATH" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("entry", ["command:", "comand:make lint"])
def test_a_malformed_command_check_is_a_config_error(tmp_path: Path, entry: str) -> None:
    repo = team_unit(tmp_path, f'["{entry}"]')
    result = lint_b(repo)
    assert result.returncode == 1
    assert (
        f'tool.shipyard.checks: expected one of ruff, flake8, black, isort, mypy, pylint, command:..., got "{entry}"'
        in (result.stderr)
    )
    assert "Traceback" not in result.stderr


def test_a_registry_check_found_nowhere_is_one_error_naming_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flake8 neither beside shipyard's interpreter, nor on PATH, nor pinned by the unit."""
    repo = team_unit(tmp_path, '["flake8"]')
    bare = tmp_path / "bare"  # a PATH with git only
    bare.mkdir()
    (bare / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "elsewhere" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(bare))
    project = load_project(repo)
    with pytest.raises(ShipyardError) as caught:
        ci.lint(project, project.select(["b"]), RunOptions(), fix=False, workflows=False)
    assert str(caught.value) == "services/b: check 'flake8' needs flake8, which is not installed"
    assert "pip install flake8 where shipyard runs" in (caught.value.hint or "")
    assert "pin it in the unit's dev group" in (caught.value.hint or "")


def test_the_pinned_black_is_the_one_that_runs_and_its_version_is_in_the_key(tmp_path: Path) -> None:
    config = '\n[dependency-groups]\ndev = ["pytest", "black==24.4.2"]\n'
    repo = team_unit(tmp_path, '["black"]', config)
    project = load_project(repo)
    (tool,) = unit_tools(project, project.unit("b"))
    assert tool.version == "24.4.2" and tool.pinned
    assert tool.executable == str(repo / ".shipyard/tools/b/black-24.4.2/bin/black")
    first = run_invoke(repo, "lint", "-s", "b")
    assert first.returncode == 0, first.stdout + first.stderr
    assert (repo / ".shipyard/tools/b/black-24.4.2/shipyard-tool.json").is_file()  # the stamp
    done = subprocess.run([tool.executable, "--version"], capture_output=True, text=True)
    assert done.stdout.startswith("black, 24.4.2")
    assert "1 result(s) from the cache" in run_invoke(repo, "lint", "-s", "b").stdout
    job = lint_job(load_project(repo), project.unit("b"), fix=False, inputs=None)
    assert job.action is None  # stamped: nothing to install any more
    write(repo / "services/b/src/b/__init__.py", "def double( x:int )->int:\n    return x*2\n")
    bad = run_invoke(repo, "lint", "-s", "b")
    assert bad.returncode == 1
    assert "black-24.4.2/bin/black --check --diff --quiet .` exited 1" in bad.stdout  # the pinned one ran


def test_a_pin_that_cannot_be_installed_is_the_jobs_error(tmp_path: Path) -> None:
    repo = team_unit(tmp_path, '["black"]', '\n[dependency-groups]\ndev = ["black==0.0.0.999"]\n')
    result = run_invoke(repo, "lint", "-s", "b")
    assert result.returncode == 1
    assert "could not install black==0.0.0.999 (the unit's pin)" in result.stdout
    assert not (repo / ".shipyard/tools/b/black-0.0.0.999/shipyard-tool.json").exists()


def test_the_pins_come_from_groups_extras_poetry_and_dev_requirement_files(tmp_path: Path) -> None:
    unit = tmp_path / "unit"
    write(
        unit / "pyproject.toml",
        """\
        [project]
        name = "u"
        version = "0"
        optional-dependencies = { test = ["Flake8==7.0.0 ; python_version >= '3.8'", "pytest>=8"] }

        [dependency-groups]
        lint = ["black[d]==24.4.2", "isort>=5", {include-group = "lint"}]

        [tool.poetry.group.dev.dependencies]
        mypy = "1.10.0"
        pylint = "^3.2"
        """,
    )
    write(unit / "requirements-dev.txt", "# tools\n-r requirements.txt\nruff==0.6.9  # pinned\n")
    write(unit / "requirements/lint.txt", "isort==5.13.2 \\\n    --hash=sha256:0123\n    # via -r lint.in\n")
    assert tools._pins(unit, tmp_path) == {
        "flake8": "7.0.0",
        "black": "24.4.2",
        "mypy": "1.10.0",
        "ruff": "0.6.9",
        "isort": "5.13.2",
    }


def test_a_tools_version_is_asked_once_per_executable_not_per_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tool only on PATH (no distribution shipyard can read) says its version once per run."""
    project = load_project(make_monorepo(tmp_path / "repo"))
    on_path = Check(name="gitcheck", dist="shipyard-test-not-a-dist", executable="git", check=(("{paths}",),))
    asked: list[list[str]] = []
    real = subprocess.run

    def counting(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        asked.append(argv)
        return real(argv, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(tools.subprocess, "run", counting)
    tools.asked_version.cache_clear()
    versions = {tools.resolve(project, unit, on_path).version for unit in project.units.values()}
    assert len(versions) == 1 and next(iter(versions)).startswith("git version")
    assert len([a for a in asked if a[-1] == "--version"]) == 1


def test_fix_runs_ruff_format_even_when_ruff_check_fix_leaves_findings(tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo")
    # F401 is fixed, F821 is not; x=... is unformatted
    module = write(repo / "services/b/src/b/bad.py", "import os\nx=undefined_name\n")
    fixed = run_invoke(repo, "lint", "--fix", "-s", "b")
    assert fixed.returncode == 1  # F821 is left
    assert "F821" in fixed.stdout
    assert module.read_text() == "x = undefined_name\n"  # formatted all the same


def test_fix_runs_the_fixers_before_the_checks_that_cannot_fix(tmp_path: Path) -> None:
    repo = team_unit(tmp_path, '["flake8", "black"]')
    project = load_project(repo)
    commands = lint_job(project, project.unit("b"), fix=True, inputs=None).commands
    assert [Path(c.argv[0]).name for c in commands] == ["black", "flake8"]


def test_init_finds_every_registered_check_a_units_config_sets_up(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "svc/pyproject.toml", '[project]\nname = "svc"\nversion = "0"\n\n[tool.pylint.main]\njobs = 1\n')
    write(repo / "svc/mypy.ini", "[mypy]\nstrict = True\n")
    write(repo / "svc/setup.cfg", "[flake8]\nmax-line-length = 100\n")
    git(repo, "init", "-q")
    done = subprocess.run(
        (sys.executable, "-m", "shipyard.cli.main", "init", "--dry-run"), cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "svc: Python; checks: flake8, mypy, pylint (the checks line written to its table)" in done.stdout
    assert "would append to svc/pyproject.toml" in done.stdout


def test_every_check_module_is_registered() -> None:
    """One module per check, each in the registry (the command check is not a registry entry; ruff_batch
    is how many units share one ruff run, not a check)."""
    folder = Path(__file__).resolve().parents[2] / "src" / "shipyard" / "checks"
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "base", "command", "tools", "ruff_batch"}
    assert modules == set(CHECKS)
