"""Docker commands as values: builders return Commands; build.py and registry.py run them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipyard.core.fingerprint import Fingerprint
from shipyard.images.settings import Revision
from shipyard.run.proc import Command, command

SOURCE = "org.opencontainers.image.source"
REVISION = "org.opencontainers.image.revision"
CREATED = "org.opencontainers.image.created"
FINGERPRINT = "dev.shipyard.fingerprint"
UNIT = "dev.shipyard.unit"


@dataclass(frozen=True)
class BuildSpec:
    """Everything one ``docker build`` needs: the context, the base image, names and labels."""

    unit: str
    context: str
    base_image: str
    platform: str
    tags: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    cache_from: str = ""
    cache_to: str = ""
    no_cache: bool = False


def image_tags(repository: str, fp: Fingerprint, rev: Revision) -> tuple[str, ...]:
    """``<repo>:<fingerprint-short>`` first (the identity), then ``<repo>:git-<sha>[-dirty]``."""
    tags = [f"{repository}:{fp.short}"]
    if rev.tag:
        tags.append(f"{repository}:{rev.tag}")
    return tuple(tags)


def image_labels(fp: Fingerprint, rev: Revision, created: str) -> tuple[tuple[str, str], ...]:
    """OCI labels (source, revision, created) plus the shipyard fingerprint and unit."""
    labels = [(SOURCE, rev.source)] if rev.source else []
    if rev.sha:
        labels.append((REVISION, rev.sha))
    labels += [(CREATED, created), (FINGERPRINT, fp.digest), (UNIT, fp.unit)]
    return tuple(labels)


def epoch_of(created: str) -> str:
    """``2026-12-02T10:00:00Z`` as seconds since the epoch ("0" when it cannot be read)."""
    from datetime import datetime, timezone

    try:
        return str(int(datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()))
    except ValueError:
        return "0"


def cache_spec(value: str, unit: str, *, write: bool) -> str:
    """A BuildKit cache option: a bare ref becomes ``type=registry,ref=...``; ``{service}`` is the unit."""
    value = value.replace("{service}", unit)
    if "=" in value:
        return value
    return f"type=registry,ref={value}" + (",mode=max" if write else "")


def build_command(spec: BuildSpec, *, buildx: bool) -> Command:
    """``docker build`` (classic) or ``docker buildx build --load``, always without network."""
    # The classic builder leaves a failed step's container behind unless told --force-rm.
    argv = ["docker", "buildx", "build", "--load"] if buildx else ["docker", "build", "--force-rm"]
    argv += ["--network", "none", "--platform", spec.platform, "--build-arg", f"BASE_IMAGE={spec.base_image}"]
    if spec.no_cache:
        argv.append("--no-cache")
    created = dict(spec.labels).get(CREATED, "")
    if buildx and created:  # BuildKit 0.11+ stamps the image config and history with it: same inputs, one digest
        argv += ["--build-arg", f"SOURCE_DATE_EPOCH={epoch_of(created)}"]
    for key, value in spec.labels:
        argv += ["--label", f"{key}={value}"]
    for tag in spec.tags:
        argv += ["--tag", tag]
    if buildx and spec.cache_from:
        argv += ["--cache-from", cache_spec(spec.cache_from, spec.unit, write=False)]
    if buildx and spec.cache_to:
        argv += ["--cache-to", cache_spec(spec.cache_to, spec.unit, write=True)]
    argv.append(spec.context)
    # Without buildx, a current docker CLI still has the classic builder when told so explicitly.
    return command(*argv, env=None if buildx else {"DOCKER_BUILDKIT": "0"})


def buildx_probe() -> Command:
    return command("docker", "buildx", "version")


def engine_probe() -> Command:
    return command("docker", "version", "--format", "{{.Server.Version}}")


def inspect_command(ref: str) -> Command:
    """Prints the local image id of ``ref``; fails when there is no such image."""
    return command("docker", "image", "inspect", "--format", "{{.Id}}", ref)


def tag_command(source: str, target: str) -> Command:
    return command("docker", "tag", source, target)


def push_command(ref: str) -> Command:
    return command("docker", "push", ref)


def login_command(host: str, username: str, password: str) -> Command:
    """``docker login --password-stdin``: the password travels on stdin, never in argv or output."""
    cmd = command("docker", "login", "--username", username, "--password-stdin", host)
    return Command(cmd.argv, cmd.cwd, cmd.env, stdin=password)


def push_refs(source_tags: Sequence[str], repository: str) -> tuple[tuple[str, str], ...]:
    """(local image, remote ref) pairs: every tag renamed into ``repository``, all from the
    first tag (the fingerprint: the one local name sure to exist; a git tag is added by a
    commit that left the image unchanged). The fingerprint ref goes last: its presence in
    the registry is what marks a push complete."""
    identity, *others = source_tags
    refs = [f"{repository}:{tag.rsplit(':', 1)[1]}" for tag in (*others, identity)]
    return tuple((identity, ref) for ref in refs)
