"""Throwaway monorepos of the shapes teams have, each in a new git repository, with no shipyard
configuration at all: the adoption tests run `shipyard init` and then `shipyard ci` on them.

- ``uv_workspace``: a uv workspace (root ``[tool.uv.workspace]``, ``uv.lock``) with a FastAPI
  backend on PostgreSQL (alembic migrations, pytest and coverage in a ``dev`` group) and a
  static frontend (``package.json`` whose ``build`` script writes ``dist/``);
- ``script_services``: services with only a ``requirements.txt`` and their own Dockerfiles
  (``COPY requirements.txt``, ``pip install -r``), one of them without tests;
- ``poetry_service``: a Poetry service (``poetry.lock``) linted with flake8, black and isort
  and type-checked with mypy, configured in its ``setup.cfg`` and ``pyproject.toml``;
- ``go_beside_python``: a Go service with its own Dockerfile beside a Python service.

Containers on this machine have no network, so every Dockerfile's ``pip install`` reads
wheels the builder downloads on the host into the build context (``wheels/``): the
Dockerfile is the one a team writes, with ``--no-index --find-links`` in front.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.helpers import git, write

SHIPYARD = Path(sys.executable).parent / "shipyard"
PYTHON = sys.executable


def run(argv: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=1200,
    )


def shipyard(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console script, as a repository with shipyard installed runs it."""
    return run([SHIPYARD, *args], repo, env)


def commit(repo: Path, message: str = "initial") -> Path:
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.email", "team@example.com")
        git(repo, "config", "user.name", "Team")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return repo


