"""shipyard as another repository gets it: a wheel built from this tree, installed in a fresh venv."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import make_monorepo

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", out, ROOT, cwd=ROOT)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("shipyard-*.whl")
    assert list(out.glob("shipyard-*.tar.gz")), "no sdist"
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with nothing but the wheel and its dependencies (and uv, the fast nox backend)."""
    venv = tmp_path_factory.mktemp("venv")
    made = run(sys.executable, "-m", "uv", "venv", "-q", "--python", sys.executable, venv, cwd=venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    done = run(sys.executable, "-m", "uv", "pip", "install", "-q", "--python", python, wheel, "uv", cwd=venv)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def test_the_wheel_holds_the_package_and_nothing_of_this_repository(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "shipyard/cli/main.py" in names and "shipyard/ci/sessions.py" in names
    assert not [n for n in names if n.startswith(("tests/", "services/", "libs/"))]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "shipyard = shipyard.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_console_script_runs_ci_in_a_repository_without_tasks_py(installed: Path, tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo")
    (repo / "tasks.py").unlink()
    subprocess.run(["git", "commit", "-qam", "no tasks.py"], cwd=repo, check=True)
    version = run(installed / "shipyard", "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("shipyard 0."), version.stderr
    result = run(installed / "shipyard", "lint", "test", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    # one summary for lint, one for test: three units each, every one run (not cached, not skipped)
    assert result.stdout.count("3 passed, 0 failed, 0 skipped") == 2, result.stdout
    for unit in ("a", "b", "core"):
        assert f"✓ {unit} test (python 3.11) passed" in result.stdout
    # the tests really ran, from the wheel's own nox and pytest: a failing test fails
    (repo / "services/b/tests/test_b.py").write_text("def test_it():\n    assert False\n")
    failed = run(installed / "shipyard", "test", "-s", "b", cwd=repo)
    assert failed.returncode != 0, failed.stdout
    assert "0 passed, 1 failed" in failed.stdout, failed.stdout


def test_outside_a_monorepo_the_console_script_is_one_clear_error(installed: Path, tmp_path: Path) -> None:
    result = run(installed / "shipyard", "ci", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: no pyproject.toml with a [tool.shipyard] table")
    assert "hint:" in result.stderr and "Traceback" not in result.stderr


def test_importing_shipyards_task_modules_does_no_work(tmp_path: Path) -> None:
    """No discovery at import: an empty directory can import every task module."""
    code = "import shipyard.tasks.core, shipyard.tasks.deploy, shipyard.tasks.common; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=os.environ, check=False
    )
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "ok", "")


def test_the_setup_action_installs_its_own_shipyard_unless_told_otherwise(tmp_path: Path) -> None:
    """The action's install step, run as Actions runs it: bash, with GITHUB_ACTION_PATH set."""
    import yaml

    action_dir = ROOT / ".github" / "actions" / "setup-shipyard"
    action = yaml.safe_load((action_dir / "action.yml").read_text())
    (step,) = [s for s in action["runs"]["steps"] if s.get("name") == "Install shipyard"]
    venv = tmp_path / "venv"
    made = run(sys.executable, "-m", "uv", "venv", "-q", "--seed", "--python", sys.executable, venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "GITHUB_ACTION_PATH": str(action_dir)}
    env["SHIPYARD_INSTALL"] = ""  # the input's default
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    version = run(venv / "bin" / "shipyard", "--version", cwd=tmp_path)
    assert version.stdout.startswith("shipyard 0."), version.stdout + version.stderr
    # installed from the action's own source, not editable into the repository it runs in
    location = run(venv / "bin" / "python", "-c", "import shipyard; print(shipyard.__file__)", cwd=tmp_path)
    assert "site-packages" in location.stdout, location.stdout


def test_a_generated_setup_action_installs_the_pinned_shipyard_version(wheel: Path, tmp_path: Path) -> None:
    """In another repository the action installs shipyard==<the version that generated it>: here
    from a local index holding this tree's wheel (PIP_NO_INDEX + PIP_FIND_LINKS), no dependencies."""
    import yaml

    from shipyard import __version__
    from tests.helpers import make_monorepo

    repo = make_monorepo(tmp_path / "repo")
    assert run(Path(sys.executable).parent / "shipyard", "init", "--github", cwd=repo).returncode == 0
    action_dir = repo / ".github" / "actions" / "setup-shipyard"
    action = yaml.safe_load((action_dir / "action.yml").read_text())
    assert action["inputs"]["shipyard-version"]["default"] == __version__
    (step,) = [s for s in action["runs"]["steps"] if s.get("name") == "Install shipyard"]
    venv = tmp_path / "venv"
    assert (
        run(
            sys.executable, "-m", "uv", "venv", "-q", "--seed", "--python", sys.executable, venv, cwd=tmp_path
        ).returncode
        == 0
    )
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "GITHUB_ACTION_PATH": str(action_dir),
           "SHIPYARD_INSTALL": "", "SHIPYARD_VERSION": __version__, "PIP_NO_INDEX": "1",
           "PIP_FIND_LINKS": str(wheel.parent), "PIP_NO_DEPS": "1"}  # fmt: skip
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"shipyard=={__version__}" in done.stdout + done.stderr or "Successfully installed shipyard" in done.stdout
    shown = run(venv / "bin" / "python", "-m", "pip", "show", "shipyard", cwd=tmp_path)
    assert f"Version: {__version__}" in shown.stdout and "site-packages" in shown.stdout, shown.stdout
    env["SHIPYARD_VERSION"] = "99.0"  # another pin: refused by the index, nothing of the repository installed
    other = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True, timeout=600
    )
    assert other.returncode != 0 and "shipyard==99.0" in other.stdout + other.stderr
