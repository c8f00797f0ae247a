"""`shipyard init` on a repository of another shape: it writes only what is missing, once."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import git, write

SHIPYARD = Path(sys.executable).parent / "shipyard"


def shipyard(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SHIPYARD), *args], cwd=repo, capture_output=True, text=True, timeout=600)


def python_package(folder: Path, name: str, extra: str = "") -> None:
    write(
        folder / "pyproject.toml",
        f'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n[project.optional-dependencies]\ntest = ["pytest"]\n{extra}',
    )
    write(folder / "src" / name.replace("-", "_") / "__init__.py", "VALUE = 1\n")
    write(folder / "tests" / "test_it.py", "def test_it() -> None:\n    assert True\n")


@pytest.fixture
def team_repo(tmp_path: Path) -> Path:
    """A layout of its own: backend/ at the root, services/*, libs/*, a frontend, a script."""
    repo = tmp_path / "repo"
    write(repo / "pyproject.toml", '[project]\nname = "monorepo"\nversion = "0"\n')
    write(repo / ".gitignore", "*.pyc\n.nox\n")
    python_package(repo / "backend", "backend", "\n[tool.black]\nline-length = 100\n")
    write(repo / "backend" / "Dockerfile", "FROM python:3.11-slim\nCOPY . /app\n")
    python_package(repo / "services" / "api", "api")
    write(repo / "services" / "gateway" / "Dockerfile", 'FROM python:3.11-slim\nCMD ["true"]\n')
    write(repo / "services" / "gateway" / "main.go", "package main\n")
    python_package(repo / "libs" / "common", "common")
    write(repo / "frontend" / "package.json", "{}\n")
    write(repo / "scripts" / "cron" / "requirements.txt", "requests\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "T")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def snapshot(repo: Path) -> dict[str, str]:
    return {
        p.relative_to(repo).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


def test_init_sets_up_the_repository_and_ci_runs(team_repo: Path) -> None:
    before = snapshot(team_repo)
    result = shipyard(team_repo, "init")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "backend: Python; checks: black (the checks line written to its table)" in out
    assert "image: Dockerfile, built as docker build" in out
    assert "services/gateway: non-Python service: shipyard.toml written" in out
    assert "frontend: skipped: a package.json only" in out
    assert "scripts/cron: Python script service (tested from its directory); checks: ruff; tests: none found" in out
    assert "dependencies: requirements.txt" in out
    root = (team_repo / "pyproject.toml").read_text()
    assert root.startswith('[project]\nname = "monorepo"\nversion = "0"\n')  # kept, appended to
    assert 'services = ["backend", "frontend", "scripts/*", "services/*"]' in root
    assert 'libs = ["libs/*"]' in root
    assert (team_repo / ".gitignore").read_text() == "*.pyc\n.nox\n.shipyard/\n"  # `.nox` was there
    after = snapshot(team_repo)
    changed = {p for p in after if before.get(p) != after[p]}
    written = {"pyproject.toml", ".gitignore", "noxfile.py", "tasks.py", "services/gateway/shipyard.toml"}
    assert changed == {*written, "backend/pyproject.toml"}  # backend: the checks its config sets up
    assert (team_repo / "backend" / "pyproject.toml").read_text().endswith('\n[tool.shipyard]\nchecks = ["black"]\n')

    listed = shipyard(team_repo, "services", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["path"]: row for row in json.loads(listed.stdout)}
    units = {path: row["kind"] for path, row in rows.items() if not row["skipped"]}
    assert units == {
        "backend": "service",
        "services/api": "service",
        "services/gateway": "service",
        "libs/common": "lib",
        "scripts/cron": "service",
    }
    assert {path for path, row in rows.items() if row["skipped"]} == {"frontend"}
    lint = shipyard(team_repo, "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "4 passed, 0 failed, 1 skipped" in lint.stdout, lint.stdout  # gateway: nothing to lint
    assert "gateway lint skipped: nothing to lint" in lint.stdout


def test_a_second_init_writes_nothing_and_dry_run_writes_nothing(team_repo: Path) -> None:
    dry = shipyard(team_repo, "init", "--dry-run")
    assert dry.returncode == 0 and "would write noxfile.py" in dry.stdout, dry.stdout
    before = snapshot(team_repo)
    assert snapshot(team_repo) == before
    assert shipyard(team_repo, "init").returncode == 0
    written = snapshot(team_repo)
    again = shipyard(team_repo, "init")
    assert again.returncode == 0
    assert "nothing to write: already set up" in again.stdout
    assert snapshot(team_repo) == written


def test_init_outside_a_git_repository_is_one_clear_error(tmp_path: Path) -> None:
    result = shipyard(tmp_path, "init")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {tmp_path} is not inside a git repository")
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_package_json_with_a_build_script_is_a_static_site(team_repo: Path) -> None:
    package = '{"scripts": {"build": "node build.mjs", "test": "node --test tests/"}}\n'
    write(team_repo / "frontend" / "package.json", package)
    write(team_repo / "frontend" / "build.mjs", 'import { mkdirSync } from "node:fs";\nmkdirSync("dist");\n')
    write(
        team_repo / "docs-site" / "package.json",
        '{"scripts": {"build": "react-scripts build", "test": "echo \\"Error: no test specified\\" && exit 1"}}\n',
    )
    result = shipyard(team_repo, "init")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "frontend: static site: shipyard.toml written; build: npm run build -> dist/; tests: npm test" in result.stdout
    )
    assert (team_repo / "frontend" / "shipyard.toml").read_text() == (
        'kind = "static"  # written by shipyard init from package.json\'s scripts\n'
        'build = ["npm", "run", "build"]\ntest = ["npm", "test"]\n'
    )
    assert 'output = "build"\n' in (team_repo / "docs-site" / "shipyard.toml").read_text()
    assert "test =" not in (team_repo / "docs-site" / "shipyard.toml").read_text()  # npm init's placeholder
    listed = json.loads(shipyard(team_repo, "services", "--json").stdout)
    assert {row["path"]: row["kind"] for row in listed if not row["skipped"]}["frontend"] == "static"
