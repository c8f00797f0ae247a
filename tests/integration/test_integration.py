"""``invoke integration``: a compose stack of the example system's shape (api + worker +
PostgreSQL) run from images built here, its tests, the logs of a failure, teardown and the cache.

No image can be pulled, and there is no postgres image: the session builds one from the local
python:3.11-slim and Debian's PostgreSQL 15 packages, fetched on the host with `apt-get download`
(containers have no route out) and unpacked in the Dockerfile.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.core.errors import ConfigError
from shipyard.core.fingerprint import tracked_files
from shipyard.core.project import load_project
from shipyard.integration import plan as integration_plan
from tests.conftest import require
from tests.helpers import ROOT_PYPROJECT, default_sigint, git, run_invoke, write

pytestmark = pytest.mark.integration

# postgres and what its binaries link that python:3.11-slim lacks (llvm JIT left out: not loaded)
PG_PACKAGES = ("postgresql-15", "postgresql-client-15", "libpq5", "libicu72", "libxml2", "libldap-2.5-0")
PG_PACKAGES += ("libsasl2-2", "libsasl2-modules-db")
PG_DOCKERFILE = """\
FROM python:3.11-slim
COPY debs/ /tmp/debs/
RUN for deb in /tmp/debs/*.deb; do dpkg-deb -x "$deb" /; done \\
 && rm -rf /tmp/debs /usr/share/doc /usr/share/locale /usr/lib/postgresql/15/lib/llvmjit* \\
 && rm -rf /usr/lib/postgresql/15/lib/bitcode \\
 && useradd --system --home /var/lib/postgresql postgres \\
 && mkdir -p /var/lib/postgresql /run/postgresql && chown postgres /var/lib/postgresql /run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
CMD initdb --auth=trust --username=postgres >/dev/null && echo "host all all all trust" >> "$PGDATA/pg_hba.conf" \\
 && exec postgres -c listen_addresses='*'
"""

API = """\
import http.server
import signal
import socket
import sys

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 has no default SIGTERM action


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            try:
                socket.create_connection(("postgres", 5432), timeout=2).close()  # the database answers
            except OSError as exc:
                return self.reply(503, f"no database: {exc}")
            return self.reply(200, "ok")
        print(f"api: ERROR no route {self.path}", file=sys.stderr, flush=True)
        self.reply(500, "no such route")

    def reply(self, status, text):
        self.send_response(status)
        self.end_headers()
        self.wfile.write(text.encode())


print("api: listening on port 8000", flush=True)
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
"""
WORKER = """\
import signal
import sys
import time
import urllib.request

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

while True:
    with urllib.request.urlopen("http://api:8000/health", timeout=5) as response:
        print("worker: api says", response.read().decode(), flush=True)
    time.sleep(2)
"""
DOCKERFILE = 'FROM python:3.11-slim\nCOPY {name}.py /app/\nCMD ["python", "-u", "/app/{name}.py"]\n'
COMPOSE = """\
services:
  postgres:
    image: {pg}
    healthcheck:
      test: ["CMD", "pg_isready", "--host", "127.0.0.1", "--username", "postgres"]
      interval: 1s
      retries: 120
  api:
    build: ./services/api
    environment:
      GREETING: hello
    depends_on:
      postgres:
        condition: service_healthy
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
      interval: 1s
      retries: 120
  worker:
    build:
      context: services/worker
    depends_on:
      api:
        condition: service_healthy
  test:
    image: {pg}
    volumes:
      - ./tests/integration:/tests:ro
    command: ["sh", "/tests/run.sh"]
    depends_on:
      api:
        condition: service_healthy
"""
RUN_SH = """\
set -e
export PGHOST=postgres PGUSER=postgres
psql -v ON_ERROR_STOP=1 -c "CREATE TABLE jobs (id int); INSERT INTO jobs VALUES (1);"
test "$(psql -Atc 'SELECT count(*) FROM jobs')" = 1
python /tests/check.py
"""
CHECK = """\
import urllib.request

with urllib.request.urlopen("http://api:8000{path}", timeout=10) as response:
    assert response.read() == b"ok"
print("integration tests passed")
"""
SETTINGS = '\n[tool.shipyard.integration]\nservice = "test"\n'


@pytest.fixture(scope="session")
def debs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Debian's PostgreSQL 15 packages, downloaded once per session on the host."""
    require(shutil.which("apt-get") is not None, "apt-get (Debian's PostgreSQL packages)")
    folder = tmp_path_factory.mktemp("debs")
    done = subprocess.run(("apt-get", "download", *PG_PACKAGES), cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


@pytest.fixture(scope="session")
def postgres_image(docker_engine: None, debs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL 15 image built from the local base image, once per session, removed after."""
    context = tmp_path_factory.mktemp("pg")
    shutil.copytree(debs, context / "debs")
    write(context / "Dockerfile", PG_DOCKERFILE)
    tag = f"shipyard-it-postgres:{uuid.uuid4().hex[:10]}"
    done = subprocess.run(("docker", "build", "-q", "-t", tag, str(context)), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    yield tag
    subprocess.run(("docker", "rmi", "--force", tag), capture_output=True)


@pytest.fixture
def stack_repo(tmp_path: Path, postgres_image: str) -> Iterator[Path]:
    """A throwaway repository: services api and worker (their own Dockerfiles), the stack's compose
    file and its integration tests; its images have a prefix of their own, removed after."""
    repo, prefix = tmp_path / "repo", f"shipyardit{uuid.uuid4().hex[:8]}/"
    write(repo / "pyproject.toml", ROOT_PYPROJECT + f'\n[tool.shipyard.image]\nlocal-prefix = "{prefix}"\n' + SETTINGS)
    write(repo / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    write(repo / ".gitignore", ".shipyard/\n")
    for name, source in (("api", API), ("worker", WORKER)):
        write(repo / "services" / name / "shipyard.toml", 'kind = "service"\nbuild-mode = "dockerfile"\n')
        write(repo / "services" / name / f"{name}.py", source)
        write(repo / "services" / name / "Dockerfile", DOCKERFILE.format(name=name))
    write(repo / "docker-compose.yml", COMPOSE.format(pg=postgres_image))
    write(repo / "tests" / "integration" / "run.sh", RUN_SH)
    write(repo / "tests" / "integration" / "check.py", CHECK.format(path="/health"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-qm", "stack")
    yield repo
    images = subprocess.run(("docker", "images", "-q", f"{prefix}*"), capture_output=True, text=True).stdout.split()
    if images:
        subprocess.run(("docker", "rmi", "--force", *set(images)), capture_output=True)


def _project_of(output: str) -> str:
    found = re.search(r"integration: compose project (\S+)", output)
    assert found, output
    return found.group(1)


def _left(name: str) -> list[str]:
    """What of compose project ``name`` still exists: containers, networks, volumes, images compose built."""
    label = f"label=com.docker.compose.project={name}"
    found = []
    for listing in (("ps", "-aq"), ("network", "ls", "-q"), ("volume", "ls", "-q")):
        done = subprocess.run(("docker", *listing, "--filter", label), capture_output=True, text=True, check=True)
        found += done.stdout.split()
    for pattern in (f"{name}_*", f"{name}-*"):  # what docker-compose v1 / the plugin would name a build
        built = subprocess.run(("docker", "images", "-q", pattern), capture_output=True, text=True, check=True)
        found += built.stdout.split()
    return found


def test_the_stack_passes_is_removed_is_cached_and_a_compose_change_runs_it_again(stack_repo: Path) -> None:
    first = run_invoke(stack_repo, "integration")
    out = first.stdout + first.stderr
    assert first.returncode == 0, out
    assert "integration: images of api, worker" in out
    assert "integration: healthy: api, postgres, worker" in out
    name = _project_of(out)
    assert f"integration: removed compose project {name}" in out
    assert _left(name) == []  # and compose built no image of its own: shipyard's ran
    summary, report = stack_repo.parent / "summary.md", stack_repo.parent / "report.json"
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": os.devnull}
    again = run_invoke(stack_repo, "integration", "--report", str(report), env=actions)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "integration: cached" in again.stdout and "starting" not in again.stdout
    assert "passed (cached)" in again.stdout
    assert "| stack | integration | ✅ passed (cached) |" in summary.read_text()
    assert json.loads(report.read_text())["results"][0]["status"] == "passed"
    compose_file = stack_repo / "docker-compose.yml"
    compose_file.write_text(compose_file.read_text().replace("GREETING: hello", "GREETING: bonjour"))
    changed = run_invoke(stack_repo, "integration")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "cached" not in changed.stdout and "integration: starting api, postgres, worker" in changed.stdout
    assert _left(_project_of(changed.stdout)) == []


def test_a_failing_test_shows_its_output_and_the_services_logs_and_exits_1(stack_repo: Path) -> None:
    write(stack_repo / "tests" / "integration" / "check.py", CHECK.format(path="/jobs"))
    done = run_invoke(stack_repo, "integration")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "HTTP Error 500" in out  # the test's own output
    assert "── api (running, healthy): its last 40 log lines ──" in out
    assert "api: ERROR no route /jobs" in out  # the api's log
    assert "worker: api says ok" in out  # every running service's
    assert "the tests failed: `" in out and "failed" in done.stdout
    assert _left(_project_of(out)) == []
    again = run_invoke(stack_repo, "integration")
    assert again.returncode == 1 and "cached" not in again.stdout  # a failure is never cached


def test_an_unhealthy_service_fails_the_run_with_its_logs(stack_repo: Path) -> None:
    compose_file = stack_repo / "docker-compose.yml"
    broken = compose_file.read_text().replace("urlopen('http://127.0.0.1:8000/health')", "urlopen('http://x:1/')")
    compose_file.write_text(broken.replace("retries: 120\n  worker", "retries: 2\n  worker"))
    done = run_invoke(stack_repo, "integration")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "service api is unhealthy" in out and "── api (running, unhealthy): its last 40 log lines ──" in out
    assert "api: listening on port 8000" in out  # the api's log: it runs, its healthcheck asks the wrong host
    assert _left(_project_of(out)) == []


def _interrupt_when(repo: Path, ready: str, wait_for_oneoff: bool, *, sigterm: bool = False) -> tuple[int, str, str]:
    """Start `invoke integration`, send SIGINT to its process group (as Ctrl-C does) once ``ready``
    is printed (and, with ``wait_for_oneoff``, the tests' container exists); with ``sigterm``,
    SIGTERM to the invoke process alone (a cancelled CI job's runner)."""
    proc = subprocess.Popen(
        (sys.executable, "-m", "invoke", "integration", "--verbose"),
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_sigint,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if ready in line:
            break
    name = _project_of("".join(seen))
    oneoff = ("docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={name}")
    for _ in range(600):  # until the tests' container runs; no timing is asserted
        if (
            not wait_for_oneoff
            or subprocess.run(
                (*oneoff, "--filter", "label=com.docker.compose.oneoff=True"), capture_output=True, text=True
            ).stdout.strip()
        ):
            break
        time.sleep(0.1)
    if sigterm:
        os.kill(proc.pid, signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGINT)
    rest = proc.communicate(timeout=300)[0]
    return proc.returncode, name, "".join(seen) + rest


def test_ctrl_c_during_the_tests_leaves_nothing_of_the_project(stack_repo: Path) -> None:
    write(stack_repo / "tests" / "integration" / "run.sh", "echo tests started\nsleep 600\n")
    code, name, out = _interrupt_when(stack_repo, "integration: running the tests", wait_for_oneoff=True)
    assert code == 130, out
    assert f"integration: removed compose project {name}" in out
    assert _left(name) == []


def test_sigterm_during_the_tests_leaves_nothing_of_the_project(stack_repo: Path) -> None:
    write(stack_repo / "tests" / "integration" / "run.sh", "echo tests started\nsleep 600\n")
    code, name, out = _interrupt_when(stack_repo, "integration: running the tests", True, sigterm=True)
    assert code == 130, out
    assert f"integration: removed compose project {name}" in out
    assert _left(name) == []


def test_ctrl_c_while_waiting_for_health_leaves_nothing_of_the_project(stack_repo: Path) -> None:
    compose_file = stack_repo / "docker-compose.yml"
    never = compose_file.read_text().replace('"pg_isready", "--host"', '"false", "--host"')
    compose_file.write_text(never)
    code, name, out = _interrupt_when(stack_repo, "integration: starting", wait_for_oneoff=False)
    assert code == 130, out
    assert _left(name) == []


def test_a_host_command_reaches_the_stack_through_the_compose_environment(stack_repo: Path) -> None:
    from shipyard.ci import compose

    argv = [*compose.cli(), "exec", "-T", "postgres", "psql", "--username", "postgres", "-Atc", "SELECT 6 * 7"]
    check = f"import subprocess; assert subprocess.run({argv!r}, capture_output=True, text=True).stdout.strip() == '42'"
    settings = f'\n[tool.shipyard.integration]\ncommand = ["python", "-c", "{check}"]\nservices = ["worker"]\n'
    pyproject = stack_repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(SETTINGS, settings))
    done = run_invoke(stack_repo, "integration")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "integration: starting worker, api, postgres" in out and "healthy: worker, api, postgres" in out
    assert _left(_project_of(out)) == []


# -- bad settings: one error before anything starts ------------------------------------------


def _settings_error(repo: Path, table: str) -> ConfigError:
    write(repo / "pyproject.toml", ROOT_PYPROJECT + table)
    project = load_project(repo)
    with pytest.raises(ConfigError) as info:
        integration_plan.plan(project, tracked_files(repo))
    return info.value


@pytest.fixture
def bare_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    write(repo / "docker-compose.yml", "services:\n  test:\n    image: python:3.11-slim\n  api:\n    image: x\n")
    git(repo, "init", "-q", "-b", "main")
    return repo


def test_bad_settings_are_config_errors(bare_repo: Path) -> None:
    error = _settings_error(bare_repo, '[tool.shipyard.integration]\nservice = "tset"\n')
    assert error.message == (
        "pyproject.toml: tool.shipyard.integration: service: docker-compose.yml has no service 'tset'"
        " (did you mean 'test'?)"
    )
    assert error.hint == "services in docker-compose.yml: api, test"
    error = _settings_error(bare_repo, '[tool.shipyard.integration]\nservice = "test"\ncommand = ["pytest"]\n')
    assert "sets both service and command" in error.message and 'service = "test"' in str(error.hint)
    error = _settings_error(bare_repo, "[tool.shipyard.integration]\n")
    assert "sets neither service nor command" in error.message
    error = _settings_error(bare_repo, "")
    assert error.message == (
        "pyproject.toml: tool.shipyard.integration: not set: invoke integration needs the tests' service or command"
    )
    error = _settings_error(bare_repo, '[tool.shipyard.integration]\nservice = "test"\nservices = ["apo"]\n')
    assert "services: docker-compose.yml has no service 'apo' (did you mean 'api'?)" in error.message
    error = _settings_error(bare_repo, '[tool.shipyard.integration]\ncommand = ["x"]\ncompose-files = ["ci.yml"]\n')
    assert error.message == "pyproject.toml: tool.shipyard.integration: compose-files: no file ci.yml"
    error = _settings_error(bare_repo, '[tool.shipyard.integration]\ncommand = ["x"]\ntests = ["tests/it"]\n')
    assert error.message == "pyproject.toml: tool.shipyard.integration: tests: 'tests/it' has no file"


def test_an_unknown_key_gets_a_did_you_mean(bare_repo: Path) -> None:
    write(bare_repo / "pyproject.toml", ROOT_PYPROJECT + '[tool.shipyard.integration]\nservce = "test"\n')
    with pytest.raises(ConfigError) as info:
        load_project(bare_repo)
    assert (
        info.value.message == "pyproject.toml: tool.shipyard.integration.servce: unknown key (did you mean 'service'?)"
    )


def test_a_bad_setting_on_the_command_line_is_one_error_and_exit_1(bare_repo: Path) -> None:
    write(bare_repo / "pyproject.toml", ROOT_PYPROJECT + '[tool.shipyard.integration]\nservice = "tset"\n')
    write(bare_repo / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    write(bare_repo / "services" / "api" / "shipyard.toml", 'kind = "service"\n')
    done = run_invoke(bare_repo, "integration")
    assert done.returncode == 1
    assert "error: pyproject.toml: tool.shipyard.integration: service: docker-compose.yml has no service 'tset'" in (
        done.stderr
    )
    assert "hint: services in docker-compose.yml: api, test" in done.stderr and "Traceback" not in done.stderr


def test_services_are_matched_to_units_by_build_context_dockerfile_or_name(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "pyproject.toml", ROOT_PYPROJECT)
    for name in ("api", "worker", "web"):
        write(repo / "services" / name / "shipyard.toml", 'kind = "service"\n')
    project = load_project(repo)
    services = {
        "backend": {"build": str(repo / "services" / "api")},
        "jobs": {"build": {"context": str(repo), "dockerfile": "services/worker/Dockerfile"}},
        "web": {"image": "nginx"},
        "postgres": {"image": "postgres:15"},
        "tests": {"build": {"context": str(repo / "tests")}},
        "api-dev": {"build": {"context": str(repo / "services" / "api"), "dockerfile": "Dockerfile.dev"}},
    }
    found = integration_plan.matched_units(project, services)
    matched = {service: unit.name for service, unit in found.items()}
    assert matched == {"backend": "api", "jobs": "worker", "web": "web", "api-dev": "api"}


def test_compose_warnings_before_the_resolved_file_are_not_read_as_it(bare_repo: Path) -> None:
    write(bare_repo / "docker-compose.yml", "services:\n  test:\n    image: python:3.11-slim${SHIPYARD_IT_UNSET}\n")
    write(bare_repo / "pyproject.toml", ROOT_PYPROJECT + '[tool.shipyard.integration]\nservice = "test"\n')
    the_plan = integration_plan.plan(load_project(bare_repo), tracked_files(bare_repo))
    assert the_plan.services["test"]["image"] == "python:3.11-slim" and the_plan.started == ()


def test_the_key_follows_the_images_the_compose_file_and_the_tests_and_nothing_else(stack_repo: Path) -> None:
    def key() -> str:
        return integration_plan.plan(load_project(stack_repo), tracked_files(stack_repo)).key

    first = key()
    write(stack_repo / "README.md", "not read by the stack\n")
    assert key() == first
    changes = [
        ("services/api/api.py", API + "# another image\n"),
        ("tests/integration/check.py", CHECK.format(path="/health") + "# another test\n"),
        ("docker-compose.yml", (stack_repo / "docker-compose.yml").read_text() + "# a comment\n"),
    ]
    seen = {first}
    for path, text in changes:
        write(stack_repo / path, text)
        seen.add(key())
    assert len(seen) == 1 + len(changes)
    clone = stack_repo.parent / "elsewhere"
    shutil.copytree(stack_repo, clone, symlinks=True)
    assert integration_plan.plan(load_project(clone), tracked_files(clone)).key == key()  # no absolute path in it


def test_a_helper_service_compose_builds_itself_is_in_the_key(stack_repo: Path) -> None:
    """A service that is no unit but has `build:` (a mock of a third-party API): its context
    is read by the stack, so a change to it runs the tests again (old: the same key)."""
    compose_file = stack_repo / "docker-compose.yml"
    text = compose_file.read_text()
    assert text.startswith("services:\n")
    compose_file.write_text(text.replace("services:\n", "services:\n  mock:\n    build: ./mock\n", 1))
    write(stack_repo / "mock" / "Dockerfile", "FROM python:3.11-slim\nCOPY app.py /app.py\n")
    write(stack_repo / "mock" / "app.py", "print('mock')\n")

    def key() -> str:
        return integration_plan.plan(load_project(stack_repo), tracked_files(stack_repo)).key

    first = key()
    write(stack_repo / "mock" / "app.py", "print('another mock')\n")
    assert key() != first


def test_an_image_compose_builds_for_the_run_is_removed_with_the_stack(stack_repo: Path) -> None:
    """A `build:` service without `image:` is built as <project>_<service> each run (the
    project is new each time): the teardown removes it (old: one image more every run)."""
    compose_file = stack_repo / "docker-compose.yml"
    text = compose_file.read_text()
    extra = '  helper:\n    build: ./helper\n    command: ["sleep", "infinity"]\n    healthcheck:\n'
    extra += '      test: ["CMD", "true"]\n      interval: 1s\n'
    compose_file.write_text(text.replace("services:\n", "services:\n" + extra, 1))
    write(stack_repo / "helper" / "Dockerfile", "FROM python:3.11-slim\nLABEL purpose=shipyard-test-helper\n")
    done = run_invoke(stack_repo, "integration")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    project = _project_of(out)
    images = subprocess.run(
        ("docker", "images", "--format", "{{.Repository}}"), capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [i for i in images if i.startswith((f"{project}_", f"{project}-"))]
    assert _left(project) == []
