"""Adoption: throwaway monorepos of four shapes, `shipyard init` and then `shipyard ci`, with
no configuration written by hand except the registry that `--push` pushes to.

Each test asserts what init said and wrote (the line counts docs/adopting.md quotes), then
that lint, test and build ran for real on every unit: passed, not skipped or empty.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.adoption import shapes
from tests.conftest import require
from tests.helpers import write

pytestmark = pytest.mark.integration

MAX_CONFIG_LINES = 15  # the bar: fewer than 15 lines of configuration in all


def require_poetry() -> None:
    require(shutil.which("poetry") is not None or (Path(sys.executable).parent / "poetry").is_file(), "poetry")


def test_a_go_service_beside_a_python_one_is_built_and_pushed(
    tmp_path: Path, images_prefix: str, registry: str, built_tags: list[str]
) -> None:
    repo = shapes.go_beside_python(tmp_path / "repo")
    out, lines = shapes.init(repo)
    assert "services/api: Python; checks: ruff; tests: pytest" in out
    assert "services/gateway: non-Python service: shipyard.toml written" in out
    assert "image: Dockerfile, built as docker build" in out
    assert lines == {"pyproject.toml": 3, "services/gateway/shipyard.toml": 1, ".gitignore": 2}
    hand = shapes.hand_written(repo, "pyproject.toml", shapes.registry_table(registry, images_prefix))
    assert shapes.documented("Go service") == (sum(lines.values()), hand)
    assert sum(lines.values()) + hand < MAX_CONFIG_LINES

    done, results = shapes.ci(repo, "--push", "--env", "local")
    built_tags += shapes.tags(results)
    assert done.returncode == 0, done.stdout + done.stderr
    got = shapes.statuses(results)
    assert got.pop(("gateway", "lint")) == "skipped"  # a container-only unit names no lint command
    assert got.pop(("gateway", "test")) == "skipped"
    assert set(got.values()) == {"passed"}, got
    assert {task for unit, task in got if unit == "api"} >= {"lint", "test-3.11", "push"}
    for unit in ("api", "gateway"):
        assert f"{registry}/{images_prefix}/{unit}@sha256:" in results[(unit, "push")]["reason"]

    # a container-only unit that names commands is linted and tested with them
    shapes.hand_written(
        repo,
        "services/gateway/shipyard.toml",
        'lint = ["grep", "-q", "package main", "main.go"]\ntest = ["bin/gateway"]\n',
    )
    done, results = shapes.ci(repo, "-s", "gateway", "--no-images")
    assert done.returncode == 0, done.stdout + done.stderr
    assert shapes.statuses(results) == {("gateway", "lint"): "passed", ("gateway", "test"): "passed"}
    assert "gateway up" in results[("gateway", "test")]["output"]


def test_a_uv_workspace_with_a_fastapi_backend_on_postgres_and_a_static_frontend(
    tmp_path: Path, fresh_database: str, docker_engine: None, built_tags: list[str]
) -> None:
    repo = shapes.uv_workspace(tmp_path / "repo")
    out, lines = shapes.init(repo)
    assert "backend: Python; checks: ruff; tests: pytest; dependencies: uv.lock (workspace) via uv export" in out
    assert "image: Dockerfile, built as docker build" in out  # its COPY app/ is its own package
    assert "frontend: static site: shipyard.toml written; build: npm run build -> dist/; tests: npm test" in out
    assert lines == {"pyproject.toml": 3, "frontend/shipyard.toml": 3, ".gitignore": 2}
    assert shapes.documented("uv workspace") == (sum(lines.values()), 0)
    assert sum(lines.values()) < MAX_CONFIG_LINES

    # one Python: every session of the matrix would migrate the one test database at once
    done, results = shapes.ci(repo, "--python", "3.11", env={"DATABASE_URL": fresh_database})
    built_tags += shapes.tags(results)
    assert done.returncode == 0, done.stdout + done.stderr
    got = shapes.statuses(results)
    assert got.pop(("frontend", "lint")) == "skipped"  # names no lint command
    assert got == {
        ("backend", "lint"): "passed",
        ("backend", "test-3.11"): "passed",
        ("backend", "build"): "passed",
        ("frontend", "test"): "passed",
        ("frontend", "build"): "passed",
    }
    assert "2 passed" in results[("backend", "test-3.11")]["output"]  # against the migrated database
    assert shapes.venv_version(repo, "backend", "3.11", "idna") == shapes.locked_version(repo / "uv.lock", "idna")
    assert (repo / "frontend" / "dist" / "index.html").is_file()
    image = results[("backend", "build")]["details"]["tags"][0]
    assert shapes.run_image(image) == "backend ready\n"  # FastAPI, SQLAlchemy, alembic from the context's wheels


def test_script_services_with_requirements_txt_and_their_own_dockerfiles(
    tmp_path: Path, docker_engine: None, built_tags: list[str]
) -> None:
    repo = shapes.script_services(tmp_path / "repo")
    out, lines = shapes.init(repo)
    for unit in ("services/hello", "services/cron"):
        assert f"{unit}: Python script service (tested from its directory); checks: ruff;" in out, out
    assert "dependencies: requirements.txt" in out
    assert "image: Dockerfile, built as docker build" in out
    assert lines == {"pyproject.toml": 3, ".gitignore": 2}  # no shipyard.toml: they are Python units
    assert shapes.documented("script services") == (sum(lines.values()), 0)
    assert sum(lines.values()) < MAX_CONFIG_LINES

    done, results = shapes.ci(repo)
    built_tags += shapes.tags(results)
    assert done.returncode == 0, done.stdout + done.stderr
    got = shapes.statuses(results)
    tests = {key: status for key, status in got.items() if key[1].startswith("test")}
    assert tests and set(tests.values()) == {"skipped", "passed"}
    assert {status for (unit, _), status in tests.items() if unit == "hello"} == {"passed"}  # app.py on sys.path
    assert {(status, results[key]["reason"]) for key, status in tests.items() if key[0] == "cron"} == {
        ("skipped", "no tests")
    }
    assert {got[(unit, task)] for unit in ("hello", "cron") for task in ("lint", "build")} == {"passed"}
    assert shapes.run_image(results[("hello", "build")]["details"]["tags"][0]) == "hello, world\n"
    assert shapes.run_image(results[("cron", "build")]["details"]["tags"][0]) == "nightly job done\n"


def test_a_poetry_service_linted_with_flake8_black_isort_and_mypy(tmp_path: Path) -> None:
    require_poetry()
    repo = shapes.poetry_service(tmp_path / "repo")
    out, lines = shapes.init(repo)
    assert "services/orders: Python; checks: flake8, black, isort, mypy (the checks line written" in out, out
    assert "dependencies: poetry.lock" in out
    # init writes the checks line that runs the tools the unit's config sets up: nothing by hand
    table = (repo / "services/orders/pyproject.toml").read_text()
    assert table.endswith('\n[tool.shipyard]\nchecks = ["flake8", "black", "isort", "mypy"]\n')
    assert shapes.documented("Poetry service") == (sum(lines.values()), 0)
    assert sum(lines.values()) < MAX_CONFIG_LINES

    done, results = shapes.ci(repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(shapes.statuses(results).values()) == {"passed"}
    ran = results[("orders", "lint")]["output"]
    for tool in ("flake8", "black --check", "isort --check-only", "mypy"):
        assert tool in ran, ran
    assert "ruff" not in ran  # the team's tools instead of shipyard's default

    # the team's mypy configuration (strict) is what runs: an untyped function fails lint
    write(repo / "services/orders/src/orders/extra.py", "def untyped(x):\n    return x\n")
    done, results = shapes.ci(repo, "-s", "orders")
    assert done.returncode == 1
    assert "Function is missing a type annotation" in results[("orders", "lint")]["output"]


def test_the_uv_workspaces_migrations_as_a_test_setup_command(
    tmp_path: Path, fresh_database: str, docker_engine: None
) -> None:
    """The same backend without a migrating conftest.py: `alembic upgrade head` runs before its
    tests as a test-setup command, two lines written by hand."""
    repo = shapes.uv_workspace(tmp_path / "repo", migrate_in_conftest=False)
    _, lines = shapes.init(repo)
    hand = shapes.hand_written(
        repo, "backend/pyproject.toml", '\n[tool.shipyard]\ntest-setup = ["alembic upgrade head"]\n'
    )
    assert hand == 2 and sum(lines.values()) + hand < MAX_CONFIG_LINES
    done, results = shapes.ci(repo, "--python", "3.11", "--no-images", env={"DATABASE_URL": fresh_database})
    assert done.returncode == 0, done.stdout + done.stderr
    assert results[("backend", "test-3.11")]["status"] == "passed"
    assert "2 passed" in results[("backend", "test-3.11")]["output"]


def test_a_uv_workspace_with_constraint_dependencies(tmp_path: Path, fresh_database: str) -> None:
    repo = shapes.uv_workspace(tmp_path / "repo")
    write(repo / "pyproject.toml", shapes.ROOT_UV_WORKSPACE + '\n[tool.uv]\nconstraint-dependencies = ["idna<3.10"]\n')
    shapes.uv_lock(repo)
    shapes.commit(repo, "constrain idna")
    shapes.init(repo)
    done, results = shapes.ci(repo, "--python", "3.11", "--no-images", env={"DATABASE_URL": fresh_database})
    assert done.returncode == 0, done.stdout + done.stderr
    assert results[("backend", "test-3.11")]["status"] == "passed"


def test_hashed_pins_install_without_the_uv_settings_but_from_their_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from shipyard.ci import sessions

    write(
        tmp_path / "pyproject.toml",
        '[tool.uv]\nindex-url = "https://pypi.example/simple"\nextra-index-url = ["https://extra.example/simple"]\n'
        'constraint-dependencies = ["idna<3.10"]\n'
        '[[tool.uv.index]]\nname = "team"\nurl = "https://team.example/simple"\n',
    )
    monkeypatch.setattr(sessions, "venv_backend", lambda: "uv")
    assert sessions._uv_pins_only(SimpleNamespace(root=tmp_path)) == [
        "--no-config",
        "--default-index",
        "https://pypi.example/simple",
        "--index",
        "https://extra.example/simple",
        "--index",
        "https://team.example/simple",
    ]
