"""The local target: plans and docker commands (exact), the edge proxy on this host, and the
whole pipeline on the real Docker engine — build, migrate, deploy api + worker + web, a job
end to end, then a broken release whose health never passes while the old one keeps serving."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.project import load_project
from shipyard.core.secrets import Sensitive
from shipyard.deploy.target import Release, TargetContext
from shipyard.deploy.targets import containers as dk
from shipyard.deploy.targets.edge import SCRIPT
from shipyard.deploy.targets.local import LocalTarget, rewrite_loopback
from shipyard.settings import load_settings
from tests.conftest import free_port, require
from tests.helpers import make_monorepo, python_unit

# -- pure: commands and plans ------------------------------------------------------------------


def test_create_command_is_exact() -> None:
    spec = dk.ContainerSpec(
        name="shipyard-local-api-0123456789",
        image="127.0.0.1:5000/api@sha256:ab",
        labels=(("shipyard.env", "local"), ("shipyard.service", "api")),
        network="shipyard-local",
        aliases=("api",),
        env_file="/repo/.shipyard/local/local/env/x.env",
        hosts=(("host.docker.internal", "172.18.0.1"),),
        command=("gunicorn", "app"),
    )
    assert dk.create_command(spec).argv == (
        "docker", "create", "--name", "shipyard-local-api-0123456789", "--restart", "unless-stopped",
        "--network", "shipyard-local", "--label", "shipyard.env=local", "--label", "shipyard.service=api",
        "--network-alias", "api", "--add-host", "host.docker.internal:172.18.0.1",
        "--env-file", "/repo/.shipyard/local/local/env/x.env", "127.0.0.1:5000/api@sha256:ab", "gunicorn", "app",
    )  # fmt: skip
    assert dk.list_command({"shipyard.env": "local", "shipyard.service": "api"}).argv == (
        "docker", "ps", "--all", "--quiet", "--no-trunc",
        "--filter", "label=shipyard.env=local", "--filter", "label=shipyard.service=api",
    )  # fmt: skip


def test_loopback_addresses_are_pointed_at_the_host() -> None:
    assert rewrite_loopback("postgresql://u:p@127.0.0.1:5432/db") == (
        "postgresql://u:p@host.docker.internal:5432/db",
        (5432,),
    )
    assert rewrite_loopback("redis://localhost:6379/0") == ("redis://host.docker.internal:6379/0", (6379,))
    assert rewrite_loopback("127.0.0.1:9000") == ("host.docker.internal:9000", (9000,))
    assert rewrite_loopback("https://example.com:8443/x") == ("https://example.com:8443/x", ())
    assert rewrite_loopback("http://127.0.0.10:80") == ("http://127.0.0.10:80", ())


def _service_repo(tmp_path: Path) -> Path:
    repo = make_monorepo(tmp_path / "repo", commit=False)
    python_unit(repo, "services/web-api", "web-api", extra_table=(
        'port = 8000\nhealth-path = "/health"\nrequired-env = ["DATABASE_URL"]\nsecret-env = ["DATABASE_URL"]\n'
        'env = { LOG_LEVEL = "info" }\ncommand = ["gunicorn", "app"]'
    ))  # fmt: skip
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text().replace(
        'registry = "127.0.0.1:5000"\n', 'registry = "127.0.0.1:5000"\nurls = { web-api = "http://127.0.0.1:18000" }\n'
    )
    pyproject.write_text(text)
    return repo


def test_a_service_plan_names_labels_and_settings_its_container(tmp_path: Path) -> None:
    project = load_project(_service_repo(tmp_path))
    unit = project.unit("web-api")
    url = "postgresql://app:hunter2-secret@127.0.0.1:5432/app"
    settings = load_settings(project, "local", unit, environ={"DATABASE_URL": url})
    target = LocalTarget(TargetContext(project, "local", project.environment("local")))
    release = Release("web-api", "f" * 64, "127.0.0.1:5000/web-api@sha256:ab", "abc123")

    plan = target.plan(unit, release, settings, gateway="172.18.0.1")

    assert (
        plan.spec.name.startswith("shipyard-local-web-api-")
        and len(plan.spec.name) == len("shipyard-local-web-api-") + 10
    )
    assert dict(plan.spec.labels) == {
        "shipyard.env": "local", "shipyard.service": "web-api", "shipyard.core.fingerprint": "f" * 64,
        "shipyard.release": plan.spec.name.rsplit("-", 1)[1], "shipyard.artifact": release.artifact,
        "shipyard.git-sha": "abc123",
    }  # fmt: skip
    assert (plan.spec.image, plan.spec.network, plan.spec.aliases) == (release.artifact, "shipyard-local", ("web-api",))
    assert plan.spec.hosts == (("host.docker.internal", "172.18.0.1"),)
    assert plan.spec.command == ("gunicorn", "app")
    assert (plan.port, plan.public, plan.health_path, plan.host_ports) == (
        8000,
        ("127.0.0.1", 18000),
        "/health",
        (5432,),
    )
    env = dict(plan.env)
    assert env["LOG_LEVEL"] == "info"
    assert isinstance(env["DATABASE_URL"], Sensitive)
    assert env["DATABASE_URL"].reveal() == "postgresql://app:hunter2-secret@host.docker.internal:5432/app"
    assert "hunter2" not in repr(plan) and "hunter2" not in str(dk.create_command(plan.spec))
    # same release and settings: the same container; another setting: another one
    assert target.plan(unit, release, settings, gateway="").spec.name == plan.spec.name
    other = load_settings(project, "local", unit, environ={"DATABASE_URL": url + "2"})
    assert target.plan(unit, release, other, gateway="").spec.name != plan.spec.name


# -- the edge proxy, on this host ---------------------------------------------------------------


def _backend(body: bytes) -> tuple[http.server.HTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _write_routes(folder: Path, version: int, routes: list[dict[str, Any]]) -> None:
    (folder / "routes.tmp").write_text(json.dumps({"version": version, "routes": routes}))
    (folder / "routes.tmp").replace(folder / "routes.json")


def _applied(folder: Path, version: int) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            status: dict[str, Any] = json.loads((folder / "status.json").read_text())
            if status["version"] >= version:
                return status
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"the edge never applied version {version}")


def test_the_edge_switches_targets_atomically_and_reports_busy_ports(tmp_path: Path) -> None:
    (a, port_a), (b, port_b) = _backend(b"blue"), _backend(b"green")
    public = free_port()
    edge = subprocess.Popen([sys.executable, str(SCRIPT), str(tmp_path / "routes.json"), str(tmp_path / "status.json")])
    try:
        route = {"name": "service:x", "listen": ["127.0.0.1", public], "target": ["127.0.0.1", port_a]}
        _write_routes(tmp_path, 1, [route])
        assert _applied(tmp_path, 1)["errors"] == {}
        assert urllib.request.urlopen(f"http://127.0.0.1:{public}/", timeout=5).read() == b"blue"
        busy = {"name": "service:y", "listen": ["127.0.0.1", port_a], "target": ["127.0.0.1", port_b]}
        _write_routes(tmp_path, 2, [{**route, "target": ["127.0.0.1", port_b]}, busy])
        assert list(_applied(tmp_path, 2)["errors"]) == [f"127.0.0.1:{port_a}"]
        assert urllib.request.urlopen(f"http://127.0.0.1:{public}/", timeout=5).read() == b"green"
    finally:
        edge.terminate()
        edge.wait(10)
        a.shutdown()
        b.shutdown()


# -- integration: the real engine, registry and PostgreSQL ----------------------------------------


def remove_environment(env: str) -> None:
    """Every container of a test's local environment, and its network."""
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=shipyard.env={env}"],
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
    subprocess.run(["docker", "network", "rm", dk.network_name(env)], capture_output=True)


