"""The hermetic build mode on the real engine: a unit's own base image, FROM images and pip
steps that would need the network named before or after building, hashes enforced, and a
`created` label that is the same for the same inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import git, write

pytestmark = pytest.mark.integration

SIX = "six==1.16.0 --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n"
HERMETIC = """\
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
COPY deps/ /tmp/deps/
RUN pip install --no-index --no-cache-dir --find-links=/tmp/deps -r /tmp/deps/requirements.lock
COPY app/ /tmp/app/
RUN pip install --no-index --no-deps --no-cache-dir /tmp/app/*.whl
CMD ["python", "-c", "import six, app; print(six.__version__, app.VALUE)"]
"""
WHEN = "2026-11-30T12:00:00Z"


def commit(repo: Path, message: str, when: str) -> None:
    git(repo, "add", "-A")
    env = {**os.environ, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when}
    subprocess.run(["git", "commit", "-qm", message], cwd=repo, check=True, env=env)


@pytest.fixture
def hermetic_repo(tmp_path: Path, images_prefix: str, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHIPYARD_WHEEL_CACHE", str(wheel_cache))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    repo = tmp_path / "repo"
    write(
        repo / "pyproject.toml",
        f'[tool.shipyard]\nservices = ["services/*"]\npython = ["3.11"]\n\n'
        f'[tool.shipyard.image]\nlocal-prefix = "{images_prefix}/"\n',
    )
    app = repo / "services" / "app"
    write(
        app / "pyproject.toml",
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "app"\nversion = "0.1.0"\ndependencies = ["six"]\n\n[tool.shipyard]\nkind = "service"\n',
    )
    write(app / "src" / "app" / "__init__.py", "VALUE = 1\n")
    write(app / "requirements.lock", SIX)
    write(app / "Dockerfile", HERMETIC)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "T")
    commit(repo, "initial", WHEN)
    return repo


def shipyard(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "shipyard"
    return subprocess.run([str(exe), *args], cwd=repo, capture_output=True, text=True, timeout=900)


def build(repo: Path, *args: str) -> dict[str, object]:
    report = repo.parent / "build.json"
    done = shipyard(repo, "build", "-s", "app", "--report", str(report), *args)
    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = json.loads(report.read_text())["results"]
    return dict(row["details"])


def inspect(image: str) -> dict[str, object]:
    done = subprocess.run(["docker", "image", "inspect", image], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout)[0])


def test_created_is_the_commit_time_of_the_units_last_change(hermetic_repo: Path) -> None:
    image = str(build(hermetic_repo)["tags"][0])  # type: ignore[index]
    labels = inspect(image)["Config"]["Labels"]  # type: ignore[index]
    assert labels["org.opencontainers.image.created"] == WHEN
    out = subprocess.run(["docker", "run", "--rm", "--network", "none", image], capture_output=True, text=True)
    assert out.stdout == "1.16.0 1\n", out.stderr  # six from the hashed lock, the app from its wheel
    # a later commit elsewhere, then the same inputs built again from scratch: the same label
    write(hermetic_repo / "README.md", "docs\n")
    commit(hermetic_repo, "docs", "2026-12-01T08:00:00Z")
    again = str(build(hermetic_repo, "--force", "--no-cache")["tags"][0])  # type: ignore[index]
    assert inspect(again)["Config"]["Labels"]["org.opencontainers.image.created"] == WHEN  # type: ignore[index]


def test_source_date_epoch_sets_created(hermetic_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764669600")
    image = str(build(hermetic_repo, "--force")["tags"][0])  # type: ignore[index]
    assert inspect(image)["Config"]["Labels"]["org.opencontainers.image.created"] == "2025-12-02T10:00:00Z"  # type: ignore[index]


def test_a_units_own_base_image_is_used_and_checked_against_its_python(hermetic_repo: Path) -> None:
    root = hermetic_repo / "pyproject.toml"
    root.write_text(root.read_text() + 'base-image = "nowhere.invalid/python:9"\n')  # the root's: not used
    table = hermetic_repo / "services" / "app" / "pyproject.toml"
    table.write_text(table.read_text() + 'base-image = "python:3.11-slim"\n')
    commit(hermetic_repo, "own base image", WHEN)
    assert build(hermetic_repo)["tags"]
    table.write_text(table.read_text() + 'python = "3.12"\n')
    done = shipyard(hermetic_repo, "build", "-s", "app")
    out = done.stdout + done.stderr
    assert done.returncode == 1
    assert "app: base image python:3.11-slim has Python 3.11" in out and "the unit's python is 3.12" in out
    assert "Traceback" not in out
    # the image's Python must also be one the unit's requires-python admits
    table.write_text(
        table.read_text()
        .replace('python = "3.12"\n', "")
        .replace('version = "0.1.0"', 'version = "0.1.0"\nrequires-python = ">=3.12"')
    )
    done = shipyard(hermetic_repo, "build", "-s", "app")
    assert done.returncode == 1
    assert "which the unit's requires-python '>=3.12' excludes" in done.stdout + done.stderr


def test_a_from_image_that_is_not_here_is_named_before_building(hermetic_repo: Path) -> None:
    dockerfile = hermetic_repo / "services" / "app" / "Dockerfile"
    dockerfile.write_text("FROM busybox:0.0-missing AS tools\n" + HERMETIC)
    done = shipyard(hermetic_repo, "build", "-s", "app")
    out = done.stdout + done.stderr
    assert done.returncode == 1
    assert "FROM busybox:0.0-missing is not on this Docker engine, and a hermetic build cannot pull it" in out
    assert "docker pull busybox:0.0-missing" in out


def test_a_step_that_needs_the_network_names_the_missing_wheel(hermetic_repo: Path) -> None:
    dockerfile = hermetic_repo / "services" / "app" / "Dockerfile"
    dockerfile.write_text(HERMETIC + "RUN pip install --no-index --find-links=/tmp/deps requests\n")
    done = shipyard(hermetic_repo, "build", "-s", "app")
    out = done.stdout + done.stderr
    assert done.returncode == 1
    assert "requests is not among the wheels in deps/: a hermetic build runs with --network none" in out


def test_a_hash_that_does_not_match_fails_the_download_clearly(hermetic_repo: Path) -> None:
    lock = hermetic_repo / "services" / "app" / "requirements.lock"
    lock.write_text(SIX.replace("8abb2f1d", "0000000d"))
    done = shipyard(hermetic_repo, "build", "-s", "app")
    out = done.stdout + done.stderr
    assert done.returncode == 1
    assert "a --hash in requirements.lock does not match the wheel the index serves" in out
