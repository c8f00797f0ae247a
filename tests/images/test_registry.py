"""Registries: parsing, manifest URLs, push digests; lookups against the real registry."""

from __future__ import annotations

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.images.auth import is_local
from shipyard.images.registry import (
    environment_registry,
    manifest_digest,
    manifest_url,
    parse_registry,
    pushed_digest,
)
from tests.conftest import free_port

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def test_parse_registry_kinds_and_prefixes() -> None:
    local = parse_registry("127.0.0.1:5000/team")
    assert (local.host, local.prefix, local.kind) == ("127.0.0.1:5000", "team", "oci")
    assert local.image("api") == "127.0.0.1:5000/team/api"
    ecr = parse_registry(f"https://{ECR}/")
    assert (ecr.host, ecr.prefix, ecr.kind, ecr.region) == (ECR, "", "ecr", "eu-west-1")
    assert ecr.repository("api") == "api"
    assert parse_registry("127.0.0.1:5000", kind="ecr").is_ecr


def test_environment_without_registry_names_the_key() -> None:
    with pytest.raises(ShipyardError) as info:
        environment_registry({"registry": ""}, "staging")
    assert info.value.message == "environment 'staging' has no registry"
    assert "[tool.shipyard.environments.staging]" in (info.value.hint or "")


def test_manifest_url_is_http_only_for_loopback() -> None:
    assert (
        manifest_url(parse_registry("127.0.0.1:5000/t"), "api", "abc") == "http://127.0.0.1:5000/v2/t/api/manifests/abc"
    )
    assert manifest_url(parse_registry("localhost:5000"), "api", "x") == "http://localhost:5000/v2/api/manifests/x"
    assert manifest_url(parse_registry(ECR), "api", "x") == f"https://{ECR}/v2/api/manifests/x"


def test_docker_hub_is_asked_at_its_api_host() -> None:
    hub = parse_registry("docker.io/team")
    assert hub.image("api") == "docker.io/team/api"  # what docker push names
    assert manifest_url(hub, "api", "x") == "https://registry-1.docker.io/v2/team/api/manifests/x"


def test_loopback_hosts_in_every_spelling() -> None:
    assert [is_local(h) for h in ("127.0.0.1:5000", "localhost", "[::1]:5000", "[::1]", "::1")] == [True] * 5
    assert [is_local(h) for h in ("ghcr.io", "10.0.0.5:5000", "[2001:db8::1]:443", "localhost.example")] == [False] * 4


def test_pushed_digest_is_read_from_docker_push_output() -> None:
    out = "abc: Pushed\nabcdef: digest: sha256:" + "1" * 64 + " size: 949\n"
    assert pushed_digest(out) == "sha256:" + "1" * 64
    assert pushed_digest("denied: requested access to the resource is denied") == ""


@pytest.mark.integration
def test_lookup_of_a_missing_tag_is_none(registry: str) -> None:
    assert manifest_digest(parse_registry(f"{registry}/shipyard-tests"), "nothing-here", "0000") is None


@pytest.mark.integration
def test_unreachable_registry_is_a_clear_error() -> None:
    dead = parse_registry(f"127.0.0.1:{free_port()}", environment="ci")
    with pytest.raises(ShipyardError) as info:
        manifest_digest(dead, "api", "abc")
    assert info.value.message.startswith(f"registry {dead.host} is unreachable")
    assert "[tool.shipyard.environments.ci] registry" in (info.value.hint or "")
