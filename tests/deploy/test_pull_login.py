"""ECR login before every pull: a runner that did not push (a promoted deploy) has no credentials.

moto's ECR has no registry behind it, so the registry here is Debian's ``docker-registry``
with htpasswd auth whose one user is what ECR's token decodes to on moto: ``AWS`` and
``<account>-auth-token``. Its host is configured as the environment's ECR registry
(registry-kind = "ecr"), so shipyard gets the token from moto's GetAuthorizationToken and
logs Docker in with it. Each test uses an empty DOCKER_CONFIG: nothing was logged in before.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard import aws as shipyard_aws
from shipyard.core.secrets import Sensitive
from shipyard.deploy.migrate import Migration, MigrationFailed
from shipyard.deploy.migrate_run import DockerRun
from shipyard.images import ecr
from tests.conftest import _port_open, free_port, require

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"  # moto's default account: its token's password is "<account>-auth-token"
BASE = "python:3.11-slim"  # the one image on this machine


def _bcrypt(password: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # libxcrypt's bcrypt; `htpasswd -B` is not installed here

    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
    require(bool(hashed) and hashed.startswith("$2"), "bcrypt in crypt(3)")
    return "$2a$" + hashed[4:]  # the registry's bcrypt reads the 2a prefix; the hash is the same


@pytest.fixture(scope="module")
def ecr_like_registry(tmp_path_factory: pytest.TempPathFactory, docker_engine: None) -> Iterator[str]:
    """docker-registry on a free port, htpasswd user AWS with moto's ECR token password; its host."""
    require(shutil.which("docker-registry") is not None, "docker-registry (Debian package)")
    root = tmp_path_factory.mktemp("ecr-registry")
    (root / "htpasswd").write_text(f"AWS:{_bcrypt(f'{ACCOUNT}-auth-token')}\n")
    port = free_port()
    config = {
        "version": 0.1,
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}},
        "http": {"addr": f"127.0.0.1:{port}"},
        "auth": {"htpasswd": {"realm": "basic-realm", "path": str(root / "htpasswd")}},
    }
    (root / "config.yml").write_text(json.dumps(config))  # YAML is a superset of JSON
    proc = subprocess.Popen(
        ("docker-registry", "serve", str(root / "config.yml")), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while not _port_open("127.0.0.1", port):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("docker-registry did not start")
        time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def _docker(*args: str, config: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ("docker", "--config", str(config), *args), input=stdin, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def pushed(ecr_like_registry: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base image pushed to the registry (by someone who logged in); ``host/repo@sha256:...``,
    with no local name left that would spare the pull."""
    config = tmp_path_factory.mktemp("pusher-docker-config")
    repo = f"{ecr_like_registry}/shipyard-pull-{uuid.uuid4().hex[:8]}/api"
    login = _docker(
        "login", "-u", "AWS", "--password-stdin", ecr_like_registry, config=config, stdin=f"{ACCOUNT}-auth-token"
    )
    assert login.returncode == 0, login.stderr
    assert _docker("tag", BASE, f"{repo}:v1", config=config).returncode == 0
    push = _docker("push", f"{repo}:v1", config=config)
    assert push.returncode == 0, push.stderr
    digest = next(w for w in push.stdout.split() if w.startswith("sha256:"))
    assert _docker("rmi", f"{repo}:v1", config=config).returncode == 0
    yield f"{repo}@{digest}"
    _docker("rmi", f"{repo}@{digest}", config=config)


@pytest.fixture
def fresh_runner(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pushed: str) -> Path:
    """A runner that never pushed: an empty Docker config, no local copy of the image."""
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    subprocess.run(("docker", "rmi", pushed), capture_output=True)
    shipyard_aws.reset()
    return config


def environment(registry: str) -> dict[str, str]:
    return {"registry": f"{registry}/team", "registry-kind": "ecr", "region": "us-east-1"}


def test_without_a_login_the_pull_fails_and_login_for_pull_logs_in_with_the_ecr_token(
    fresh_runner: Path, pushed: str, ecr_like_registry: str
) -> None:
    ecr._PULL_LOGINS.clear()
    denied = _docker("pull", pushed, config=fresh_runner)
    assert denied.returncode != 0 and "no basic auth credentials" in denied.stderr  # the bug, as a runner sees it
    ecr.login_for_pull(pushed, environment(ecr_like_registry))
    auths = json.loads((fresh_runner / "config.json").read_text())["auths"]
    assert list(auths) == [ecr_like_registry]  # logged in to the image's ECR host, with moto's token
    pulled = _docker("pull", pushed, config=fresh_runner)
    assert pulled.returncode == 0, pulled.stderr
    ecr.login_for_pull(pushed, environment(ecr_like_registry))  # once per process and Docker config
    assert {(ecr_like_registry, str(fresh_runner))} == ecr._PULL_LOGINS


def test_a_migration_container_is_pulled_after_the_login(
    fresh_runner: Path, pushed: str, ecr_like_registry: str
) -> None:
    """DockerRun logs in before its `docker run`: the pull succeeds, and what fails is the
    base image having no alembic in it, never "no basic auth credentials"."""
    ecr._PULL_LOGINS.clear()
    m = Migration("api", pushed, "/app/alembic.ini", "docker", "production")
    with pytest.raises(MigrationFailed) as info:
        DockerRun(m, Sensitive("postgresql://app@127.0.0.1/none"), environment(ecr_like_registry)).check()
    assert "No module named 'alembic'" in info.value.message, info.value.output
    assert "no basic auth credentials" not in info.value.output
    assert ecr_like_registry in json.loads((fresh_runner / "config.json").read_text())["auths"]


def test_other_registries_are_left_to_the_users_own_login(fresh_runner: Path, pushed: str) -> None:
    ecr._PULL_LOGINS.clear()
    ecr.login_for_pull(pushed, {"registry": "ghcr.io/team"})  # not ECR: no token, no login
    ecr.login_for_pull(BASE, environment("ghcr.io"))
    assert not (fresh_runner / "config.json").exists()


def test_the_local_target_logs_in_before_docker_create_pulls(
    fresh_runner: Path, pushed: str, ecr_like_registry: str, tmp_path: Path
) -> None:
    """A local environment deploying an ECR image on a runner that never pushed (a promoted one)."""
    from shipyard.core.project import load_project
    from shipyard.deploy.target import Progress, TargetContext
    from shipyard.deploy.targets import containers as dk
    from shipyard.deploy.targets.local import LocalTarget, Plan
    from tests.helpers import make_monorepo

    ecr._PULL_LOGINS.clear()
    project = load_project(make_monorepo(tmp_path / "repo"))
    target = LocalTarget(TargetContext(project, "preview", environment(ecr_like_registry)))
    name = f"shipyard-pull-{uuid.uuid4().hex[:8]}"
    spec = dk.ContainerSpec(name, pushed, (), "bridge", restart="no")
    try:
        target._create(Plan("api", spec, (), 0, None, "", ()), Progress("api", lambda _: None))
        created = subprocess.run(("docker", "container", "inspect", name), capture_output=True, text=True)
        assert created.returncode == 0, created.stderr  # pulled with the ECR token, then created
    finally:
        subprocess.run(("docker", "rm", "--force", name), capture_output=True)
    assert ecr_like_registry in json.loads((fresh_runner / "config.json").read_text())["auths"]