def download_wheels(requirements: Path, dest: Path) -> None:
    """The wheels a Dockerfile's offline ``pip install -r`` needs, fetched on the host."""
    done = run(
        [PYTHON, "-m", "pip", "download", "-q", "--only-binary=:all:", "-r", requirements, "-d", dest],
        requirements.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip download -r {requirements} failed:\n{done.stdout}{done.stderr}")


# -- (b) script services ---------------------------------------------------------------------

SCRIPT_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
COPY wheels/ /wheels/
RUN pip install --no-index --find-links /wheels -r requirements.txt
COPY {script} .
CMD ["python", "{script}"]
"""


def script_service(folder: Path, script: str, code: str, requirements: str, tests: dict[str, str]) -> Path:
    write(folder / "requirements.txt", requirements)
    write(folder / script, code)
    write(folder / "Dockerfile", SCRIPT_DOCKERFILE.format(script=script))
    write(folder / ".dockerignore", "tests/\n__pycache__/\n")
    for name, text in tests.items():
        write(folder / "tests" / name, text)
    download_wheels(folder / "requirements.txt", folder / "wheels")
    return folder


HELLO_TEST = 'from app import greeting\n\n\ndef test_greeting():\n    assert greeting("you") == "hello, you"\n'


def script_services(root: Path) -> Path:
    """services/hello (app.py, tested) and services/cron (job.py, no tests); no pyproject.toml
    anywhere, not even at the root."""
    root.mkdir(parents=True, exist_ok=True)
    write(root / ".gitignore", "__pycache__/\n")
    script_service(
        root / "services" / "hello",
        "app.py",
        'import six\n\n\ndef greeting(name: str) -> str:\n    return six.ensure_str(f"hello, {name}")\n\n\n'
        'if __name__ == "__main__":\n    print(greeting("world"))\n',
        "six==1.17.0\n",
        {"test_app.py": HELLO_TEST},
    )
    script_service(
        root / "services" / "cron",
        "job.py",
        'import six\n\nif __name__ == "__main__":\n    print(six.ensure_str("nightly job done"))\n',
        "six==1.17.0\n",
        {},
    )
    return commit(root)


# -- (d) a Go service beside a Python one ----------------------------------------------------

# The image takes a prebuilt binary (here a stand-in script) instead of compiling in a golang
# image: this machine has neither a golang image nor network; the unit's path is the same.
GO_DOCKERFILE = """\
FROM python:3.11-slim
COPY bin/gateway /usr/local/bin/gateway
CMD ["gateway"]
"""
API_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY src/ /app/
CMD ["python", "-m", "api"]
"""


def python_service(folder: Path, name: str) -> Path:
    """A plain Python package with a [test] extra, a test and its own Dockerfile."""
    write(
        folder / "pyproject.toml",
        f"""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "0.1.0"
        requires-python = ">=3.10"

        [project.optional-dependencies]
        test = ["pytest"]
        """,
    )
    write(folder / "src" / name / "__init__.py", 'def status() -> str:\n    return "ok"\n')
    write(folder / "src" / name / "__main__.py", f"from {name} import status\n\nprint(status())\n")
    write(
        folder / "tests" / f"test_{name}.py",
        f'from {name} import status\n\n\ndef test_status() -> None:\n    assert status() == "ok"\n',
    )
    write(folder / "Dockerfile", API_DOCKERFILE)
    return folder


def go_beside_python(root: Path) -> Path:
    """services/gateway (go.mod, main.go, a Dockerfile) beside services/api (Python)."""
    root.mkdir(parents=True, exist_ok=True)
    write(root / "pyproject.toml", '[project]\nname = "platform"\nversion = "0"\n')
    python_service(root / "services" / "api", "api")
    gateway = root / "services" / "gateway"
    write(gateway / "go.mod", "module example.com/gateway\n\ngo 1.22\n")
    write(gateway / "main.go", 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("gateway up")\n}\n')
    write(gateway / "bin" / "gateway", '#!/bin/sh\necho "gateway up"\n').chmod(0o755)
    write(gateway / "Dockerfile", GO_DOCKERFILE)
    return commit(root)


# -- (c) a Poetry service with flake8, black, isort and mypy ---------------------------------

POETRY_PYPROJECT = """\
[tool.poetry]
name = "orders"
version = "0.1.0"
description = "orders service"
authors = ["Team <team@example.com>"]
packages = [{ include = "orders", from = "src" }]

[tool.poetry.dependencies]
python = "^3.10"
six = "^1.16"

[tool.poetry.group.dev.dependencies]
pytest = "*"

[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"

[tool.black]
line-length = 100

[tool.isort]
profile = "black"
line_length = 100

[tool.mypy]
strict = true
ignore_missing_imports = true
"""
POETRY_SETUP_CFG = """\
[flake8]
max-line-length = 100
extend-ignore = E203
exclude = .venv,build
"""
ORDERS_CODE = '''\
"""Orders: totals of order lines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price: int


def total(lines: list[Line]) -> int:
    return sum(line.quantity * line.unit_price for line in lines)
'''
ORDERS_TEST = """\
from orders import Line, total


def test_total() -> None:
    assert total([Line("a", 2, 150), Line("b", 1, 99)]) == 399
"""


def poetry_service(root: Path, *, lock: Callable[[Path], None] | None = None) -> Path:
    """services/orders: Poetry's [tool.poetry] tables and poetry.lock, flake8 in setup.cfg,
    black/isort/mypy in pyproject.toml; beside it a root pyproject.toml of the team's own.
    ``lock`` writes the poetry.lock (``poetry lock`` by default, which needs poetry)."""
    root.mkdir(parents=True, exist_ok=True)
    write(root / "pyproject.toml", '[project]\nname = "shop"\nversion = "0"\n')
    write(root / ".gitignore", "__pycache__/\n.mypy_cache/\n")
    orders = root / "services" / "orders"
    write(orders / "pyproject.toml", POETRY_PYPROJECT)
    write(orders / "setup.cfg", POETRY_SETUP_CFG)
    write(orders / "src" / "orders" / "__init__.py", ORDERS_CODE)
    write(orders / "src" / "orders" / "py.typed", "")
    write(orders / "tests" / "test_orders.py", ORDERS_TEST)
    (lock or poetry_lock)(orders)
    return commit(root)


def poetry_lock(folder: Path) -> None:
    poetry = shutil.which("poetry") or str(Path(PYTHON).parent / "poetry")
    done = run([poetry, "lock", "--no-interaction"], folder)
    if done.returncode != 0:
        raise RuntimeError(f"poetry lock failed:\n{done.stdout}{done.stderr}")


# -- (a) a uv workspace: FastAPI on PostgreSQL, and a static frontend --------------------------

BACKEND_PYPROJECT = """\
[project]
name = "backend"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["fastapi>=0.110", "sqlalchemy>=2", "psycopg[binary]>=3.1", "alembic>=1.13"]

[dependency-groups]
dev = ["pytest>=8", "coverage>=7", "httpx>=0.27"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["app"]
"""
BACKEND_DB = '''\
"""The database: DATABASE_URL, with SQLAlchemy's psycopg 3 driver."""

import os

from sqlalchemy import Engine, create_engine


def database_url() -> str:
    url = os.environ["DATABASE_URL"]
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def engine() -> Engine:
    return create_engine(database_url())
'''
BACKEND_MAIN = '''\
"""The API."""

from fastapi import FastAPI
from sqlalchemy import text

from app.db import engine

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items")
def items() -> list[dict[str, object]]:
    with engine().connect() as conn:
        rows = conn.execute(text("SELECT id, name FROM items ORDER BY id"))
        return [{"id": row.id, "name": row.name} for row in rows]
'''
ALEMBIC_INI = """\
[alembic]
script_location = migrations

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic

[formatter_generic]
format = %(levelname)s %(message)s
"""
MIGRATIONS_ENV = '''\
"""alembic's environment: the database of DATABASE_URL."""

from alembic import context
from sqlalchemy import create_engine

from app.db import database_url

with create_engine(database_url()).connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
'''
MIGRATION = '''\
"""items

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    items = op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50)),
    )
    op.bulk_insert(items, [{"id": 1, "name": "anchor"}])


def downgrade() -> None:
    op.drop_table("items")
'''
BACKEND_TEST = """\
from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_health() -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_items_come_from_the_migrated_database() -> None:
    assert client.get("/items").json() == [{"id": 1, "name": "anchor"}]
"""
# a team whose CI has no setup step runs its migrations from conftest.py
MIGRATING_CONFTEST = """\
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config


@pytest.fixture(scope="session", autouse=True)
def migrated() -> None:
    command.upgrade(Config(str(Path(__file__).parents[1] / "alembic.ini")), "head")
"""
BACKEND_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY wheels/ /wheels/
COPY pyproject.toml alembic.ini ./
COPY app/ app/
COPY migrations/ migrations/
RUN pip install --no-index --find-links /wheels .
CMD ["python", "-c", "import app.main; print('backend ready')"]
"""
FRONTEND_PACKAGE = """\
{
  "name": "frontend",
  "version": "1.0.0",
  "private": true,
  "scripts": {
    "build": "node build.mjs",
    "test": "node --test tests/"
  }
}
"""
FRONTEND_BUILD = """\
import { cpSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
cpSync("public", "dist", { recursive: true });
console.log("built dist/");
"""
FRONTEND_TEST = """\
import { test } from "node:test";
import assert from "node:assert";
import { readFileSync } from "node:fs";

test("the page loads the app", () => {
  assert.match(readFileSync("public/index.html", "utf8"), /app\\.js/);
});
"""


ROOT_UV_WORKSPACE = '[tool.uv.workspace]\nmembers = ["backend"]\n'


def uv_workspace(root: Path, *, migrate_in_conftest: bool = True) -> Path:
    """A virtual uv workspace root with member ``backend`` and its ``uv.lock``; ``frontend/``
    a static site. ``migrate_in_conftest``: the backend's tests run ``alembic upgrade head``
    themselves; without it the migrations are left to a setup command."""
    root.mkdir(parents=True, exist_ok=True)
    write(root / "pyproject.toml", ROOT_UV_WORKSPACE)
    write(root / ".gitignore", "__pycache__/\n.venv/\nnode_modules/\nfrontend/dist/\n")
    backend = root / "backend"
    write(backend / "pyproject.toml", BACKEND_PYPROJECT)
    write(backend / "app" / "__init__.py", "")
    write(backend / "app" / "db.py", BACKEND_DB)
    write(backend / "app" / "main.py", BACKEND_MAIN)
    write(backend / "alembic.ini", ALEMBIC_INI)
    write(backend / "migrations" / "env.py", MIGRATIONS_ENV)
    write(backend / "migrations" / "versions" / "0001_items.py", MIGRATION)
    write(backend / "tests" / "__init__.py", "")
    write(backend / "tests" / "test_api.py", BACKEND_TEST)
    if migrate_in_conftest:
        write(backend / "tests" / "conftest.py", MIGRATING_CONFTEST)
    write(backend / "Dockerfile", BACKEND_DOCKERFILE)
    write(backend / ".dockerignore", "tests/\n__pycache__/\n")
    frontend = root / "frontend"
    write(frontend / "package.json", FRONTEND_PACKAGE)
    write(frontend / "build.mjs", FRONTEND_BUILD)
    write(frontend / "public" / "index.html", '<!doctype html>\n<title>acme</title>\n<script src="app.js"></script>\n')
    write(frontend / "public" / "app.js", 'document.title = "acme";\n')
    write(frontend / "tests" / "page.test.mjs", FRONTEND_TEST)
    uv_lock(root)
    image_wheels(root, "backend")
    return commit(root)


OLDER_PIN = "idna==3.9"  # a lock made before idna's newest release: the pin, not the newest, is installed


def uv_lock(root: Path) -> None:
    done = run([PYTHON, "-m", "uv", "lock", "--quiet", "--upgrade-package", OLDER_PIN], root)
    if done.returncode != 0:
        raise RuntimeError(f"uv lock failed:\n{done.stdout}{done.stderr}")


def image_wheels(root: Path, member: str) -> None:
    """The wheels of the member's locked runtime dependencies (and its build backend), put in
    its build context as a team's CI would before an offline image build."""
    pins = root / member / "wheels" / "requirements.txt"
    pins.parent.mkdir(parents=True, exist_ok=True)
    exported = run(
        [
            PYTHON,
            "-m",
            "uv",
            "export",
            "--quiet",
            "--package",
            member,
            "--no-dev",
            "--no-emit-workspace",
            "--no-hashes",
        ],
        root,
    )
    if exported.returncode != 0:
        raise RuntimeError(f"uv export failed:\n{exported.stdout}{exported.stderr}")
    pins.write_text(exported.stdout + "hatchling\n", encoding="utf-8")
    download_wheels(pins, pins.parent)
    pins.unlink()


SHAPES: dict[str, Callable[[Path], Path]] = {
    "uv-workspace": uv_workspace,
    "script-services": script_services,
    "poetry": poetry_service,
    "go-beside-python": go_beside_python,
}


# -- running shipyard on a shape -------------------------------------------------------------

GENERATED = ("noxfile.py", "tasks.py")  # code init writes that nobody edits: not configuration


def files_of(repo: Path) -> dict[str, str]:
    return {
        p.relative_to(repo).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo).parts and "wheels" not in p.parts
    }


def config_lines(before: dict[str, str], after: dict[str, str]) -> dict[str, int]:
    """Per file, the lines of configuration init added: new, not blank, not only a comment."""
    counts = {}
    for path, text in after.items():
        old = before.get(path, "")
        if path in GENERATED or text == old:
            continue
        assert text.startswith(old), f"init changed a line of {path}: it only appends"
        added = [line for line in text[len(old) :].splitlines() if line.strip() and not line.lstrip().startswith("#")]
        counts[path] = len(added)
    return counts


def init(repo: Path) -> tuple[str, dict[str, int]]:
    """`shipyard init`, then commit what it wrote (as a team would); returns its output and
    the configuration lines it wrote per file."""
    before = files_of(repo)
    done = shipyard(repo, "init")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = config_lines(before, files_of(repo))
    commit(repo, "shipyard init")
    return done.stdout, lines


def hand_written(repo: Path, rel: str, text: str) -> int:
    """Append configuration a person writes; returns how many lines that is."""
    with (repo / rel).open("a", encoding="utf-8") as f:
        f.write(text)
    commit(repo, f"configure {rel}")
    return len([line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")])


def registry_table(registry: str, prefix: str) -> str:
    """The two lines that name where `--push --env local` pushes (init cannot guess a registry)."""
    return f'\n[tool.shipyard.environments.local]\nregistry = "{registry}/{prefix}"\n'


def ci(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:  # type: ignore[type-arg]
    """`shipyard ci ARGS` with a JSON report; returns the run and {(unit, task): result}."""
    import json

    report = repo.parent / f"{repo.name}-ci.json"
    done = shipyard(repo, "ci", "--report", str(report), *args, env=env)
    rows = json.loads(report.read_text())["results"] if report.is_file() else []
    return done, {(r["unit"], f"{r['task']}-{r['python']}" if r["python"] else r["task"]): r for r in rows}


def statuses(results: dict) -> dict[tuple[str, str], str]:  # type: ignore[type-arg]
    return {key: r["status"] for key, r in results.items()}


def tags(results: dict) -> list[str]:  # type: ignore[type-arg]
    return [t for r in results.values() for t in r["details"].get("tags", []) if "/" not in t.split(":")[0]]


def run_image(image: str) -> str:
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", image], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def documented(shape: str) -> tuple[int, int]:
    """(lines init writes, lines written by hand) for ``shape`` in docs/adopting.md's table of
    worked examples: the tests keep those numbers true."""
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "adopting.md").read_text(encoding="utf-8")
    for row in doc.split("## Worked examples", 1)[1].splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith(f"[{shape}"):
            written, hand = (re.match(r"\d+", c) for c in cells[1:])
            assert written and hand, row
            return int(written.group()), int(hand.group())
    raise AssertionError(f"docs/adopting.md: no worked example for {shape!r}")


def venv_version(repo: Path, unit: str, python: str, dist: str) -> str:
    """The version of ``dist`` in the nox venv of ``unit``'s tests on ``python``."""
    (venv,) = repo.glob(f".nox/tests-*{unit}*{python.replace('.', '-')}")
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    return run([venv / "bin" / "python", "-c", code], repo).stdout.strip()


def locked_version(lock: Path, dist: str) -> str:
    import tomllib

    (version,) = [p["version"] for p in tomllib.loads(lock.read_text())["package"] if p["name"] == dist]
    return str(version)
