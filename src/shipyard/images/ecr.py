"""Amazon ECR: repositories (created with scan on push and immutable tags), lookups, tags, login.

AWS calls are values (``AwsCall``) run by ``call``, through the one AWS boundary
(shipyard.aws). The authorization token is a secret: it only ever travels in
``Command.stdin`` to ``docker login --password-stdin`` and is never printed.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.aws import aws_errors, env_client, error_code
from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import register_secret
from shipyard.images.plan import login_command
from shipyard.images.registry import Registry, parse_registry
from shipyard.run.proc import Command, run


@dataclass(frozen=True)
class AwsCall:
    """One AWS API call as data: ``client(service).<operation>(**params)``."""

    service: str
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}({json.dumps(dict(self.params), sort_keys=True)})"


def create_call(name: str) -> AwsCall:
    """Create ``name`` with shipyard's settings: scan on push, immutable tags."""
    return AwsCall(
        "ecr",
        "create_repository",
        {
            "repositoryName": name,
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
        },
    )


def repository_call(name: str) -> AwsCall:
    return AwsCall("ecr", "describe_repositories", {"repositoryNames": [name]})


def describe_call(name: str, tag: str) -> AwsCall:
    return AwsCall("ecr", "describe_images", {"repositoryName": name, "imageIds": [{"imageTag": tag}]})


def token_call() -> AwsCall:
    return AwsCall("ecr", "get_authorization_token")


def _run(environment: Mapping[str, Any], aws_call: AwsCall) -> dict[str, Any]:
    client = env_client(aws_call.service, environment)
    return dict(getattr(client, aws_call.operation)(**aws_call.params))


