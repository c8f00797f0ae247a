"""Registries: where an environment's images go, one-request manifest lookups, and pushes.

Any OCI registry speaks the distribution API v2, authenticated with Docker's credentials
(auth.py: the Basic/Bearer challenge, tokens per scope); ECR does too, but for ECR the lookup
goes through its API (describe_images, see ecr.py) so an up-to-date image needs no docker
login at all.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.images.auth import SESSION, denied, is_local

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")
TIMEOUT = 10.0


@dataclass(frozen=True)
class Registry:
    """An environment's registry: ``host[/prefix]``, whether it is ECR, and the units whose
    repository is named in their own table (``repository = "cv_matcher"``)."""

    host: str
    prefix: str
    kind: str  # "oci" or "ecr"
    environment: str = ""
    names: Mapping[str, str] = field(default_factory=dict, hash=False)  # a Registry stays hashable

    @property
    def is_ecr(self) -> bool:
        return self.kind == "ecr"

    @property
    def region(self) -> str:
        """The AWS region in an ECR host name, or ""."""
        match = _ECR_HOST.match(self.host)
        return match.group(2) if match else ""

    def repository(self, unit: str) -> str:
        """The repository name inside the registry (what ECR calls repositoryName): the unit's
        own ``repository`` when it sets one, else ``prefix/unit``."""
        if self.names.get(unit):
            return self.names[unit]
        return f"{self.prefix}/{unit}" if self.prefix else unit

    def image(self, unit: str) -> str:
        """The full image name, without a tag: ``host/prefix/unit``."""
        return f"{self.host}/{self.repository(unit)}"


def parse_registry(
    value: str, kind: str = "", environment: str = "", names: Mapping[str, str] | None = None
) -> Registry:
    """``host[/prefix]`` -> Registry; ECR when the host is *.amazonaws.com or ``kind`` says so."""
    value = value.strip().removeprefix("https://").removeprefix("http://").strip("/")
    host, _, prefix = value.partition("/")
    if not kind:
        kind = "ecr" if host.endswith((".amazonaws.com", ".amazonaws.com.cn")) else "oci"
    return Registry(host, prefix, kind, environment, dict(names or {}))


def environment_registry(environment: Mapping[str, Any], name: str, names: Mapping[str, str] | None = None) -> Registry:
    """The registry of environment ``name`` (``names``: unit -> its own repository name); an
    error naming the key when none is set."""
    if not environment.get("registry"):
        raise ShipyardError(
            f"environment {name!r} has no registry",
            hint=f'set `registry = "host[/prefix]"` in [tool.shipyard.environments.{name}]',
        )
    return parse_registry(environment["registry"], environment.get("registry-kind", ""), name, names)


def api_host(registry: Registry) -> str:
    """Where the registry's HTTP API answers: Docker Hub's images are named ``docker.io/...``
    but its API is registry-1.docker.io (as the Docker client knows)."""
    return "registry-1.docker.io" if registry.host in ("docker.io", "index.docker.io") else registry.host


def manifest_url(registry: Registry, unit: str, tag: str) -> str:
    """Loopback registries speak plain HTTP (as Docker assumes); everything else HTTPS."""
    scheme = "http" if is_local(registry.host) else "https"
    return f"{scheme}://{api_host(registry)}/v2/{registry.repository(unit)}/manifests/{tag}"


def manifest_digest(registry: Registry, unit: str, tag: str) -> str | None:
    """One HEAD request (two or three when the registry wants credentials, the first time):
    the digest of ``unit:tag`` in the registry, or None when absent."""
    request = urllib.request.Request(manifest_url(registry, unit, tag), method="HEAD")
    request.add_header("Accept", ", ".join(MANIFEST_TYPES))
    try:
        with SESSION.open(request, registry.host, registry.repository(unit)) as response:
            return str(response.headers.get("Docker-Content-Digest", "")) or "unknown"
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise _http_error(registry, unit, exc) from None
    except (urllib.error.URLError, OSError) as exc:
        raise _unreachable(registry, exc) from None


def _unreachable(registry: Registry, exc: OSError) -> ShipyardError:
    return ShipyardError(
        f"registry {registry.host} is unreachable: {getattr(exc, 'reason', exc)}",
        hint=_where(registry, "start the registry or fix"),
    )


def _open(registry: Registry, unit: str, request: urllib.request.Request, *, push: bool = False) -> tuple[bytes, str]:
    """Send ``request``; the body and Content-Type, or the error that names the fix."""
    try:
        with SESSION.open(request, registry.host, registry.repository(unit), push=push) as response:
            return response.read(), str(response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as exc:
        raise _http_error(registry, unit, exc) from None
    except (urllib.error.URLError, OSError) as exc:
        raise _unreachable(registry, exc) from None


def copy_tag(registry: Registry, unit: str, source: str, tag: str) -> None:
    """Make ``unit:tag`` name the very manifest ``unit:source`` names (no image bytes move):
    the manifest is read and put back under the new tag, so both have one digest."""
    get = urllib.request.Request(manifest_url(registry, unit, source))
    get.add_header("Accept", ", ".join(MANIFEST_TYPES))
    body, media_type = _open(registry, unit, get)
    put = urllib.request.Request(manifest_url(registry, unit, tag), data=body, method="PUT")
    put.add_header("Content-Type", media_type)
    _open(registry, unit, put, push=True)


def _http_error(registry: Registry, unit: str, exc: urllib.error.HTTPError) -> ShipyardError:
    if exc.code in (401, 403):  # a 401 without a challenge; a 403: logged in, but not allowed
        return denied(registry.host, registry.repository(unit), f"HTTP {exc.code}")
    return ShipyardError(
        f"registry {registry.host} answered HTTP {exc.code} {exc.reason}", hint=_where(registry, "check")
    )


def _where(registry: Registry, action: str) -> str:
    key = f"[tool.shipyard.environments.{registry.environment}] registry" if registry.environment else "the registry"
    return f"{action} {key} ({registry.host})"


def pushed_digest(output: str) -> str:
    """The digest ``docker push`` reports (``<tag>: digest: sha256:... size: N``), or ""."""
    found = _DIGEST.findall(output)
    return found[-1] if found else ""
