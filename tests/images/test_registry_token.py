"""The Bearer (token) challenge, against a local HTTP server playing both a registry and its
token service (Debian's docker-registry can do token auth only with a certificate bundle and
signed JWTs; the flow on the client side is the same with an opaque token): the token comes
from the realm with Docker's credentials (auths, a credential helper, an identity token) or
anonymously, once per (registry, scope) for the run."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import Sensitive
from shipyard.images import auth
from shipyard.images.auth import Challenge, RegistryAuthError, parse_challenge
from shipyard.images.registry import copy_tag, manifest_digest, parse_registry
from tests.images.test_registry_auth import docker_config

USER, PASSWORD, REFRESH = "robot", "pw-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


@dataclass
class TokenRegistry:
    """What the server saw and holds: token requests, registry requests, issued tokens by scope."""

    port: int = 0
    anonymous_pull: bool = False
    token_requests: list[dict[str, str]] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, auth scheme
    tokens: dict[str, str] = field(default_factory=dict)  # token -> the scope it grants
    tags: dict[str, bytes] = field(default_factory=lambda: {"fp1": MANIFEST})

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def issue(self, fields: dict[str, str], user: str) -> str | None:
        self.token_requests.append({**fields, "user": user})
        if not user and not (self.anonymous_pull and fields.get("scope", "").endswith(":pull")):
            return None
        token = secrets.token_hex(16)
        self.tokens[token] = fields.get("scope", "")
        return token


def _handler(state: TokenRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _basic_user(self) -> str | None:
            """ "" without credentials, the user when they are right, None when wrong."""
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return ""
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return user if (user, password) == (USER, PASSWORD) else None

        def _token(self, fields: dict[str, str], user: str | None) -> None:
            token = None if user is None else state.issue(fields, user)
            if token is None:
                self._send(401, b'{"details": "bad credentials"}')
                return
            key = "access_token" if not user else "token"  # registries answer either
            self._send(200, json.dumps({key: token, "expires_in": 300}).encode())

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/token":
                fields = dict(urllib.parse.parse_qsl(url.query))
                self._token(fields, self._basic_user())
                return
            self._registry()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            good = form.pop("grant_type", "") == "refresh_token" and form.pop("refresh_token", "") == REFRESH
            self._token(form, "identity" if good else None)

        def do_HEAD(self) -> None:
            self._registry()

        def do_PUT(self) -> None:
            self._registry()

        def _registry(self) -> None:
            parts = self.path.split("/")  # /v2/<repo...>/manifests/<tag>
            repo, tag = "/".join(parts[2:-2]), parts[-1]
            header = self.headers.get("Authorization", "")
            state.requests.append((self.command, self.path, header.partition(" ")[0]))
            wanted = f"repository:{repo}:{'pull,push' if self.command == 'PUT' else 'pull'}"
            granted = state.tokens.get(header.removeprefix("Bearer "), "") if header.startswith("Bearer ") else ""
            if granted not in (wanted, wanted + ",push"):  # a pull,push token may pull too
                realm = f"http://{state.host}/token"
                challenge = f'Bearer realm="{realm}",service="test-registry",scope="{wanted}"'
                self._send(401, b'{"errors": [{"code": "UNAUTHORIZED"}]}', {"WWW-Authenticate": challenge})
                return
            self._manifest(tag)

        def _manifest(self, tag: str) -> None:
            if self.command == "PUT":
                state.tags[tag] = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._send(201)
            elif tag in state.tags:
                headers = {
                    "Docker-Content-Digest": DIGEST,
                    "Content-Type": "application/vnd.oci.image.manifest.v1+json",
                }
                self._send(200, state.tags[tag], headers)
            else:
                self._send(404, b'{"errors": [{"code": "MANIFEST_UNKNOWN"}]}')

    return Handler


@pytest.fixture
def token_registry() -> Iterator[TokenRegistry]:
    state = TokenRegistry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(10)


def _login(monkeypatch: pytest.MonkeyPatch, path: Path, auths: dict[str, dict[str, str]] | None = None) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config(path, auths)))


def _auth(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_challenges_are_parsed_with_quoted_commas_and_bare_values() -> None:
    header = 'Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a/b:pull,push"'
    assert parse_challenge(header) == Challenge(
        "bearer", {"realm": "https://auth.example/token", "service": "reg.example", "scope": "repository:a/b:pull,push"}
    )
    assert parse_challenge('Basic realm="Registry Realm"') == Challenge("basic", {"realm": "Registry Realm"})
    assert parse_challenge("Bearer realm=https://x/token,service=x") == Challenge(
        "bearer", {"realm": "https://x/token", "service": "x"}
    )
    assert parse_challenge("Negotiate abc") is None
    assert parse_challenge("") is None


def test_docker_hub_credentials_are_found_under_dockers_index_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`docker login` (no host) stores Docker Hub's credentials under https://index.docker.io/v1/."""
    _login(monkeypatch, tmp_path / "docker", {"https://index.docker.io/v1/": _auth()})
    found = auth.docker_credentials("docker.io")
    assert found is not None and (found.username, found.secret.reveal()) == (USER, PASSWORD)
    assert str(found) == f"Credentials(username={USER!r}, secret=Sensitive('[REDACTED]'))"  # never the password
    assert auth.docker_credentials("ghcr.io") is None


