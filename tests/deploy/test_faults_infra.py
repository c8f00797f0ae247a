"""Infrastructure killed for real in the middle of the work: the environment's registry (Debian's
`docker-registry`, on its own port and storage) stopped while `invoke push` uploads a layer, and
down before a push starts. Each case ends with a clear failure, nothing reported as pushed or up
to date that is not, and a rerun (registry back) that completes. And a TCP proxy in front of
PostgreSQL killed while `invoke migrate` (or a deploy) runs a slow revision: a clear error,
nothing half applied, the failure in the ledger, the lock free, no container left, and a rerun
(proxy back) that migrates. And a local
deploy whose registry is down, or killed mid-push: the old release keeps serving."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shipyard.run.results import PASSED
from tests.conftest import free_port, require
from tests.deploy.test_faults import wait_for
from tests.helpers import git, run_invoke, write
from tests.images.conftest import images_prefix, wheel_cache  # noqa: F401  (fixtures)
from tests.images.example import build, copy_example, push, remove_local_images

pytestmark = pytest.mark.integration

REGISTRY_BIN = "/usr/bin/docker-registry"
_UPLOAD_STARTED = re.compile(r'"(?:POST|PATCH|PUT) /v2/\S+/blobs/uploads/')
_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


class Registry:
    """One `docker-registry serve` process on 127.0.0.1:``port`` storing under ``data``;
    ``kill_on_upload`` SIGKILLs it as soon as its access log shows a blob upload starting.
    With ``htpasswd`` (a file of ``user:bcrypt`` lines) it wants Basic credentials."""

    def __init__(self, root: Path, port: int, *, htpasswd: Path | None = None) -> None:
        self.host = f"127.0.0.1:{port}"
        self.config = root / "registry.yml"
        auth = f"auth:\n  htpasswd:\n    realm: shipyard-tests\n    path: {htpasswd}\n" if htpasswd else ""
        self.config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n  accesslog:\n    disabled: false\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n" + auth,
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[str] | None = None
        self.killed_mid_upload = threading.Event()
        self._on_upload: Callable[[], None] | None = None

    def start(self, *, kill_on_upload: bool = False) -> None:
        """Serve; with ``kill_on_upload``, die as the first blob upload starts."""
        self.killed_mid_upload.clear()
        self._on_upload = None
        self.proc = subprocess.Popen(
            (REGISTRY_BIN, "serve", str(self.config)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # the access log goes to stdout, the rest to stderr
            text=True,
        )
        ready = threading.Event()
        threading.Thread(target=self._watch, args=(self.proc, ready, kill_on_upload), daemon=True).start()
        assert ready.wait(30), "docker-registry did not start listening"

    def _watch(self, proc: subprocess.Popen[str], ready: threading.Event, kill_on_upload: bool) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if f"listening on {self.host}" in line:
                ready.set()
            if self._on_upload is not None and _UPLOAD_STARTED.search(line):
                self._on_upload()
                self._on_upload = None
            if kill_on_upload and _UPLOAD_STARTED.search(line):
                proc.send_signal(signal.SIGKILL)
                self.killed_mid_upload.set()
                kill_on_upload = False

    def on_next_upload(self, action: Callable[[], None]) -> None:
        """Call ``action`` (once) as the next blob upload starts."""
        self._on_upload = action

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(10)
            assert self.proc.stdout is not None
            self.proc.stdout.close()
        self.proc = None

    def manifest(self, name: str, tag: str) -> dict[str, object]:
        request = urllib.request.Request(f"http://{self.host}/v2/{name}/manifests/{tag}")
        request.add_header("Accept", _MANIFEST)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def tags(self, name: str) -> list[str]:
        try:
            with urllib.request.urlopen(f"http://{self.host}/v2/{name}/tags/list", timeout=10) as response:
                return sorted(json.loads(response.read()).get("tags") or [])
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise


@pytest.fixture
def own_registry(tmp_path: Path, docker_engine: None) -> Iterator[Registry]:
    require(Path(REGISTRY_BIN).is_file(), "Debian's docker-registry (apt install docker-registry)")
    (tmp_path / "registry").mkdir()
    registry = Registry(tmp_path / "registry", free_port())
    yield registry
    registry.stop()
    remove_local_images([f"{registry.host}/"])  # the tags docker push left on the local images


@pytest.fixture
def flaky_repo(tmp_path: Path, own_registry: Registry, images_prefix: str, registry: str, wheel_cache: Path) -> Path:  # noqa: F811
    """The example system with an environment `flaky` on ``own_registry``, api's image built
    (so a push only uploads)."""
    environments = f'\n[tool.shipyard.environments.flaky]\nregistry = "{own_registry.host}/{images_prefix}"\n'
    root = copy_example(tmp_path / "repo", prefix=images_prefix, registry=registry, environments=environments)
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    git(root, "add", "tasks.py")
    git(root, "commit", "-q", "-m", "tasks")
    built = build(root, wheel_cache, ["api"])["api"]
    assert built.status == PASSED, built.reason
    return root


def _assert_clean_failure(done: subprocess.CompletedProcess[str]) -> str:
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out
    assert "up to date" not in out
    assert "pushed " not in out.replace("not pushed", "")
    return out


def _assert_complete(registry: Registry, name: str, root: Path) -> list[str]:
    """Every tag the push names is in the registry, each with a manifest."""
    done = run_invoke(root, "push", "--env", "flaky", "-s", "api")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "up to date" not in out  # the cut push left no fingerprint tag behind
    tags = registry.tags(name)
    assert len(tags) >= 2, tags  # the fingerprint tag and the git tag
    for tag in tags:
        assert registry.manifest(name, tag)["layers"]
    return tags


def test_registry_killed_mid_push_fails_clearly_and_a_rerun_completes(
    flaky_repo: Path,
    own_registry: Registry,
    images_prefix: str,  # noqa: F811
) -> None:
    require(shutil.which("docker") is not None, "docker")
    name = f"{images_prefix}/api"
    own_registry.start(kill_on_upload=True)
    cut = run_invoke(flaky_repo, "push", "--env", "flaky", "-s", "api")
    assert own_registry.killed_mid_upload.is_set(), "the push never started an upload"
    out = _assert_clean_failure(cut)
    gone = f"the registry stopped answering (dial tcp {own_registry.host}: connect: connection refused)"
    assert re.search(rf"^api +push +failed .*`docker push .*` exited 1: {re.escape(gone)}$", cut.stdout, re.M), out
    assert "Retrying in" not in out  # docker's retry countdown is left out of the output shown
    own_registry.stop()

    own_registry.start()
    assert own_registry.tags(name) == []  # no tag was written by the cut push
    tags = _assert_complete(own_registry, name, flaky_repo)
    again = run_invoke(flaky_repo, "push", "--env", "flaky", "-s", "api")
    assert again.returncode == 0 and "up to date" in again.stdout + again.stderr
    assert own_registry.tags(name) == tags


def _pushes_to(host: str) -> list[str]:
    """The command lines of running `docker push HOST/...` processes."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[:2] == [b"docker", b"push"] and len(argv) > 2 and argv[2].startswith(host.encode()):
            found.append(b" ".join(argv).decode())
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_push_interrupted_mid_upload_leaves_no_push_running_and_a_rerun_completes(
    flaky_repo: Path,
    own_registry: Registry,
    images_prefix: str,  # noqa: F811
    signum: signal.Signals,
) -> None:
    name = f"{images_prefix}/api"
    pushing = _push_signalled_mid_upload(flaky_repo, own_registry, signum)
    out, err = pushing.communicate(timeout=300)
    assert "Traceback" not in out + err
    assert pushing.returncode == 130 and err.strip().endswith("interrupted"), out + err
    assert _pushes_to(own_registry.host) == []  # the docker push went first (old: it ran on, or was orphaned)
    assert [tag for tag in own_registry.tags(name) if not tag.startswith("git-")] == []  # fingerprint tag: last
    _assert_complete(own_registry, name, flaky_repo)


