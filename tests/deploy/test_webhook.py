"""The JSON webhook notifier receiving real deploy notifications from a local-target deploy:
a static site deployed, then a broken release rolled back, each event POSTed to a local HTTP
server with its fields and no secret; an endpoint that is down or never answers costs one
warning line, never the deploy."""

from __future__ import annotations

import json
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.project import load_project
from shipyard.deploy.lock import LOCK_KEY, LockInfo
from shipyard.deploy.notify import Notifications
from shipyard.deploy.notify.base import DEPLOY_SUCCEEDED, Event
from shipyard.deploy.notify.webhook import Webhook, body
from shipyard.deploy.store import LocalStore
from tests.conftest import free_port
from tests.deploy.targets.test_local import remove_environment
from tests.helpers import git, make_monorepo

TOKEN = "hook-token-" + uuid.uuid4().hex  # the secret part of the webhook's URL
RUN = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "4242"}


class Receiver(BaseHTTPRequestHandler):
    posts: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append({"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(data)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    handler = type("R", (Receiver,), {"posts": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/{TOKEN}", handler.posts
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """Accepts connections, never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hooks/{TOKEN}"
    listener.close()


# -- pure: the body -------------------------------------------------------------------------------


def test_the_body_carries_every_field() -> None:
    event = Event(DEPLOY_SUCCEEDED, "staging", "deployed api (release 3)", ("api",), {"api": 3}, "ci", "0a1b")
    assert body(event, "https://github.com/acme/shop/actions/runs/1") == {
        "event": "deploy.succeeded",
        "environment": "staging",
        "services": ["api"],
        "release": {"api": 3},
        "who": "ci",
        "git_sha": "0a1b",
        "run_url": "https://github.com/acme/shop/actions/runs/1",
        "text": "deployed api (release 3)",
        "reason": "",
    }
    assert body(event, "")["run_url"] is None  # outside GitHub Actions


def test_a_server_that_is_down_is_one_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    hook = Webhook(f"http://127.0.0.1:{free_port()}/hooks/{TOKEN}", "webhook", timeout=2, warn=warnings.append)
    notifications = Notifications([hook])
    for kind in ("deploy.started", "deploy.succeeded"):
        notifications.send(Event(kind, "staging", kind))
    assert [d.ok for d in notifications.close()] == [False, False]
    assert warnings == ["warning: webhook notification not delivered (ConnectionRefusedError); the deploy goes on"]
    assert TOKEN not in repr(notifications) and TOKEN not in repr(hook)


# -- integration: a real deploy on the local target --------------------------------------------------


def _environment(env: str, port: int, hook_key: str) -> str:
    return (
        f'\n[tool.shipyard.environments.{env}]\ntargets = {{ static = "local" }}\nregistry = "127.0.0.1:5000"\n'
        f'urls = {{ site = "http://127.0.0.1:{port}" }}\nsmoke-attempts = 1\nsmoke-interval = 0\n'
        f'notify = ["webhook"]\nwebhook-url = "{hook_key}"\n'
    )


def _site_repo(root: Path, env: str, port: int, hook_key: str) -> Path:
    build = (
        "import pathlib; pathlib.Path('dist').mkdir(exist_ok=True); pathlib.Path('dist/index.html').write_text('hi')"
    )
    repo = make_monorepo(
        root,
        files={"services/site/shipyard.toml": f'kind = "static"\nbuild = ["{sys.executable}", "-c", "{build}"]\n'},
    )
    with (repo / "pyproject.toml").open("a") as f:
        f.write(_environment(env, port, hook_key))
        f.write(_environment(f"{env}-prod", free_port(), hook_key) + f'promote-from = "{env}"\n')
    git(repo, "commit", "-qam", "webhook")
    return repo


@pytest.fixture
def site(tmp_path: Path, docker_engine: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A static site on the local target whose environment notifies the webhook named by DEPLOY_HOOK."""
    env = f"it{uuid.uuid4().hex[:8]}"
    for key, value in RUN.items():
        monkeypatch.setenv(key, value)
    repo = _site_repo(tmp_path / "repo", env, free_port(), "DEPLOY_HOOK")
    try:
        yield repo, env
    finally:
        remove_environment(env)
        remove_environment(f"{env}-prod")


def _deploy(repo: Path, env: str, *, force: bool = False) -> tuple[list[Any], list[str]]:
    from shipyard.deploy.commands import DeployOptions, deploy

    lines: list[str] = []
    results = deploy(load_project(repo), env, DeployOptions(services=("site",), force=force), say=lines.append)
    return results, lines


@pytest.mark.integration
def test_deploy_notifications_reach_the_webhook_with_their_fields_and_no_secret(
    site: tuple[Path, str], receiver: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, env = site
    url, posts = receiver
    monkeypatch.setenv("DEPLOY_HOOK", url)
    stale = LockInfo("gone@ci", "deploy site", 0.0, 1.0, "token")  # its lease expired long ago
    LocalStore(repo / ".shipyard" / "state" / env).put(LOCK_KEY, stale.to_bytes(), if_absent=True)
    results, lines = _deploy(repo, env)
    assert [(r.unit, r.status) for r in results] == [("site", "passed")], lines
    sha = git(repo, "rev-parse", "HEAD").strip()
    run = "https://github.com/acme/shop/actions/runs/4242"
    takeover, started, succeeded = (p["body"] for p in posts)
    assert takeover["event"] == "lock.takeover" and "from gone@ci" in takeover["text"], takeover
    assert started["event"] == "deploy.started" and succeeded["event"] == "deploy.succeeded"
    for sent in (started, succeeded):
        assert (sent["environment"], sent["services"], sent["git_sha"], sent["run_url"]) == (env, ["site"], sha, run)
        assert sent["who"]
    assert started["release"] == {} and succeeded["release"] == {"site": 1}
    assert succeeded["text"] == f"deployed site (release 1) to {env}"
    assert all(p["type"] == "application/json" and p["path"] == f"/hooks/{TOKEN}" for p in posts)

    # a broken release: its smoke check fails, the site goes back to release 1
    unit = repo / "services/site/shipyard.toml"
    unit.write_text(unit.read_text().replace("write_text('hi')", "write_text('v2')") + 'health-path = "/missing"\n')
    git(repo, "commit", "-qam", "broken")
    posts.clear()
    results, lines = _deploy(repo, env)
    assert [(r.unit, r.status) for r in results] == [("site", "failed")], lines
    kinds = [p["body"]["event"] for p in posts]
    assert kinds == ["deploy.started", "deploy.failed", "deploy.rolled-back"], kinds
    failed = posts[1]["body"]
    assert failed["services"] == ["site"] and "smoke check failed" in failed["reason"]
    assert posts[2]["body"]["text"] == f"rolled back site in {env}"
    sent = json.dumps(posts) + "\n".join(lines)
    assert TOKEN not in sent.replace(f"/hooks/{TOKEN}", "")  # only the request line itself has it


@pytest.mark.integration
def test_a_forced_release_is_notified(
    site: tuple[Path, str], receiver: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """prod takes only what the first environment verified; --force ships an unverified release, and says so."""
    repo, env = site
    url, posts = receiver
    monkeypatch.setenv("DEPLOY_HOOK", url)
    results, lines = _deploy(repo, f"{env}-prod", force=True)
    assert [(r.unit, r.status) for r in results] == [("site", "passed")], lines
    kinds = [p["body"]["event"] for p in posts]
    assert kinds == ["deploy.started", "deploy.forced", "deploy.succeeded"], kinds
    forced = posts[1]["body"]
    assert forced["services"] == ["site"] and forced["text"].endswith(
        f"to {env}-prod: site: {env} never verified this release"
    )


@pytest.mark.integration
def test_a_webhook_that_never_answers_does_not_fail_the_deploy(
    site: tuple[Path, str], silent_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, env = site
    monkeypatch.setenv("DEPLOY_HOOK", silent_url)
    results, lines = _deploy(repo, env)
    assert [(r.unit, r.status) for r in results] == [("site", "passed")], lines
    warnings = [line for line in lines if line.startswith("warning: webhook notification")]
    assert warnings == ["warning: webhook notification not delivered (TimeoutError); the deploy goes on"], lines
    assert TOKEN not in "\n".join(lines)
