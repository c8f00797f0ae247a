"""A registry that wants credentials: Debian's `docker-registry` with htpasswd (Basic) auth on
its own port, and Docker's config in a temporary DOCKER_CONFIG. Pushes, the tag copy and the
manifest lookups (push's and deploy's) go through the `docker login` credentials; a wrong
password and a missing login are each one clear error."""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.images import auth
from shipyard.images.auth import RegistryAuthError
from shipyard.images.registry import manifest_digest, parse_registry
from shipyard.run.results import PASSED
from tests.conftest import free_port, require
from tests.deploy.test_faults_infra import REGISTRY_BIN, Registry
from tests.helpers import git, run_invoke, write
from tests.images.example import build, copy_example, push, remove_local_images

pytestmark = pytest.mark.integration

USER, PASSWORD = "ci", f"pw-{uuid.uuid4().hex}"


def htpasswd(path: Path, user: str, password: str) -> Path:
    """An htpasswd file of one bcrypt entry, as `htpasswd -B` writes it (without apache2-utils)."""
    bcrypt = pytest.importorskip("bcrypt")
    entry = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()  # registry checks any cost
    path.write_text(f"{user}:{entry}\n", encoding="utf-8")
    return path


def docker_config(path: Path, auths: dict[str, dict[str, str]] | None = None) -> Path:
    """A DOCKER_CONFIG directory whose config.json holds ``auths`` (none: no login at all)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"auths": auths or {}}), encoding="utf-8")
    return path


@pytest.fixture
def secure_registry(tmp_path: Path, docker_engine: None) -> Iterator[Registry]:
    require(Path(REGISTRY_BIN).is_file(), "Debian's docker-registry (apt install docker-registry)")
    (tmp_path / "registry").mkdir()
    users = htpasswd(tmp_path / "registry" / "htpasswd", USER, PASSWORD)
    server = Registry(tmp_path / "registry", free_port(), htpasswd=users)
    server.start()
    yield server
    server.stop()
    remove_local_images([f"{server.host}/"])


@pytest.fixture
def secure_repo(
    tmp_path: Path, secure_registry: Registry, images_prefix: str, registry: str, wheel_cache: Path
) -> Path:
    """The example system with an environment `secure` on ``secure_registry``, api's image built."""
    environments = f'\n[tool.shipyard.environments.secure]\nregistry = "{secure_registry.host}/{images_prefix}"\n'
    root = copy_example(tmp_path / "repo", prefix=images_prefix, registry=registry, environments=environments)
    init = "services/api/src/example_api/__init__.py"  # an api no other test has
    write(root / init, (root / init).read_text() + f"# {uuid.uuid4().hex}\n")
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "tasks")
    built = build(root, wheel_cache, ["api"])["api"]
    assert built.status == PASSED, built.reason + built.output
    return root


def docker_login(config: Path, host: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ("docker", "login", "-u", USER, "--password-stdin", host),
        input=password,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "DOCKER_CONFIG": str(config)},
        capture_output=True,
        text=True,
    )


