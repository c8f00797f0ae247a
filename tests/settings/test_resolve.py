"""Resolving ssm:/secretsmanager: references against moto's server (real boto3 wire calls)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.core.secrets import REDACTED, Sensitive, redact
from shipyard.settings import load_all, load_settings, resolve, resolve_all
from tests.helpers import write

pytestmark = pytest.mark.integration

ENV = {"region": "us-east-1", "profile": ""}


@pytest.fixture
def stores(aws: str) -> dict[str, Any]:
    """An SSM SecureString, a plain String and a JSON secret, in this test's own names."""
    ssm, sm = boto3.client("ssm"), boto3.client("secretsmanager")
    ssm.put_parameter(Name="/stg/a/db", Value="postgresql://a:ssm-db-pw@db/a", Type="SecureString", Overwrite=True)
    ssm.put_parameter(Name="/stg/a/region", Value="eu-west-1", Type="String", Overwrite=True)
    for name, value in (("stg/a/creds", json.dumps({"token": "sm-json-token", "n": 7})), ("stg/plain", "sm-plain-v")):
        try:
            sm.create_secret(Name=name, SecretString=value)
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=name, SecretString=value)
    return {"ssm": ssm, "sm": sm}


def settings_for(root: Path, text: str, unit: str = "a"):  # type: ignore[no-untyped-def]
    write(root / ".env.staging", text)
    project = load_project(root)
    return load_settings(project, "staging", project.units[unit], environ={})


def test_resolves_ssm_and_secrets_manager(envrepo: Path, stores: dict[str, Any]) -> None:
    settings = settings_for(
        envrepo,
        (
            "DATABASE_URL=ssm:/stg/a/db\nAWS_REGION_NAME=ssm:/stg/a/region\n"
            "API_TOKEN=secretsmanager:stg/a/creds#token\nCOUNT=secretsmanager:stg/a/creds#n\n"
            "PLAIN=secretsmanager:stg/plain\n"
        ),
    )
    values = resolve(settings, ENV)
    assert {k: v.reveal() if isinstance(v, Sensitive) else v for k, v in values.items()} == {
        "DATABASE_URL": "postgresql://a:ssm-db-pw@db/a",  # SecureString, decrypted
        "AWS_REGION_NAME": "eu-west-1",
        "API_TOKEN": "sm-json-token",
        "COUNT": "7",
        "PLAIN": "sm-plain-v",
        "LOG_LEVEL": "info",
        "REGION_NAME": "eu",
        "WORKERS": "2",
    }
    assert all(isinstance(values[k], Sensitive) for k in ("DATABASE_URL", "API_TOKEN", "PLAIN"))
    assert redact("postgresql://a:ssm-db-pw@db/a sm-json-token sm-plain-v") == " ".join([REDACTED] * 3)


def test_ssm_arn_references(envrepo: Path, stores: dict[str, Any]) -> None:
    arn = stores["ssm"].get_parameter(Name="/stg/a/db")["Parameter"]["ARN"]
    values = resolve(settings_for(envrepo, f"DATABASE_URL=ssm:{arn}\n"), ENV)
    assert values["DATABASE_URL"] == Sensitive("postgresql://a:ssm-db-pw@db/a")


def test_every_missing_reference_is_named(envrepo: Path, stores: dict[str, Any]) -> None:
    settings = settings_for(
        envrepo,
        (
            "DATABASE_URL=ssm:/stg/a/missing\nAPI_TOKEN=secretsmanager:stg/a/creds#nokey\n"
            "OTHER=secretsmanager:stg/absent\nOK=ssm:/stg/a/db\n"
        ),
    )
    with pytest.raises(ShipyardError) as info:
        resolve(settings, ENV)
    assert info.value.message == (
        "cannot resolve secret references: "
        "secretsmanager:stg/a/creds#nokey has no JSON key 'nokey' (used by a: API_TOKEN); "
        "ssm:/stg/a/missing not found (used by a: DATABASE_URL); "
        "secretsmanager:stg/absent not found (used by a: OTHER)"
    )
    assert "sm-json-token" not in info.value.message


def test_non_json_secret_with_a_key(envrepo: Path, stores: dict[str, Any]) -> None:
    with pytest.raises(ShipyardError, match=r"secretsmanager:stg/plain#k is not JSON"):
        resolve(settings_for(envrepo, "X=secretsmanager:stg/plain#k\n"), ENV)


def test_shared_references_are_fetched_once_per_run(envrepo: Path, stores: dict[str, Any]) -> None:
    write(envrepo / ".env.staging", "DATABASE_URL=ssm:/stg/a/db\n")
    project = load_project(envrepo)
    loaded = load_all(project, "staging", project.select(None), environ={})
    values = resolve_all(loaded, ENV)
    assert values["a"]["DATABASE_URL"] == values["b"]["DATABASE_URL"] == Sensitive("postgresql://a:ssm-db-pw@db/a")
