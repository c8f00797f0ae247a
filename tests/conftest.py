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
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.helpers import make_monorepo

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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