def test_push_killed_mid_upload_leaves_the_registry_consistent_and_a_rerun_completes(
    flaky_repo: Path,
    own_registry: Registry,
    images_prefix: str,  # noqa: F811
) -> None:
    """SIGKILL runs no clean-up: the `docker push` child can outlive shipyard (until it writes
    to the dead pipe, or finishes). Whatever it did, no fingerprint tag without the others."""
    name = f"{images_prefix}/api"
    pushing = _push_signalled_mid_upload(flaky_repo, own_registry, signal.SIGKILL)
    pushing.communicate(timeout=300)
    assert pushing.returncode == -signal.SIGKILL
    wait_for(lambda: not _pushes_to(own_registry.host), "the orphaned docker push to end", seconds=120)
    tags = own_registry.tags(name)
    fingerprint_tags = [tag for tag in tags if not tag.startswith("git-")]
    assert not fingerprint_tags or len(tags) >= 2, tags
    done = run_invoke(flaky_repo, "push", "--env", "flaky", "-s", "api")
    assert done.returncode == 0, done.stdout + done.stderr
    for tag in own_registry.tags(name):
        assert own_registry.manifest(name, tag)["layers"]
    assert len(own_registry.tags(name)) >= 2


def _push_signalled_mid_upload(root: Path, registry: Registry, signum: signal.Signals) -> subprocess.Popen[str]:
    """`invoke push` to ``registry``, sent ``signum`` (to shipyard alone, not its group) as the
    registry sees the first blob upload start."""
    registry.start()
    pushing = subprocess.Popen(
        (sys.executable, "-m", "invoke", "push", "--env", "flaky", "-s", "api"),
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    registry.on_next_upload(lambda: pushing.send_signal(signum))
    return pushing


def test_registry_down_at_push_time_builds_nothing_and_a_rerun_completes(
    flaky_repo: Path,
    own_registry: Registry,
    images_prefix: str,  # noqa: F811
) -> None:
    down = run_invoke(flaky_repo, "push", "--env", "flaky", "-s", "api")
    out = _assert_clean_failure(down)
    assert f"registry {own_registry.host} is unreachable" in out
    assert "[tool.shipyard.environments.flaky] registry" in out  # the hint names the key
    own_registry.start()
    _assert_complete(own_registry, f"{images_prefix}/api", flaky_repo)


# -- PostgreSQL proxy killed mid-migration ----------------------------------------------------

SLOW_REVISION = '''\
"""a slow data migration (it waits 3 s)

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT pg_sleep(3)")


def downgrade() -> None:
    pass
'''


class PgProxy:
    """A TCP proxy on 127.0.0.1:``port`` in front of ``upstream``. Once ``kill_on`` appears in
    what a client sends (the protocol is plain text without TLS), it dies: the listener and every
    connection are closed at once, as when a proxy process is killed."""

    def __init__(self, upstream: tuple[str, int], port: int, kill_on: bytes = b"") -> None:
        self.upstream, self.port, self.kill_on = upstream, port, kill_on
        self.killed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.killed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream, timeout=10)
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, dest: socket.socket, from_client: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_client and self.kill_on and self.kill_on in data:
                    self.kill()
                    return
                dest.sendall(data)
        except OSError:
            pass
        for sock in (source, dest):
            _close(sock)

    def kill(self) -> None:
        self.killed.set()
        _close(self._listener)
        with self._lock:
            for sock in self._sockets:
                _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture
