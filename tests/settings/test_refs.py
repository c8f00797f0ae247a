"""Secret references: parsing, ARNs, and ECS container-definition entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.settings import SecretRef, ecs_secrets, load_settings, parse_reference
from tests.helpers import write


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("ssm:/prod/api/db", SecretRef("ssm", "/prod/api/db")),
        ("ssm:flat", SecretRef("ssm", "flat")),
        ("secretsmanager:prod/db", SecretRef("secretsmanager", "prod/db")),
        ("secretsmanager:prod/db#password", SecretRef("secretsmanager", "prod/db", "password")),
    ],
)
def test_parse(text: str, ref: SecretRef) -> None:
    assert parse_reference(text, "x") == ref
    assert str(ref) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ssm:", ".env: K: ssm: reference without a name"),
        ("ssm:a/b", ".env: K: ssm:a/b: a parameter path must start with /"),
        ("ssm:/a#k", ".env: K: '#k': JSON keys work with secretsmanager: references only"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ShipyardError) as info:
        parse_reference(text, ".env: K")
    assert info.value.message == message


@pytest.mark.parametrize(
    ("ref", "arn"),
    [
        (SecretRef("ssm", "/prod/db"), "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db"),
        (SecretRef("ssm", "flat"), "arn:aws:ssm:eu-west-1:123456789012:parameter/flat"),
        (SecretRef("secretsmanager", "prod/db"), "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db"),
        (
            SecretRef("secretsmanager", "prod/db", "password"),
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db:password::",
        ),
        (SecretRef("ssm", "arn:aws:ssm:us-east-1:1:parameter/x"), "arn:aws:ssm:us-east-1:1:parameter/x"),
    ],
)
def test_arns(ref: SecretRef, arn: str) -> None:
    assert ref.arn("eu-west-1", "123456789012") == arn


def test_partitions() -> None:
    assert SecretRef("ssm", "/x").arn("cn-north-1", "1").startswith("arn:aws-cn:ssm:cn-north-1:")
    assert SecretRef("ssm", "/x").arn("us-gov-west-1", "1").startswith("arn:aws-us-gov:")


def test_ecs_gets_values_and_references(envrepo: Path) -> None:
    write(envrepo / ".env.staging", "DATABASE_URL=ssm:/stg/a/db\nAPI_TOKEN=secretsmanager:stg/a#token\n")
    project = load_project(envrepo)
    settings = load_settings(project, "staging", project.units["a"], environ={})
    environment, secrets = ecs_secrets(settings, "eu-west-1", "123456789012")
    assert environment == [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "REGION_NAME", "value": "eu"},
        {"name": "WORKERS", "value": "2"},
    ]
    assert secrets == [
        {"name": "API_TOKEN", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:stg/a:token::"},
        {"name": "DATABASE_URL", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/stg/a/db"},
    ]


def test_ecs_refuses_literal_secrets(envrepo: Path) -> None:
    write(envrepo / ".env.staging", "DATABASE_URL=postgresql://u:literal-pw@db/a\n")
    project = load_project(envrepo)
    settings = load_settings(project, "staging", project.units["a"], environ={})
    with pytest.raises(ShipyardError) as info:
        ecs_secrets(settings, "eu-west-1", "123456789012")
    assert info.value.message == (
        "a: secret DATABASE_URL has a literal value from .env.staging in 'staging'; ECS receives references only"
    )
    assert info.value.hint == (
        "store it in SSM (aws ssm put-parameter --type SecureString ...) "
        "and set DATABASE_URL=ssm:/<path> in .env.staging"
    )


def test_ecs_blames_the_shell_when_it_overrides_a_reference(envrepo: Path) -> None:
    """The issue: .env.staging holds an ssm: reference, the shell's DATABASE_URL won, and the
    error told the user to fix .env.staging."""
    write(envrepo / ".env.staging", "DATABASE_URL=ssm:/stg/a/db\n")
    project = load_project(envrepo)
    environ = {"DATABASE_URL": "postgresql://u:shell-pw-123@localhost/a"}
    settings = load_settings(project, "staging", project.units["a"], environ=environ)
    with pytest.raises(ShipyardError) as info:
        ecs_secrets(settings, "eu-west-1", "123456789012")
    assert info.value.message == (
        "a: secret DATABASE_URL has a literal value from process environment (overrides .env.staging) "
        "in 'staging'; ECS receives references only"
    )
    assert info.value.hint == (
        "unset DATABASE_URL in the shell (it overrides .env.staging), or export an ssm:/<path> reference instead"
    )


def test_ecs_blames_set(envrepo: Path) -> None:
    project = load_project(envrepo)
    settings = load_settings(project, "staging", project.units["a"], environ={}, overrides={"DB_PASSWORD": "x-12345"})
    with pytest.raises(ShipyardError, match="literal value from --set in 'staging'") as info:
        ecs_secrets(settings, "eu-west-1", "123456789012")
    assert info.value.hint == "drop --set DB_PASSWORD=..., or pass --set DB_PASSWORD=ssm:/<path>"