def call(
    environment: Mapping[str, Any], aws_call: AwsCall, action: str, *, tolerate: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """The one runner for AwsCalls: None when AWS answers one of the ``tolerate`` error codes;
    other AWS errors become ShipyardErrors that name the fix."""
    from botocore.exceptions import ClientError

    with aws_errors(action, environment.get("profile", "")):
        try:
            return _run(environment, aws_call)
        except ClientError as exc:
            if error_code(exc) in tolerate:
                return None
            raise


def in_region(environment: Mapping[str, Any], registry: Registry) -> Mapping[str, Any]:
    """The environment, with the region taken from the ECR host name when it sets none."""
    if environment.get("region") or not registry.region:
        return environment
    return {**environment, "region": registry.region}


@dataclass(frozen=True)
class Repository:
    """An ECR repository as a push found it: created by this push, or the team's own."""

    name: str
    created: bool
    mutability: str  # MUTABLE, IMMUTABLE, or one of them WITH_EXCLUSION

    @property
    def immutable(self) -> bool:
        return self.mutability.startswith("IMMUTABLE")


def ensure_repository(environment: Mapping[str, Any], registry: Registry, unit: str) -> Repository:
    """The unit's repository; created (scan on push, immutable tags) when it does not exist.

    An existing repository is left exactly as it is: its tag mutability, scan settings and
    lifecycle policy are the team's (often Terraform's), and a push never rewrites them."""
    env, name = in_region(environment, registry), registry.repository(unit)
    action = f"set up ECR repository {name}"
    found = call(env, repository_call(name), action, tolerate=("RepositoryNotFoundException",))
    if found is not None:
        return Repository(name, False, str(found["repositories"][0].get("imageTagMutability", "MUTABLE")))
    # RepositoryAlreadyExists: a parallel run created it between the two calls; it is not ours then.
    created = call(env, create_call(name), action, tolerate=("RepositoryAlreadyExistsException",))
    return Repository(name, created is not None, "IMMUTABLE" if created is not None else "")


def find_image(environment: Mapping[str, Any], registry: Registry, unit: str, tag: str) -> str | None:
    """The digest of ``unit:tag`` in ECR, or None when it is not there (one describe_images)."""
    name = registry.repository(unit)
    found = call(
        in_region(environment, registry),
        describe_call(name, tag),
        f"look up {name}:{tag} in ECR",
        tolerate=("ImageNotFoundException", "RepositoryNotFoundException"),
    )
    details = (found or {}).get("imageDetails", [])
    return str(details[0]["imageDigest"]) if details else None


class TagRefused(ShipyardError):
    """The repository's immutable tags refuse to move ``tag`` to another image."""


def copy_tag(environment: Mapping[str, Any], registry: Registry, unit: str, source: str, tag: str) -> None:
    """Put ``unit:source``'s manifest under ``tag`` too (batch_get_image, put_image): one digest.

    TagRefused when ``tag`` names another image in a repository with immutable tags."""
    name, env = registry.repository(unit), in_region(environment, registry)
    action = f"tag {name}:{source} as {tag} in ECR"
    found = call(env, get_image_call(name, source), action) or {}
    images = found.get("images", [])
    if not images:
        raise ShipyardError(f"ECR has no {name}:{source} to tag as {tag}", hint="run the push again")
    put = put_image_call(name, images[0], tag)
    if call(env, put, action, tolerate=_TAG_TAKEN) is None:
        # The tag was there already: on this image (a parallel run put it), fine; else immutability.
        digest = images[0].get("imageId", {}).get("imageDigest", "")
        other = find_image(environment, registry, unit, tag)
        if other != digest:
            raise TagRefused(
                f"{name}:{tag} names {other} and the repository's tags are immutable",
                hint=f"make {name}'s tags mutable (or exclude {tag!r}), or drop {tag!r} from extra-tags",
            )


# AWS answers ImageTagAlreadyExists for an immutable tag on another image; moto (and AWS for the
# same image) ImageAlreadyExists: which of the two happened is told by looking the tag up.
_TAG_TAKEN = ("ImageAlreadyExistsException", "ImageTagAlreadyExistsException")


def get_image_call(name: str, tag: str) -> AwsCall:
    return AwsCall("ecr", "batch_get_image", {"repositoryName": name, "imageIds": [{"imageTag": tag}]})


def put_image_call(name: str, image: Mapping[str, Any], tag: str) -> AwsCall:
    params = {"repositoryName": name, "imageManifest": image["imageManifest"], "imageTag": tag}
    if image.get("imageManifestMediaType"):
        params["imageManifestMediaType"] = image["imageManifestMediaType"]
    if image.get("imageId", {}).get("imageDigest"):
        params["imageDigest"] = image["imageId"]["imageDigest"]
    return AwsCall("ecr", "put_image", params)


def login(environment: Mapping[str, Any], registry: Registry) -> Command:
    """``docker login`` for the registry host with a fresh ECR token (on stdin, never printed)."""
    data = call(in_region(environment, registry), token_call(), "get an ECR authorization token") or {}
    auth = data["authorizationData"][0]
    username, _, password = base64.b64decode(auth["authorizationToken"]).decode().partition(":")
    register_secret(password)  # should it ever end up in some output, it is redacted there
    return login_command(registry.host, username, password)


_PULL_LOGINS: set[tuple[str, str]] = set()  # (host, DOCKER_CONFIG) logged in to by this process
_PULL_LOCK = threading.Lock()


def _pull_registry(host: str, environment: Mapping[str, Any]) -> Registry | None:
    """The ECR registry ``host`` belongs to (the environment's own, or one named by its host), or None."""
    if environment.get("registry"):
        own = parse_registry(environment["registry"], environment.get("registry-kind", ""))
        if own.host == host:
            return own if own.is_ecr else None
    found = parse_registry(host)
    return found if found.is_ecr else None


def login_for_pull(image: str, environment: Mapping[str, Any]) -> None:
    """``docker login`` (once per process and Docker config) before ``docker run/create/pull`` of an
    ECR ``image``: only a push logs in, and a runner that did not push (a promoted deploy) has no
    credentials otherwise ("no basic auth credentials"). Other registries: the user's login applies."""
    host = image.split("/", 1)[0]
    registry = _pull_registry(host, environment)
    if registry is None:
        return
    key = (host, os.environ.get("DOCKER_CONFIG", ""))
    with _PULL_LOCK:
        if key in _PULL_LOGINS:
            return
        done = run(login(environment, registry), stream=False)
        if not done.ok:
            lines = done.output.strip().splitlines()
            raise ShipyardError(
                f"docker login {host} failed before pulling its image: {lines[-1] if lines else done.returncode}",
                hint="check the ECR permissions (ecr:GetAuthorizationToken) and the Docker engine (`docker info`)",
            )
        _PULL_LOGINS.add(key)
