"""test-services: services of the root compose file, started healthy before a unit's tests and removed after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from shipyard.ci import compose, testing
from shipyard.ci import pipeline as ci
from shipyard.ci.pipeline import RunOptions
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, load_project
from shipyard.run.keys import Inputs
from shipyard.run.results import FAILED, PASSED
from tests.conftest import free_port
from tests.helpers import default_sigint, git, python_unit, write

COMPOSE = """\
services:
  echo:
    image: python:3.11-slim
    command: ["python", "-m", "http.server", "8000"]
    ports: ["127.0.0.1:{port}:8000"]
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000')"]
      interval: 1s
      retries: 60
  broken:
    image: python:3.11-slim
    command: ["python", "-c", "import time; print('broken: cannot open its database'); time.sleep(600)"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
  other:
    image: python:3.11-slim
"""
REACHES_ECHO = """\
import os
import urllib.request


def test_the_service_answers():
    with urllib.request.urlopen(os.environ["ECHO_URL"], timeout=10) as response:
        assert response.status == 200
"""


def _repo(repo: Path, services: str = '["echo"]', port: int = 1) -> Project:
    write(repo / "docker-compose.yml", COMPOSE.format(port=port))
    python_unit(repo, "services/b", "b", extra_table=f"test-services = {services}")
    write(repo / "services" / "b" / "tests" / "test_b.py", REACHES_ECHO)
    write(repo / ".env.test", f"ECHO_URL=http://127.0.0.1:{port}/\n")
    git(repo, "add", "-A")
    return load_project(repo)


def test_unknown_service_names_and_a_missing_compose_file_are_config_errors(repo: Path) -> None:
    project = _repo(repo, '["ecko"]')
    with pytest.raises(ShipyardError) as info:
        compose.definitions(project, project.units["b"])
    assert info.value.message == (
        "services/b/pyproject.toml: test-services: docker-compose.yml has no service 'ecko' (did you mean 'echo'?)"
    )
    assert info.value.hint == "services in docker-compose.yml: broken, echo, other"
    (repo / "docker-compose.yml").unlink()
    with pytest.raises(ShipyardError, match="test-services: no compose file at the repository root"):
        compose.definitions(project, project.units["b"])


def test_the_services_definitions_enter_the_test_key_and_nothing_else_of_the_file(repo: Path) -> None:
    project = _repo(repo)
    key = testing.test_key(project, project.units["b"], "3.11", Inputs.read(project))
    text = (repo / "docker-compose.yml").read_text()
    (repo / "docker-compose.yml").write_text(
        text.replace("  other:\n    image: python:3.11-slim\n", "  other:\n    image: x\n")
    )
    assert testing.test_key(project, project.units["b"], "3.11", Inputs.read(project)) == key
    (repo / "docker-compose.yml").write_text(text.replace("retries: 60", "retries: 61"))
    assert testing.test_key(project, project.units["b"], "3.11", Inputs.read(project)) != key


def test_an_unknown_mode_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compose.MODE_ENV, "extrnal")
    with pytest.raises(ShipyardError, match=r"SHIPYARD_TEST_SERVICES='extrnal': expected one of start, external"):
        compose.mode()


# -- against the Docker engine ----------------------------------------------------------------


@pytest.fixture
def project_name(docker_engine: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """A compose project of this test's own (temporary repos all have the directory name 'repo')."""
    name = f"shipyardts{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", name)
    return name


def _left(name: str) -> list[str]:
    """Containers and networks of compose project ``name`` that still exist."""
    label = f"label=com.docker.compose.project={name}"
    containers = subprocess.run(("docker", "ps", "-aq", "--filter", label), capture_output=True, text=True, check=True)
    networks = subprocess.run(("docker", "network", "ls", "-q", "--filter", label), capture_output=True, text=True)
    return containers.stdout.split() + networks.stdout.split()


def test_a_service_is_started_healthy_reachable_by_the_tests_and_removed_after(
    repo: Path, project_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _repo(repo, port=free_port())
    [result] = ci.test(project, project.select(["b"]), RunOptions())
    out = capsys.readouterr().out
    assert result.status == PASSED, result.output + out
    assert "test services healthy: echo" in out and "removed test services: echo" in out
    assert _left(project_name) == []
    [again] = ci.test(project, project.select(["b"]), RunOptions())
    assert again.cached and "starting test services" not in capsys.readouterr().out  # nothing to run, nothing started


def test_failing_tests_and_an_unhealthy_service_leave_no_container(repo: Path, project_name: str) -> None:
    project = _repo(repo, port=free_port())
    write(repo / "services" / "b" / "tests" / "test_b.py", "def test_fails():\n    assert False\n")
    git(repo, "add", "-A")
    [result] = ci.test(project, project.select(["b"]), RunOptions())
    assert result.status == FAILED
    assert _left(project_name) == []
    project = _repo(repo, '["echo", "broken"]', port=free_port())
    with pytest.raises(ShipyardError) as info:
        ci.test(project, project.select(["b"]), RunOptions())
    assert info.value.message == "test service broken is unhealthy"
    assert "its last log lines are above" in str(info.value.hint)
    assert _left(project_name) == []


def test_a_service_already_running_is_used_and_left_running(repo: Path, project_name: str) -> None:
    project = _repo(repo, port=free_port())
    subprocess.run(("docker-compose", "up", "-d", "echo"), cwd=repo, check=True, capture_output=True)
    try:
        [result] = ci.test(project, project.select(["b"]), RunOptions())
        assert result.status == PASSED, result.output
        assert len(_left(project_name)) == 2  # its container and the network, as they were
    finally:
        subprocess.run(("docker-compose", "down"), cwd=repo, capture_output=True)


def test_external_services_are_not_started(repo: Path, project_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _repo(repo, '["broken"]')  # would fail if started
    write(repo / "services" / "b" / "tests" / "test_b.py", "def test_it():\n    pass\n")
    git(repo, "add", "-A")
    monkeypatch.setenv(compose.MODE_ENV, "external")
    [result] = ci.test(project, project.select(["b"]), RunOptions())
    assert result.status == PASSED and _left(project_name) == []


@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c to the group", "sigterm to shipyard"])
def test_ctrl_c_or_sigterm_during_the_tests_removes_the_services(repo: Path, project_name: str, group: bool) -> None:
    """Ctrl-C reaches the whole process group; a cancelled CI job's SIGTERM may reach shipyard
    alone, which then stops nox and pytest itself (old: SIGTERM killed it, services kept running)."""
    _repo(repo, port=free_port())
    marker = repo / "tests-started"
    waits = (
        f"import pathlib, time\n\ndef test_waits():\n    pathlib.Path({str(marker)!r}).touch()\n    time.sleep(600)\n"
    )
    write(repo / "services" / "b" / "tests" / "test_b.py", waits)
    git(repo, "add", "-A")
    proc = subprocess.Popen(
        (sys.executable, "-m", "invoke", "test", "-s", "b"),
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COMPOSE_PROJECT_NAME": project_name},
        preexec_fn=default_sigint,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "test services healthy" in line:
            break
    for _ in range(1200):  # until the tests run (nox installs the venv first); no timing is asserted
        if marker.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    if group:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group, nox and pytest too
    else:
        os.kill(proc.pid, signal.SIGTERM)
    rest = proc.communicate(timeout=180)[0]
    assert proc.returncode == 130, "".join(seen) + rest
    assert "removed test services: echo" in rest
    assert _left(project_name) == []