def test_a_token_is_fetched_with_docker_credentials_once_per_scope(
    token_registry: TokenRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_session: auth.Session
) -> None:
    _login(monkeypatch, tmp_path / "docker", {token_registry.host: _auth()})
    reg = parse_registry(f"{token_registry.host}/team")
    assert manifest_digest(reg, "api", "fp1") == DIGEST
    assert manifest_digest(reg, "api", "missing") is None
    pull = {"service": "test-registry", "scope": "repository:team/api:pull", "user": USER}
    assert token_registry.token_requests == [pull]  # the second lookup reused the token
    assert [scheme for _, _, scheme in token_registry.requests] == ["", "Bearer", "Bearer"]

    copy_tag(reg, "api", "fp1", "git-abc")  # a GET (pull token) and a PUT (a pull,push token)
    assert token_registry.tags["git-abc"] == MANIFEST
    assert token_registry.token_requests == [pull, {**pull, "scope": "repository:team/api:pull,push"}]

    token_registry.tokens.clear()  # the registry forgot its tokens (they expired early): a new one, once
    assert manifest_digest(reg, "api", "fp1") == DIGEST
    assert len(token_registry.token_requests) == 3


def test_a_credential_helper_supplies_the_credentials(
    token_registry: TokenRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_session: auth.Session
) -> None:
    """`credHelpers` runs docker-credential-<name> get, the server URL on stdin, as Docker does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-shipyardtest"
    answer = json.dumps({"ServerURL": token_registry.host, "Username": USER, "Secret": PASSWORD})
    helper.write_text(
        f'#!/bin/sh\n[ "$1" = get ] || exit 1\nread url\n[ "$url" = "{token_registry.host}" ] || '
        f"{{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{answer}'\n",
        encoding="utf-8",
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    config = docker_config(tmp_path / "docker")
    (config / "config.json").write_text(json.dumps({"credHelpers": {token_registry.host: "shipyardtest"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    assert manifest_digest(parse_registry(f"{token_registry.host}/team"), "api", "fp1") == DIGEST
    assert [r["user"] for r in token_registry.token_requests] == [USER]


def test_a_missing_credential_helper_is_one_error_naming_it(
    token_registry: TokenRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_session: auth.Session
) -> None:
    config = docker_config(tmp_path / "docker")
    (config / "config.json").write_text(json.dumps({"credsStore": "shipyard-nowhere"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    with pytest.raises(RegistryAuthError) as info:
        manifest_digest(parse_registry(f"{token_registry.host}/team"), "api", "fp1")
    assert info.value.message == (
        f"cannot read Docker's credentials for {token_registry.host}:"
        " docker-credential-shipyard-nowhere not installed or not available in PATH"
    )
    assert token_registry.token_requests == []  # nothing was asked without the user's credentials


def test_a_malformed_auth_entry_is_one_error_without_its_text(
    token_registry: TokenRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_session: auth.Session
) -> None:
    _login(monkeypatch, tmp_path / "docker", {token_registry.host: {"auth": "bm90LWEtcGFpcg=="}})  # "not-a-pair"
    with pytest.raises(RegistryAuthError) as info:
        manifest_digest(parse_registry(f"{token_registry.host}/team"), "api", "fp1")
    assert info.value.message == f"Docker's config has an unreadable `auth` entry for {token_registry.host}"


def test_an_identity_token_is_exchanged_with_the_refresh_grant(
    token_registry: TokenRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_session: auth.Session
) -> None:
    _login(monkeypatch, tmp_path / "docker", {token_registry.host: {"identitytoken": REFRESH}})
    assert manifest_digest(parse_registry(f"{token_registry.host}/team"), "api", "fp1") == DIGEST
    assert [r["user"] for r in token_registry.token_requests] == ["identity"]


def test_no_credentials_take_an_anonymous_token_where_the_registry_allows_one(
    token_registry: TokenRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_session: auth.Session
) -> None:
    _login(monkeypatch, tmp_path / "docker")
    token_registry.anonymous_pull = True
    reg = parse_registry(f"{token_registry.host}/team")
    assert manifest_digest(reg, "api", "fp1") == DIGEST  # access_token, anonymously
    with pytest.raises(RegistryAuthError) as info:
        copy_tag(reg, "api", "fp1", "git-abc")  # pushing needs a login
    assert (info.value.message, info.value.hint) == (
        f"registry {token_registry.host} needs credentials for team/api, and Docker has none for it",
        f"docker login {token_registry.host}",
    )


def test_credentials_the_token_service_refuses_are_one_error_without_the_password(
    token_registry: TokenRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_session: auth.Session
) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    _login(monkeypatch, tmp_path / "docker", {token_registry.host: _auth(password=wrong)})
    with pytest.raises(RegistryAuthError) as info:
        manifest_digest(parse_registry(f"{token_registry.host}/team"), "api", "fp1")
    assert (info.value.message, info.value.hint) == (
        f"registry {token_registry.host} refused the credentials for team/api",
        f"docker login {token_registry.host}",
    )
    assert wrong not in repr(info.value) + str(info.value.hint)


def test_credentials_are_not_sent_to_a_plain_http_realm_elsewhere(tmp_path: Path) -> None:
    """A registry whose challenge names an http realm off this machine would get the password in clear."""
    challenge = Challenge("bearer", {"realm": "http://auth.example/token", "service": "x"})
    creds = auth.Credentials(USER, Sensitive(PASSWORD))
    with pytest.raises(ShipyardError) as info:
        auth._fetch_token("reg.example", challenge, "repository:a:pull", creds)
    assert info.value.message == (
        "registry reg.example asks for credentials over plain HTTP (http://auth.example/token); they are not sent"
    )