def throwaway_database(database_url: str) -> Iterator[str]:
    name = f"syfault_{uuid.uuid4().hex[:10]}"
    subprocess.run(("psql", database_url, "-qc", f"CREATE DATABASE {name}"), check=True, capture_output=True)
    yield database_url.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run(("psql", database_url, "-qc", f"DROP DATABASE {name} WITH (FORCE)"), capture_output=True)


def _psql(url: str, sql: str) -> str:
    return subprocess.run(("psql", url, "-tAc", sql), check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def slow_migration_repo(
    tmp_path: Path,
    images_prefix: str,  # noqa: F811
    registry: str,
    wheel_cache: Path,  # noqa: F811
    throwaway_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, int]:
    """The example system with a slow third api revision, api pushed to the `local` registry,
    and a .env.local whose DATABASE_URL goes through a proxy port (nothing listens yet)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the machine's own would shadow .env.local
    root = copy_example(tmp_path / "repo", prefix=images_prefix, registry=registry)
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    (root / "services/api/migrations/versions/0003_slow.py").write_text(SLOW_REVISION, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a slow migration")
    pushed = push(root, wheel_cache, "local", ["api"])["api"]
    assert pushed.status == PASSED, pushed.reason
    port = free_port()
    # untracked, as .env files are
    write(root / ".env.local", f"DATABASE_URL={_through_proxy(throwaway_database, port)}\n")
    return root, port


def _through_proxy(url: str, port: int) -> str:
    """``url`` with its host:port replaced by the proxy's, and TLS off (the proxy reads the queries)."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.netloc.rsplit('@', 1)[0]}@127.0.0.1:{port}", query="sslmode=disable").geturl()


def _migration_containers(image: str) -> str:
    found = subprocess.run(
        ("docker", "ps", "--all", "--quiet", "--filter", f"ancestor={image}"), capture_output=True, text=True
    )
    return found.stdout.strip()


def test_postgres_proxy_killed_mid_migration_fails_clearly_and_a_rerun_completes(
    slow_migration_repo: tuple[Path, int],
    throwaway_database: str,
    database_url: str,
    images_prefix: str,  # noqa: F811
    registry: str,
) -> None:
    root, port = slow_migration_repo
    upstream = urlsplit(database_url)
    target = (upstream.hostname or "127.0.0.1", upstream.port or 5432)
    proxy = PgProxy(target, port, kill_on=b"pg_sleep")
    cut = run_invoke(root, "migrate", "--env", "local", "-s", "api")
    assert proxy.killed.is_set(), cut.stdout + cut.stderr
    out = cut.stdout + cut.stderr
    assert cut.returncode == 1 and "Traceback" not in out, out
    assert "api: at base; pending: 0001, 0002, 0003" in cut.stdout
    errors = [line for line in cut.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: api: alembic upgrade head failed:"), out
    assert errors[0].endswith("server closed the connection unexpectedly"), out
    assert "hint: fix the migration or the database; nothing was deployed" in cut.stderr
    assert "migrated to" not in out
    password = urlsplit(database_url).password
    assert not password or password not in out  # the URL travels to the container, never to the output
    # one transaction: nothing of 0001-0003 stayed; the lock is free; no migration container is left
    assert _psql(throwaway_database, "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'") == "0"
    lock = run_invoke(root, "lock.status", "--env", "local")
    assert lock.returncode == 0 and lock.stdout.strip() == "local: unlocked", lock.stdout + lock.stderr
    assert _migration_containers(f"{registry}/{images_prefix}/api") == ""

    PgProxy(target, port)  # the proxy is back
    again = run_invoke(root, "migrate", "--env", "local", "-s", "api")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[-1] == "api: migrated to 0003"
    assert _psql(throwaway_database, "SELECT version_num FROM alembic_version") == "0003"


# -- a local deploy whose registry is down, or killed mid-push -------------------------------
# The local target creates containers from the registry's digest (docker create pulls it when
# the engine lacks it); the release is looked up in, and pushed to, the registry first, so a
# registry that is down fails the plan, and one killed mid-push fails before the lock.


@pytest.fixture
def local_flaky(
    tmp_path: Path,
    own_registry: Registry,
    registry: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Path, str, int]]:
    """The example system deploying api to the local target of an environment of its own,
    whose registry is ``own_registry``; a throwaway database; everything removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    env, prefix, port = f"ft{tag}", f"sytest-fault-{tag}", free_port()
    environment = (
        f'[tool.shipyard.environments.{env}]\ntargets = {{ service = "local" }}\n'
        f'registry = "{own_registry.host}/{prefix}"\ndeploy-timeout = 90\nsmoke-interval = 1\n'
        f'urls = {{ api = "http://127.0.0.1:{port}" }}\n'
    )
    root = copy_example(tmp_path / "repo", prefix=prefix, registry=registry, environments=environment)
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    git(root, "add", "tasks.py")
    git(root, "commit", "-q", "-m", "tasks")
    database = f"syfault_{tag}"
    subprocess.run(("psql", database_url, "-qc", f"CREATE DATABASE {database}"), check=True, capture_output=True)
    monkeypatch.setenv("DATABASE_URL", database_url.rsplit("/", 1)[0] + "/" + database)
    monkeypatch.setenv("SHIPYARD_WHEEL_CACHE", str(tmp_path.parent / "wheels"))
    try:
        yield root, env, port
    finally:
        listed = ("docker", "ps", "-aq", "--filter", f"label=shipyard.env={env}")
        ids = subprocess.run(listed, capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(("docker", "rm", "-f", *ids), capture_output=True)
        subprocess.run(("docker", "network", "rm", f"shipyard-{env}"), capture_output=True)
        remove_local_images([f"{prefix}/", f"{own_registry.host}/{prefix}"])
        subprocess.run(("psql", database_url, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))


def _health(base: str) -> int:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_local_deploy_with_its_registry_down_or_killed_mid_push_fails_clearly_and_the_old_release_serves(
    local_flaky: tuple[Path, str, int], own_registry: Registry
) -> None:
    from shipyard.core.project import load_project
    from shipyard.deploy.ledger import DEPLOY, SUCCEEDED, Ledger
    from shipyard.deploy.store import LocalStore
    from shipyard.deploy.target import TargetContext
    from shipyard.deploy.targets.local import LocalTarget

    root, env, port = local_flaky
    base = f"http://127.0.0.1:{port}"
    own_registry.start()
    first = run_invoke(root, "deploy", "--env", env, "-s", "api", "--yes")
    assert first.returncode == 0, first.stdout + first.stderr
    project = load_project(root)
    target = LocalTarget(TargetContext(project, env, project.environment(env)))
    live = target.current(project.unit("api"))
    assert live is not None and _health(base) == 200

    app = root / "services/api/src/example_api/app.py"
    app.write_text(app.read_text(encoding="utf-8") + "\n# release 2\n", encoding="utf-8")
    git(root, "commit", "-qam", "release 2")
    own_registry.stop()
    down = run_invoke(root, "deploy", "--env", env, "-s", "api", "--yes")
    out = down.stdout + down.stderr
    assert down.returncode == 1 and "Traceback" not in out, out
    assert f"registry {own_registry.host} is unreachable" in out, out
    assert down.stderr.splitlines() == [
        f"error: registry {own_registry.host} is unreachable: [Errno 111] Connection refused",
        f"hint: start the registry or fix [tool.shipyard.environments.{env}] registry ({own_registry.host})",
    ]
    now = target.current(project.unit("api"))
    assert now is not None and now.revision == live.revision and _health(base) == 200  # still serving
    ledger = Ledger(LocalStore(root / ".shipyard" / "state" / env), env)
    assert ledger.current("api") is not None and ledger.current("api").revision == live.revision  # type: ignore[union-attr]
    # it failed while planning, before the lock and before anything acted: nothing to record
    assert [(e.action, e.outcome) for e in ledger.history("api")] == [(DEPLOY, SUCCEEDED)]
    lock = run_invoke(root, "lock.status", "--env", env)
    assert lock.stdout.strip() == f"{env}: unlocked", lock.stdout + lock.stderr

    own_registry.start(kill_on_upload=True)  # up while planning, gone once release 2's upload starts
    cut = run_invoke(root, "deploy", "--env", env, "-s", "api", "--yes")
    out = cut.stdout + cut.stderr
    assert own_registry.killed_mid_upload.is_set(), out
    assert cut.returncode == 1 and "Traceback" not in out, out
    errors = [line for line in cut.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: cannot deploy: images not in the registry: api: "), out
    assert errors[0].endswith(
        f"the registry stopped answering (dial tcp {own_registry.host}: connect: connection refused)"
    )
    assert f"hint: fix the build, or push first: invoke push --env {env}" in cut.stderr
    now = target.current(project.unit("api"))
    assert now is not None and now.revision == live.revision and _health(base) == 200
    assert [(e.action, e.outcome) for e in ledger.history("api")] == [(DEPLOY, SUCCEEDED)]  # pushing precedes it
    lock = run_invoke(root, "lock.status", "--env", env)
    assert lock.stdout.strip() == f"{env}: unlocked", lock.stdout + lock.stderr
    own_registry.stop()

    own_registry.start()
    again = run_invoke(root, "deploy", "--env", env, "-s", "api", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    after = target.current(project.unit("api"))
    assert after is not None and after.revision != live.revision and _health(base) == 200
    newest = ledger.history("api")[0]
    assert (newest.outcome, newest.revision) == (SUCCEEDED, after.revision)


def test_deploy_whose_database_proxy_dies_mid_migration_records_the_failure_and_frees_the_lock(
    local_flaky: tuple[Path, str, int], own_registry: Registry, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.core.project import load_project
    from shipyard.deploy.ledger import DEPLOY, FAILED, SUCCEEDED, Ledger
    from shipyard.deploy.store import LocalStore
    from shipyard.deploy.target import TargetContext
    from shipyard.deploy.targets.local import LocalTarget

    root, env, port = local_flaky
    (root / "services/api/migrations/versions/0003_slow.py").write_text(SLOW_REVISION, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a slow migration")
    direct = urlsplit(os.environ["DATABASE_URL"])  # the fixture's throwaway database
    proxy_port = free_port()
    monkeypatch.setenv("DATABASE_URL", _through_proxy(direct.geturl(), proxy_port))
    upstream = urlsplit(database_url)
    target_db = (upstream.hostname or "127.0.0.1", upstream.port or 5432)
    own_registry.start()

    proxy = PgProxy(target_db, proxy_port, kill_on=b"pg_sleep")
    cut = run_invoke(root, "deploy", "--env", env, "-s", "api", "--yes")
    out = cut.stdout + cut.stderr
    assert proxy.killed.is_set(), out
    assert cut.returncode == 1 and "Traceback" not in out, out
    errors = [line for line in cut.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: api: alembic upgrade head failed:"), out
    assert errors[0].endswith("server closed the connection unexpectedly"), out
    ledger = Ledger(LocalStore(root / ".shipyard" / "state" / env), env)
    entries = [(e.action, e.outcome, e.reason) for e in ledger.history("api")]
    assert len(entries) == 1 and entries[0][:2] == (DEPLOY, FAILED), entries
    assert entries[0][2].startswith("api: alembic upgrade head failed") and "server closed" in entries[0][2]
    project = load_project(root)
    assert LocalTarget(TargetContext(project, env, project.environment(env))).current(project.unit("api")) is None
    direct_url = direct.geturl()
    assert _psql(direct_url, "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'") == "0"
    lock = run_invoke(root, "lock.status", "--env", env)
    assert lock.stdout.strip() == f"{env}: unlocked", lock.stdout + lock.stderr

    PgProxy(target_db, proxy_port)  # the proxy is back
    again = run_invoke(root, "deploy", "--env", env, "-s", "api", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert _psql(direct_url, "SELECT version_num FROM alembic_version") == "0003"
    newest = ledger.history("api")[0]
    assert (newest.action, newest.outcome, newest.migration) == (DEPLOY, SUCCEEDED, "0003")
    assert _health(f"http://127.0.0.1:{port}") == 200
