"""Registry requests authenticated the way Docker authenticates them.

A request first goes out as it is (or with what an earlier challenge from the same registry
taught); a 401 carries a ``WWW-Authenticate`` challenge: ``Basic`` wants the credentials
themselves, ``Bearer realm=...,service=...,scope=...`` a token from the realm (fetched with
the credentials when there are any, anonymously otherwise). The request is then sent once more.
Credentials come from Docker's config (``$DOCKER_CONFIG/config.json`` or
``~/.docker/config.json``): ``credHelpers``, ``credsStore`` (``docker-credential-<name> get``)
and ``auths``, read through the docker SDK, and only once a registry asks for them: an open
registry (the local one in CI) costs no config read and no docker import. Tokens are kept per
(registry, scope) for the run. No credential or token ever goes into a message.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPResponse
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import Sensitive

TIMEOUT = 10.0
DOCKER_HUB = "docker.io"
_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_TOKEN_LIFETIME = 60.0  # seconds; the distribution spec's default when a token names none
_EARLY = 5.0  # renew this long before a token runs out, so none expires in flight


class RegistryAuthError(ShipyardError):
    """The registry wants credentials it did not get, or refused the ones it got: the same for
    every image of the run, so it ends the run as one error rather than one per image."""


@dataclass(frozen=True)
class Credentials:
    """What ``docker login`` stored for a registry: a user and password, or an identity
    (refresh) token when ``username`` is empty."""

    username: str
    secret: Sensitive

    @property
    def basic(self) -> str:
        pair = f"{self.username}:{self.secret.reveal()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header: ``Basic`` or ``Bearer`` and its parameters."""

    scheme: str
    params: Mapping[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """``Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`` -> Challenge."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() not in ("basic", "bearer"):
        return None
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)) for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), {k: v.replace('\\"', '"') for k, v in params.items()})


def scope(repository: str, push: bool = False) -> str:
    """The token scope a request on ``repository`` needs (a manifest PUT needs push)."""
    return f"repository:{repository}:{'pull,push' if push else 'pull'}"


def docker_credentials(host: str) -> Credentials | None:
    """The credentials Docker's config holds for ``host`` (helpers and stores included), or None."""
    import docker.auth  # ~150 ms with requests: only once a registry asked for credentials
    import docker.errors

    try:
        with warnings.catch_warnings():  # the SDK also warns about a missing helper, on stderr
            warnings.simplefilter("ignore")
            found = docker.auth.load_config().resolve_authconfig(DOCKER_HUB if _is_hub(host) else host)
    except docker.errors.DockerException as exc:
        raise RegistryAuthError(
            f"cannot read Docker's credentials for {host}: {exc.__cause__ or exc}",
            hint="install the credential helper Docker's config names (credsStore, credHelpers) or edit it",
        ) from None
    except (ValueError, TypeError):  # a malformed base64 `auth` entry (its text is not shown: it is a secret)
        raise RegistryAuthError(
            f"Docker's config has an unreadable `auth` entry for {host}", hint=f"docker login {host}"
        ) from None
    return _credentials(found or {})


def _credentials(found: Mapping[str, Any]) -> Credentials | None:
    if found.get("IdentityToken"):
        return Credentials("", Sensitive(str(found["IdentityToken"])))
    user = found.get("username") or found.get("Username") or ""
    password = found.get("password") or found.get("Password") or ""
    return Credentials(str(user), Sensitive(str(password))) if password else None


def is_local(host: str) -> bool:
    """A loopback registry (``127.0.0.1:5000``, ``localhost``, ``[::1]:5000``): plain HTTP, as Docker assumes."""
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_hub(host: str) -> bool:
    return host in (DOCKER_HUB, "index.docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class _Token:
    value: Sensitive
    expires: float


class Session:
    """What a run learnt about registries: each host's challenge and credentials, and the
    tokens it was given per (host, scope). Thread-safe: push jobs share one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._challenges: dict[str, Challenge] = {}
        self._credentials: dict[str, Credentials | None] = {}
        self._tokens: dict[tuple[str, str], _Token] = {}

    def open(self, request: urllib.request.Request, host: str, repository: str, *, push: bool = False) -> HTTPResponse:
        """Send ``request`` to registry ``host``, answering its challenge once; other HTTP
        errors are raised as urllib's HTTPError, an auth failure as RegistryAuthError."""
        known = self._challenges.get(host)
        if known is not None:
            _authorize(request, self._header(host, known, repository, push, cached=True))
        try:
            return _urlopen(request)
        except urllib.error.HTTPError as exc:
            challenge = parse_challenge(exc.headers.get("WWW-Authenticate", "")) if exc.code == 401 else None
            if challenge is None:
                raise
            exc.close()
        with self._lock:  # remembered without its scope, which was this request's
            self._challenges[host] = Challenge(
                challenge.scheme, {k: v for k, v in challenge.params.items() if k != "scope"}
            )
        header = self._header(host, challenge, repository, push, cached=False)
        if header is None:
            raise self._refused(host, repository)
        _authorize(request, header)
        try:
            return _urlopen(request)
        except urllib.error.HTTPError as exc:
            if exc.code != 401:
                raise
            exc.close()
        raise self._refused(host, repository)

    def _header(self, host: str, challenge: Challenge, repository: str, push: bool, *, cached: bool) -> str | None:
        """The Authorization header that answers ``challenge`` (None: no credentials to send);
        a Bearer token from this run's cache when ``cached`` and still valid, else a new one."""
        creds = self.credentials(host)
        if challenge.scheme == "basic":
            return creds.basic if creds is not None and creds.username else None
        wanted = scope(repository, push)
        with self._lock:
            token = self._tokens.get((host, wanted))
        if not (cached and token is not None and token.expires > time.monotonic()):
            token = _fetch_token(host, challenge, challenge.params.get("scope") or wanted, creds)
            if token is None:
                raise self._refused(host, repository)
            with self._lock:
                self._tokens[(host, wanted)] = token
        return f"Bearer {token.value.reveal()}"

    def credentials(self, host: str) -> Credentials | None:
        """Docker's credentials for ``host``, read once per run."""
        with self._lock:
            if host in self._credentials:
                return self._credentials[host]
        found = docker_credentials(host)
        with self._lock:
            self._credentials[host] = found
        return found

    def _refused(self, host: str, repository: str) -> RegistryAuthError:
        return refused(host, repository, logged_in=self.credentials(host) is not None)


def refused(host: str, repository: str, *, logged_in: bool) -> RegistryAuthError:
    """The one error for a registry that turned the request away for want of (good) credentials."""
    if not logged_in:
        return RegistryAuthError(
            f"registry {host} needs credentials for {repository}, and Docker has none for it",
            hint=f"docker login {host}",
        )
    return RegistryAuthError(f"registry {host} refused the credentials for {repository}", hint=f"docker login {host}")


def denied(host: str, repository: str, why: str) -> RegistryAuthError:
    """The registry knows who is asking, and does not allow it (a 403, docker push's `denied:`)."""
    return RegistryAuthError(
        f"registry {host} denied access to {repository} ({why})",
        hint=f"check that the account of `docker login {host}` may pull and push it",
    )


def _authorize(request: urllib.request.Request, header: str | None) -> None:
    if header is None:
        request.remove_header("Authorization")
    else:
        request.add_header("Authorization", header)


def _urlopen(request: urllib.request.Request) -> HTTPResponse:
    response: HTTPResponse = urllib.request.urlopen(request, timeout=TIMEOUT)
    return response


def _fetch_token(host: str, challenge: Challenge, wanted: str, creds: Credentials | None) -> _Token | None:
    """A token from the challenge's realm; None when the realm refuses (401/403)."""
    realm = challenge.params.get("realm", "")
    parts = urllib.parse.urlsplit(realm)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ShipyardError(
            f"registry {host} names no usable token realm ({realm or 'none'})",
            hint="check the registry's token-auth configuration",
        )
    if creds is not None and parts.scheme == "http" and not is_local(parts.netloc):
        raise ShipyardError(
            f"registry {host} asks for credentials over plain HTTP ({realm}); they are not sent",
            hint="give the registry an https token realm",
        )
    fields = {k: v for k, v in (("service", challenge.params.get("service", "")), ("scope", wanted)) if v}
    try:
        with _urlopen(_token_request(realm, fields, creds)) as response:
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return None
        raise ShipyardError(
            f"registry {host}'s token service answered HTTP {exc.code} {exc.reason}", hint=f"docker login {host}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ShipyardError(
            f"registry {host}'s token service {realm} is unreachable: {getattr(exc, 'reason', exc)}",
            hint="check the network, or the registry's token-auth configuration",
        ) from None
    except ValueError:
        raise ShipyardError(f"registry {host}'s token service answered no JSON", hint=f"docker login {host}") from None
    return _token(host, body)


def _token_request(realm: str, fields: Mapping[str, str], creds: Credentials | None) -> urllib.request.Request:
    """GET with the user's basic credentials, or (an identity token) the OAuth2 refresh grant."""
    if creds is not None and not creds.username:
        grant = {"grant_type": "refresh_token", "refresh_token": creds.secret.reveal(), "client_id": "shipyard"}
        form = {**fields, **grant}
        return urllib.request.Request(realm, data=urllib.parse.urlencode(form).encode(), method="POST")
    joiner = "&" if "?" in realm else "?"
    request = urllib.request.Request(realm + joiner + urllib.parse.urlencode(fields))
    if creds is not None:
        request.add_header("Authorization", creds.basic)
    return request


def _token(host: str, body: Any) -> _Token:
    value = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if not value:
        raise ShipyardError(f"registry {host}'s token service answered no token", hint=f"docker login {host}")
    lifetime = body.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else _TOKEN_LIFETIME
    return _Token(Sensitive(str(value)), time.monotonic() + max(seconds - _EARLY, 1.0))


SESSION = Session()  # the run's: tokens and credentials are read once per process
