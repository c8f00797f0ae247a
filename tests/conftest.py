"""Shared fixtures: throwaway monorepos in git, and the real services integration tests need.

Integration fixtures skip when a service is missing on a developer machine, but fail
when CI=true: in CI a missing Docker engine or PostgreSQL is a broken run, not a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.helpers import make_monorepo

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# -- every AWS operation the suite makes is in shipyard.iam's table ---------------------------
# shipyard.aws appends each operation its sessions make to the file named by RECORD_ENV; set
# here, before any session exists, it is inherited by every `invoke` the tests run as well.


def pytest_configure(config: pytest.Config) -> None:
    from shipyard.aws import RECORD_ENV

    if not os.environ.get(RECORD_ENV):
        fd, path = tempfile.mkstemp(prefix="shipyard-aws-ops-", suffix=".txt")
        os.close(fd)
        os.environ[RECORD_ENV] = path
        config.add_cleanup(lambda: os.unlink(path))


def recorded_operations(path: str) -> set[str]:
    try:
        return {line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()}
    except FileNotFoundError:
        return set()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when it made an AWS operation that shipyard.iam's table does not list."""
    from shipyard.aws import RECORD_ENV
    from shipyard.iam import missing

    unknown = missing(recorded_operations(os.environ.get(RECORD_ENV, "")))
    if not unknown:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = (
        f"AWS operations made by this run but missing from src/shipyard/iam/table.py: {', '.join(unknown)}\n"
        "add a row for each (its IAM action, feature and resource), then regenerate the docs: python -m shipyard.iam"
    )
    if reporter is not None:
        reporter.write_line(message, red=True)
    else:
        print(message, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def require(condition: bool, what: str) -> None:
    """Skip locally, fail in CI, when an integration dependency is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (run ../shared/ci-env/up.sh)", pytrace=False)
    pytest.skip(f"{what} not available")


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def docker_engine() -> None:
    ok = shutil.which("docker") is not None and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    require(ok, "a Docker engine")


@pytest.fixture(scope="session")
def registry() -> str:
    address = os.environ.get("REGISTRY", "127.0.0.1:5000")
    host, port = address.rsplit(":", 1)
    require(_port_open(host, int(port)), f"an OCI registry on {address}")
    return address


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    require(
        bool(url) and _port_open(os.environ.get("PGHOST", "127.0.0.1"), int(os.environ.get("PGPORT", "5432"))),
        "PostgreSQL (DATABASE_URL)",
    )
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def moto_process(extra_env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start a moto server on a free port, yield its endpoint URL, stop it afterwards."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        require(False, "moto[server]")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(extra_env or {})},
    )
    deadline = time.monotonic() + 30
    while not _port_open("127.0.0.1", port):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("moto server did not start")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server of this test session's own, on a free port; yields its endpoint URL."""
    yield from moto_process()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point boto3 at this session's moto server with fake credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small monorepo in a fresh git repository: services a (uses lib core), b, and lib core."""
    return make_monorepo(tmp_path / "repo")