def test_push_tag_copy_and_lookups_go_through_the_docker_login_credentials(
    secure_repo: Path,
    secure_registry: Registry,
    images_prefix: str,
    wheel_cache: Path,
    tmp_path: Path,
    fresh_session: auth.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shipyard.core.project import load_project
    from shipyard.deploy.artifacts import Artifacts

    config = docker_config(tmp_path / "docker")
    login = docker_login(config, secure_registry.host, PASSWORD)
    assert login.returncode == 0, login.stdout + login.stderr
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    reg = parse_registry(f"{secure_registry.host}/{images_prefix}")

    pushed = push(secure_repo, wheel_cache, "secure", ["api"])["api"]  # lookup (401, then Basic), docker push
    assert pushed.status == PASSED, pushed.reason + pushed.output
    digest = pushed.details["digest"]
    assert pushed.reason == f"pushed {reg.image('api')}@{digest}"
    assert manifest_digest(reg, "api", pushed.details["fingerprint"][:16]) == digest

    write(secure_repo / "libs/README.md", "not part of the api\n")  # a new git tag, the same image
    git(secure_repo, "add", "-A")
    git(secure_repo, "commit", "-q", "-m", "docs")
    head = git(secure_repo, "rev-parse", "HEAD").strip()
    tagged = push(secure_repo, wheel_cache, "secure", ["api"])["api"]  # the manifest GET + PUT, authenticated
    assert tagged.reason == f"tagged {reg.image('api')}@{digest} as git-{head}", tagged.reason + tagged.output
    assert manifest_digest(reg, "api", f"git-{head}") == digest

    project = load_project(secure_repo)
    release = Artifacts(project, "secure", say=lambda _: None).lookup(project.units["api"])  # deploy's lookup
    assert release.artifact == f"{reg.image('api')}@{digest}"

    again = run_invoke(secure_repo, "push", "--env", "secure", "-s", "api", env={"DOCKER_CONFIG": str(config)})
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"up to date: {reg.image('api')}@{digest}" in again.stdout
    assert PASSWORD not in again.stdout + again.stderr
    plan = run_invoke(
        secure_repo, "deploy", "--env", "secure", "-s", "api", "--plan", env={"DOCKER_CONFIG": str(config)}
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert f"image: (none) -> {reg.image('api')}@{digest[:19]}" in plan.stdout  # invoke deploy's lookup


def _assert_one_error(done: subprocess.CompletedProcess[str], error: str, hint: str) -> None:
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out and PASSWORD not in out
    assert f"error: {error}\nhint: {hint}\n" in done.stderr, out
    assert out.count("error:") == 1, out


def test_a_wrong_password_is_one_clear_error(
    secure_repo: Path, secure_registry: Registry, images_prefix: str, tmp_path: Path
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    token = base64.b64encode(f"{USER}:{wrong}".encode()).decode()
    config = docker_config(tmp_path / "docker", {secure_registry.host: {"auth": token}})
    done = run_invoke(secure_repo, "push", "--env", "secure", "-s", "api", env={"DOCKER_CONFIG": str(config)})
    host = secure_registry.host
    _assert_one_error(done, f"registry {host} refused the credentials for {images_prefix}/api", f"docker login {host}")
    assert wrong not in done.stdout + done.stderr and token not in done.stdout + done.stderr


def test_no_login_is_a_clear_error_naming_docker_login(
    secure_repo: Path, secure_registry: Registry, images_prefix: str, tmp_path: Path
) -> None:
    config = docker_config(tmp_path / "docker")
    done = run_invoke(secure_repo, "push", "--env", "secure", "-s", "api", env={"DOCKER_CONFIG": str(config)})
    host, repo = secure_registry.host, f"{images_prefix}/api"
    _assert_one_error(
        done, f"registry {host} needs credentials for {repo}, and Docker has none for it", f"docker login {host}"
    )
    assert "pushed" not in done.stdout  # nothing was built or pushed either


@pytest.mark.parametrize("login", ["wrong", "none"])
def test_docker_push_refused_by_the_registry_is_the_same_one_error(
    login: str,
    secure_repo: Path,
    secure_registry: Registry,
    images_prefix: str,
    wheel_cache: Path,
    tmp_path: Path,
    fresh_session: auth.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--force skips the lookup: docker push itself meets the registry's refusal."""
    auths = {secure_registry.host: {"auth": base64.b64encode(f"{USER}:wrong-pw".encode()).decode()}}
    config = docker_config(tmp_path / "docker", auths if login == "wrong" else None)
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    with pytest.raises(RegistryAuthError) as info:
        push(secure_repo, wheel_cache, "secure", ["api"], force=True)
    host, repo = secure_registry.host, f"{images_prefix}/api"
    expected = (
        f"registry {host} refused the credentials for {repo}"
        if login == "wrong"
        else f"registry {host} needs credentials for {repo}, and Docker has none for it"
    )
    assert (info.value.message, info.value.hint) == (expected, f"docker login {host}")
    listing = urllib.request.Request(f"http://{host}/v2/{repo}/tags/list")
    listing.add_header("Authorization", "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
    with pytest.raises(urllib.error.HTTPError) as unknown:
        urllib.request.urlopen(listing, timeout=10)
    assert unknown.value.code == 404  # nothing was pushed


def test_in_ci_a_refused_push_is_the_push_result_and_the_run_goes_on(
    secure_repo: Path,
    secure_registry: Registry,
    images_prefix: str,
    tmp_path: Path,
    fresh_session: auth.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`invoke ci --push`: lint and test results still count, so the refusal is each push's result."""
    from shipyard.core.project import load_project
    from shipyard.images.jobs import ci_jobs
    from shipyard.run.jobs import run_jobs
    from shipyard.run.results import ERROR

    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config(tmp_path / "docker")))
    project = load_project(secure_repo)
    jobs = ci_jobs(project, [project.units["api"], project.units["worker"]], push_env="secure")
    results = {r.unit: r for r in run_jobs(jobs, workers=2, report=lambda _: None)}
    host = secure_registry.host
    for unit in ("api", "worker"):
        assert results[unit].status == ERROR, results[unit].reason
        assert results[unit].reason == (
            f"registry {host} needs credentials for {images_prefix}/{unit}, and Docker has none for it"
            f" (hint: docker login {host})"
        )