@pytest.fixture
def local_env(
    tmp_path: Path, docker_engine: None, registry: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, str, int]]:
    """The example system in a throwaway repo with an environment of its own (env name, api
    port), a throwaway database; containers, network, images and database removed afterwards."""
    from tests.images.example import copy_example, delete_registry_repositories, remove_local_images

    tag = uuid.uuid4().hex[:8]
    env, prefix, api_port, web_port = f"it{tag}", f"sytest-local-{tag}", free_port(), free_port()
    environment = (
        f'[tool.shipyard.environments.{env}]\ntargets = {{ service = "local", static = "local" }}\n'
        f'registry = "{registry}/{prefix}"\ndeploy-timeout = 90\nsmoke-interval = 1\n'
        f'urls = {{ api = "http://127.0.0.1:{api_port}", web = "http://127.0.0.1:{web_port}" }}\n'
    )
    repo = copy_example(tmp_path / "repo", prefix=prefix, registry=registry, environments=environment)
    database = f"shipyard_local_{tag}"
    _psql(database_url, f"CREATE DATABASE {database}")
    monkeypatch.setenv("DATABASE_URL", database_url.rsplit("/", 1)[0] + "/" + database)
    monkeypatch.setenv("SHIPYARD_WHEEL_CACHE", str(tmp_path.parent / "wheels"))
    try:
        yield repo, env, api_port
    finally:
        remove_environment(env)
        remove_local_images([f"{prefix}/", f"{registry}/{prefix}"])
        delete_registry_repositories(registry, prefix)
        _psql(database_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def _psql(url: str, sql: str) -> None:
    require(shutil.which("psql") is not None, "psql (postgresql-client)")
    subprocess.run(["psql", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                   check=True, capture_output=True)  # fmt: skip


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _post_job(base: str) -> int:
    request = urllib.request.Request(
        f"{base}/jobs", data=json.dumps({"kind": "wordcount", "payload": {"text": "to be or not to be"}}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(json.load(response)["id"])


def _wait_done(base: str, job: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, body = _get(f"{base}/jobs/{job}")
        found: dict[str, Any] = json.loads(body)
        if found.get("status") in ("done", "failed"):
            return found
        time.sleep(0.3)
    raise AssertionError(f"job {job} was not processed: {found}")


class Poller:
    """GET a URL every 0.2s in a thread, recording each answer (status code or error)."""

    def __init__(self, url: str) -> None:
        self.url, self.stop = url, threading.Event()
        self.answers: list[int | str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self.answers.append(_get(self.url)[0])
            except OSError as exc:
                self.answers.append(repr(exc))
            time.sleep(0.2)

    def __enter__(self) -> Poller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.mark.integration
def test_local_pipeline_serves_processes_and_survives_a_broken_release(local_env: tuple[Path, str, int]) -> None:
    from shipyard.deploy.commands import DeployOptions, deploy
    from shipyard.deploy.ledger import DEPLOY, FAILED, ROLLBACK, SUCCEEDED, Ledger
    from shipyard.deploy.store import LocalStore

    repo, env, api_port = local_env
    base = f"http://127.0.0.1:{api_port}"
    lines: list[str] = []
    project = load_project(repo)

    first = deploy(project, env, DeployOptions(services=("api", "worker", "web"), yes=True), say=lines.append)
    assert [(r.unit, r.status) for r in first] == [("api", "passed"), ("worker", "passed"), ("web", "passed")], lines
    assert lines[-1] == f"api is running at {base}"  # the deploy ends with the URL of the running api
    assert _get(f"{base}/health") == (200, b'{"status":"ok"}\n')
    assert _wait_done(base, _post_job(base))["result"]["words"] == 6
    web_url = project.environment(env)["urls"]["web"]
    status, page = _get(web_url + "/")
    assert status == 200 and b"<title>Word count</title>" in page
    target = LocalTarget(TargetContext(project, env, project.environment(env)))
    live = target.current(project.unit("api"))
    assert live is not None and live.details["url"] == base

    app = repo / "services/api/src/example_api/app.py"
    app.write_text(app.read_text().replace('return jsonify(status="ok")', 'return jsonify(status="broken"), 503'))
    project = load_project(repo)
    with Poller(f"{base}/health") as poller:
        second = deploy(project, env, DeployOptions(services=("api",), yes=True), say=lines.append)
    assert [(r.unit, r.status) for r in second] == [("api", "failed")], lines
    assert "unhealthy" in second[0].reason
    assert len(poller.answers) > 20 and set(poller.answers) == {200}, poller.answers
    assert _get(f"{base}/health")[0] == 200
    now = target.current(project.unit("api"))
    assert now is not None and now.revision == live.revision

    ledger = Ledger(LocalStore(repo / ".shipyard" / "state" / env), env)
    newest = [(e.action, e.outcome, e.revision) for e in ledger.history("api")[:2]]
    assert newest[1][:2] == (DEPLOY, FAILED)
    assert newest[0] == (ROLLBACK, SUCCEEDED, live.revision)
    leftovers = dk.find({dk.ENV: env, dk.SERVICE: "api"})
    assert [c.name for c in leftovers] == [live.revision]  # the broken container was removed

    # A fresh clone elsewhere while the old checkout is deleted (CI on a machine where an
    # earlier checkout deployed): the same releases run, but nothing routes to them from
    # here. The plan says why, the deploy takes the edge over and restarts them.
    app.write_text(app.read_text().replace('return jsonify(status="broken"), 503', 'return jsonify(status="ok")'))
    clone = repo.parent / "clone"
    shutil.copytree(repo, clone, ignore=shutil.ignore_patterns(".shipyard"))
    shutil.rmtree(repo)
    project = load_project(clone)
    lines.clear()
    third = deploy(project, env, DeployOptions(plan_only=True), say=lines.append)
    assert third == [] and "serving: no: the edge serves another checkout -> yes" in "\n".join(lines), lines
    third = deploy(project, env, DeployOptions(yes=True), say=lines.append)
    assert sorted((r.unit, r.status) for r in third) == [("api", "passed"), ("web", "passed"), ("worker", "passed")]
    assert any("served another checkout" in line and "takes it over" in line for line in lines), lines
    assert _wait_done(base, _post_job(base))["result"]["words"] == 6
    assert _get(web_url + "/")[0] == 200
    lines.clear()
    assert deploy(load_project(clone), env, DeployOptions(yes=True), say=lines.append) == []
    assert lines[-1] == f"api is running at {base}" and "nothing to deploy" in lines[0], lines


@pytest.fixture
def site_env(tmp_path: Path, docker_engine: None) -> Iterator[tuple[Path, str, int]]:
    """A repo with one static unit (built by a Python one-liner: no image to build) whose smoke
    check asks for a page the site does not have; an environment of its own, removed afterwards."""
    env, port = f"it{uuid.uuid4().hex[:8]}", free_port()
    build = (
        "import pathlib; pathlib.Path('dist').mkdir(exist_ok=True); pathlib.Path('dist/index.html').write_text('hi')"
    )
    repo = make_monorepo(
        tmp_path / "repo",
        files={
            "services/site/shipyard.toml": (
                f'kind = "static"\nbuild = ["{sys.executable}", "-c", "{build}"]\nhealth-path = "/healthz"\n'
            ),
        },
    )
    with (repo / "pyproject.toml").open("a") as f:
        f.write(
            f'\n[tool.shipyard.environments.{env}]\ntargets = {{ static = "local" }}\nregistry = "127.0.0.1:5000"\n'
            f'urls = {{ site = "http://127.0.0.1:{port}" }}\nsmoke-attempts = 1\nsmoke-interval = 0\n'
        )
    try:
        yield repo, env, port
    finally:
        remove_environment(env)


@pytest.mark.integration
def test_a_failed_first_deploy_is_taken_out_again(site_env: tuple[Path, str, int]) -> None:
    """The container becomes healthy and goes live, then the smoke check fails: nothing may stay live."""
    from shipyard.deploy.commands import DeployOptions, deploy, status

    repo, env, port = site_env
    lines: list[str] = []
    results = deploy(load_project(repo), env, DeployOptions(services=("site",)), say=lines.append)
    assert [(r.unit, r.status) for r in results] == [("site", "failed")], lines
    assert "smoke check failed" in results[0].reason and results[0].reason.endswith("(first deploy: nothing runs now)")
    assert any("first deploy taken out of service: remove shipyard-" in line for line in lines), lines
    project = load_project(repo)
    target = LocalTarget(TargetContext(project, env, project.environment(env)))
    assert target.current(project.unit("site")) is None
    assert dk.find({dk.ENV: env, dk.SERVICE: "site"}) == []  # the container is gone
    assert "service:site" not in target.edge.routes()
    assert "site" not in json.loads((repo / ".shipyard" / "local" / env / "live.json").read_text())
    with pytest.raises(OSError):
        _get(f"http://127.0.0.1:{port}/")  # nobody listens there any more
    assert [(r["service"], r["release"], r["last"]) for r in status(project, env)] == [("site", None, "deploy failed")]
    lines.clear()
    assert deploy(project, env, DeployOptions(services=("site",), plan_only=True), say=lines.append) == []
    assert "1 service(s)" in lines[0] and "    now: not deployed" in lines[0].splitlines(), lines  # tried again
