"""Docker commands as values: exact argv equality."""

from __future__ import annotations

from shipyard.core.fingerprint import Fingerprint
from shipyard.images.plan import (
    BuildSpec,
    build_command,
    cache_spec,
    image_labels,
    image_tags,
    login_command,
    push_refs,
)
from shipyard.images.settings import Revision

FP = Fingerprint("api", "ab" * 32, ())
SHA = "0123456789abcdef0123456789abcdef01234567"


def spec(**overrides: object) -> BuildSpec:
    fields: dict[str, object] = {
        "unit": "api",
        "context": "/tmp/ctx",
        "base_image": "python:3.11-slim",
        "platform": "linux/amd64",
        "tags": ("api:abababababababab", f"api:git-{SHA}"),
        "labels": (("dev.shipyard.fingerprint", "ab" * 32),),
    }
    fields.update(overrides)
    return BuildSpec(**fields)  # type: ignore[arg-type]


def test_tags_are_fingerprint_then_git_sha() -> None:
    assert image_tags("acme/api", FP, Revision(SHA, dirty=False)) == (
        "acme/api:abababababababab",
        f"acme/api:git-{SHA}",
    )
    assert image_tags("api", FP, Revision(SHA, dirty=True))[1] == f"api:git-{SHA}-dirty"
    assert image_tags("api", FP, Revision("", dirty=True)) == ("api:abababababababab",)


def test_labels_are_oci_plus_fingerprint() -> None:
    labels = image_labels(FP, Revision(SHA, False, "https://example.com/acme/mono.git"), "2024-01-02T03:04:05Z")
    assert labels == (
        ("org.opencontainers.image.source", "https://example.com/acme/mono.git"),
        ("org.opencontainers.image.revision", SHA),
        ("org.opencontainers.image.created", "2024-01-02T03:04:05Z"),
        ("dev.shipyard.fingerprint", "ab" * 32),
        ("dev.shipyard.unit", "api"),
    )
    # no origin remote, no commit: those labels are left out rather than left empty
    assert [k for k, _ in image_labels(FP, Revision("", False), "t")] == [
        "org.opencontainers.image.created",
        "dev.shipyard.fingerprint",
        "dev.shipyard.unit",
    ]


def test_classic_build_command() -> None:
    cmd = build_command(spec(cache_from="r/cache", cache_to="r/cache"), buildx=False)
    assert cmd.argv == (
        "docker", "build", "--force-rm", "--network", "none", "--platform", "linux/amd64",
        "--build-arg", "BASE_IMAGE=python:3.11-slim",
        "--label", f"dev.shipyard.fingerprint={'ab' * 32}",
        "--tag", "api:abababababababab", "--tag", f"api:git-{SHA}",
        "/tmp/ctx",
    )  # fmt: skip
    assert cmd.env == (("DOCKER_BUILDKIT", "0"),)  # the classic builder has no registry cache


def test_buildx_build_command_with_registry_cache() -> None:
    cmd = build_command(spec(cache_from="reg:5000/cache/{service}", cache_to="reg:5000/cache/{service}"), buildx=True)
    assert cmd.argv == (
        "docker", "buildx", "build", "--load", "--network", "none", "--platform", "linux/amd64",
        "--build-arg", "BASE_IMAGE=python:3.11-slim",
        "--label", f"dev.shipyard.fingerprint={'ab' * 32}",
        "--tag", "api:abababababababab", "--tag", f"api:git-{SHA}",
        "--cache-from", "type=registry,ref=reg:5000/cache/api",
        "--cache-to", "type=registry,ref=reg:5000/cache/api,mode=max",
        "/tmp/ctx",
    )  # fmt: skip
    assert cmd.env == ()


def test_no_cache_and_explicit_cache_specs() -> None:
    assert "--no-cache" in build_command(spec(no_cache=True), buildx=False).argv
    assert cache_spec("type=local,dest=/c", "api", write=True) == "type=local,dest=/c"


def test_login_password_only_on_stdin() -> None:
    cmd = login_command("123.dkr.ecr.eu-west-1.amazonaws.com", "AWS", "s3cr3t-token")
    assert cmd.argv == (
        "docker", "login", "--username", "AWS", "--password-stdin", "123.dkr.ecr.eu-west-1.amazonaws.com",
    )  # fmt: skip
    assert cmd.stdin == "s3cr3t-token"
    assert "s3cr3t" not in str(cmd) and "s3cr3t" not in repr(cmd)


def test_push_refs_tag_from_the_fingerprint_and_push_it_last() -> None:
    # Every ref comes from the fingerprint tag: after an unrelated commit, the local image
    # has no tag for the new git sha. The fingerprint goes last: it marks the push complete.
    assert push_refs(("api:abc", f"api:git-{SHA}"), "127.0.0.1:5000/team/api") == (
        ("api:abc", f"127.0.0.1:5000/team/api:git-{SHA}"),
        ("api:abc", "127.0.0.1:5000/team/api:abc"),
    )
    assert push_refs(("api:abc",), "r/api") == (("api:abc", "r/api:abc"),)


def test_buildx_gets_the_created_time_as_source_date_epoch() -> None:
    labels = (("org.opencontainers.image.created", "2026-12-02T10:00:00Z"),)
    argv = build_command(spec(labels=labels), buildx=True).argv
    assert argv[argv.index("SOURCE_DATE_EPOCH=1796205600") - 1] == "--build-arg"
    assert not any(a.startswith("SOURCE_DATE_EPOCH") for a in build_command(spec(labels=labels), buildx=False).argv)
