"""Layered settings: precedence, provenance, secrets, required keys, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.core.secrets import REDACTED, Sensitive, redact
from shipyard.settings import SecretRef, Setting, check_required, load_all, load_settings, parse_overrides
from tests.helpers import write

LAYER_FILES = {
    ".env": "LEVEL=root\nROOT_ONLY=r\nSHARED=root\n",
    ".env.staging": "LEVEL=root-staging\nSHARED=root-staging\n",
    "services/a/.env": "LEVEL=service\nSERVICE_ONLY=s\n",
    "services/a/.env.staging": "LEVEL=service-staging\nWORKERS=8\n",
}


def layered(root: Path) -> None:
    for rel, text in LAYER_FILES.items():
        write(root / rel, text)


def load(root: Path, env: str = "staging", unit: str = "a", **kw):  # type: ignore[no-untyped-def]
    project = load_project(root)
    return load_settings(project, env, project.units[unit], environ=kw.pop("environ", {}), **kw)


def test_each_layer_overrides_the_one_below(envrepo: Path) -> None:
    layered(envrepo)
    s = load(envrepo, environ={"LEVEL": "process", "UNRELATED": "x"}, overrides={"WORKERS": "16"})
    got = {x.key: (x.value, x.source) for x in s}
    assert got == {
        "LEVEL": ("process", "process environment"),
        "LOG_LEVEL": ("info", "default (services/a/pyproject.toml)"),
        "REGION_NAME": ("eu", "default (services/a/pyproject.toml)"),
        "ROOT_ONLY": ("r", ".env"),
        "SERVICE_ONLY": ("s", "services/a/.env"),
        "SHARED": ("root-staging", ".env.staging"),
        "WORKERS": ("16", "--set"),
    }
    assert s.get("LEVEL").shadowed == (".env", ".env.staging", "services/a/.env", "services/a/.env.staging")
    assert s.get("WORKERS").shadowed == ("default (services/a/pyproject.toml)", "services/a/.env.staging")


@pytest.mark.parametrize(
    ("drop", "level", "source"),
    [
        ((), "service-staging", "services/a/.env.staging"),
        (("services/a/.env.staging",), "service", "services/a/.env"),
        (("services/a/.env.staging", "services/a/.env"), "root-staging", ".env.staging"),
        (("services/a/.env.staging", "services/a/.env", ".env.staging"), "root", ".env"),
    ],
)
def test_precedence_step_by_step(envrepo: Path, drop: tuple[str, ...], level: str, source: str) -> None:
    layered(envrepo)
    for rel in drop:
        (envrepo / rel).unlink()
    setting = load(envrepo).get("LEVEL")
    assert (setting.value, setting.source, setting.secret) == (level, source, False)


def test_other_environments_and_services_do_not_mix(envrepo: Path) -> None:
    layered(envrepo)
    local = load(envrepo, "local")
    assert (local.get("LEVEL").value, local.get("LEVEL").source) == ("service", "services/a/.env")
    b = load(envrepo, unit="b")
    assert {x.key for x in b} == {"LEVEL", "ROOT_ONLY", "SHARED"}
    assert b.get("LEVEL").value == "root-staging"


def test_process_environment_only_for_known_keys(envrepo: Path) -> None:
    write(envrepo / ".env", "DECLARED\n")  # a bare key declares it without a value
    s = load(envrepo, environ={"DECLARED": "yes", "API_TOKEN": "tok-from-env", "HOME": "/root", "PATH": "/bin"})
    assert s.get("DECLARED") == Setting("DECLARED", "yes", "process environment", False)
    assert s.get("API_TOKEN").source == "process environment"  # required-env makes it known
    assert "HOME" not in s and "PATH" not in s


def test_secrets_are_sensitive_and_registered(envrepo: Path) -> None:
    write(envrepo / ".env", "DATABASE_URL=plain-but-secret-env\nSTRIPE_KEY=sk_live_abcdef\nLOG=info\n")
    s = load(envrepo)
    assert s.get("DATABASE_URL").secret and isinstance(s.get("DATABASE_URL").value, Sensitive)
    assert s.get("STRIPE_KEY").shown == REDACTED  # secret by name: *_KEY
    assert s.get("LOG") == Setting("LOG", "info", ".env", False)
    assert redact("a plain-but-secret-env b sk_live_abcdef") == f"a {REDACTED} b {REDACTED}"


def test_shadowed_secret_values_are_registered_too(envrepo: Path) -> None:
    write(envrepo / ".env", "DB_PASSWORD=shadowed-password\n")
    write(envrepo / ".env.staging", "DB_PASSWORD=winning-password\n")
    load(envrepo)
    assert redact("shadowed-password winning-password") == f"{REDACTED} {REDACTED}"


def test_references_are_parsed_not_resolved(envrepo: Path) -> None:
    write(envrepo / ".env.staging", "DATABASE_URL=ssm:/staging/a/db\nCREDS=secretsmanager:stg/db#password\n")
    s = load(envrepo, environ={"API_TOKEN": "secretsmanager:stg/token"})
    assert s.get("DATABASE_URL").value == SecretRef("ssm", "/staging/a/db")
    assert s.get("CREDS") == Setting("CREDS", SecretRef("secretsmanager", "stg/db", "password"), ".env.staging", True)
    assert s.get("API_TOKEN").shown == "secretsmanager:stg/token"
    assert [str(r) for r in s.references()] == [
        "secretsmanager:stg/token",
        "secretsmanager:stg/db#password",
        "ssm:/staging/a/db",
    ]


def test_bad_reference_names_file_and_key(envrepo: Path) -> None:
    write(envrepo / ".env.staging", "DATABASE_URL=ssm:/a/b#field\n")
    with pytest.raises(ShipyardError) as info:
        load(envrepo)
    assert info.value.message == (
        ".env.staging: DATABASE_URL: '#field': JSON keys work with secretsmanager: references only"
    )


def test_missing_required_keys_are_all_listed(envrepo: Path) -> None:
    write(envrepo / "services/a/.env", "API_TOKEN=\n")  # empty counts as missing
    project = load_project(envrepo)
    with pytest.raises(ShipyardError) as info:
        check_required(project, "staging", project.select(None), environ={})
    assert info.value.message == (
        "missing required settings for environment 'staging': a: DATABASE_URL, API_TOKEN; b: DATABASE_URL"
    )
    assert ".env.staging" in (info.value.hint or "")


def test_required_keys_satisfied(envrepo: Path) -> None:
    project = load_project(envrepo)
    loaded = check_required(
        project,
        "staging",
        project.select(None),
        environ={"DATABASE_URL": "ssm:/db"},
        overrides={"API_TOKEN": "t0ken-value"},
    )
    assert list(loaded) == ["a", "b"]  # the lib is skipped
    assert loaded["a"].missing() == []


def test_malformed_line_names_file_and_line(envrepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(envrepo / "services/a/.env", 'OK=1\n# comment\nDB_PASSWORD="never-shown-secret\nNEXT=2\n')
    with pytest.raises(ShipyardError) as info:
        load(envrepo)
    assert info.value.message == "services/a/.env: line 3: cannot parse the value of DB_PASSWORD (an unclosed quote?)"
    assert "never-shown-secret" not in str(info.value) + (info.value.hint or "")
    assert capsys.readouterr().err == ""  # python-dotenv's own warning is not printed


def test_malformed_line_without_a_key(envrepo: Path) -> None:
    write(envrepo / ".env.staging", "A=1\nthis is not a setting\n")
    with pytest.raises(ShipyardError, match=r"^\.env\.staging: line 2: cannot parse this statement"):
        load(envrepo)


def test_invalid_variable_name(envrepo: Path) -> None:
    write(envrepo / ".env", "my-key=1\n")
    with pytest.raises(ShipyardError, match=r"^\.env: 'my-key' is not a valid variable name$"):
        load(envrepo)


def test_unknown_environment_did_you_mean(envrepo: Path) -> None:
    with pytest.raises(ShipyardError) as info:
        load_all(load_project(envrepo), "stagign", [])
    assert info.value.message == "unknown environment 'stagign' (did you mean 'staging'?)"
    assert info.value.hint == "known environments: local, production, staging"


def test_os_environ_is_never_written(envrepo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delenv("ROOT_ONLY", raising=False)
    layered(envrepo)
    before = dict(os.environ)
    project = load_project(envrepo)
    load_settings(project, "staging", project.units["a"])
    assert dict(os.environ) == before


def test_parse_overrides() -> None:
    assert parse_overrides(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    for bad in ("hunter2NoEquals", "1BAD=v", "=v"):
        with pytest.raises(ShipyardError) as info:
            parse_overrides([bad])
        assert info.value.message == "--set: expected KEY=VALUE, KEY made of letters, digits and underscores"


def test_process_secrets_are_registered_at_start(envrepo: Path) -> None:
    from shipyard.core.secrets import register_process_secrets

    register_process_secrets(load_project(envrepo), {"DATABASE_URL": "postgres://from-env", "OTHER": "not-a-secret"})
    assert redact("postgres://from-env not-a-secret") == f"{REDACTED} not-a-secret"


def _with_webhook(root: Path, key: str = "SLACK_WEBHOOK_URL", field: str = "slack-webhook") -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace(
        "[tool.shipyard.environments.staging]\n", f'[tool.shipyard.environments.staging]\n{field} = "{key}"\n'
    )
    pyproject.write_text(text)


@pytest.mark.parametrize("field", ["slack-webhook", "webhook-url"])  # every notifier's URL setting
def test_shipyards_own_settings_are_not_service_settings(envrepo: Path, field: str) -> None:
    """The issue: the webhook in the root .env.staging (where the docs put it) became a plain
    setting of every service, printed by `invoke config` and stored in every task definition."""
    _with_webhook(envrepo, field=field)
    hook = "https://hooks.slack.com/services/T0/B0/own-webhook-secret"
    write(envrepo / ".env.staging", f"SLACK_WEBHOOK_URL={hook}\nSHIPYARD_WHEEL_CACHE=/tmp/w\nLOG_LEVEL=debug\n")
    project = load_project(envrepo)
    for name in ("a", "b"):
        s = load_settings(project, "staging", project.units[name], environ={})
        assert "SLACK_WEBHOOK_URL" not in s and "SHIPYARD_WHEEL_CACHE" not in s
        assert s.get("LOG_LEVEL").value == "debug"
    assert redact(f"posting to {hook}") == f"posting to {REDACTED}"  # and it is treated as secret


def test_webhook_key_is_a_service_setting_where_it_is_not_shipyards(envrepo: Path) -> None:
    write(envrepo / ".env.staging", "SLACK_WEBHOOK_URL=https://hooks.example/x\n")
    project = load_project(envrepo)
    assert "SLACK_WEBHOOK_URL" in load_settings(project, "staging", project.units["a"], environ={})


def test_tracked_webhook_is_refused(envrepo: Path) -> None:
    from tests.helpers import git

    _with_webhook(envrepo)
    write(envrepo / ".env.staging", "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B0/tracked-hook\n")
    git(envrepo, "add", "-f", ".env.staging")
    project = load_project(envrepo)
    with pytest.raises(ShipyardError, match=r"^\.env\.staging is tracked by git .* SLACK_WEBHOOK_URL$"):
        load_settings(project, "staging", project.units["a"], environ={})


@pytest.mark.parametrize("rel", [".env.staging", "services/a/.env"])
def test_a_layer_that_is_a_directory_is_an_error(envrepo: Path, rel: str) -> None:
    (envrepo / rel).mkdir()
    project = load_project(envrepo)
    with pytest.raises(ShipyardError) as info:
        load_settings(project, "staging", project.units["a"], environ={})
    assert info.value.message == f"{rel}: is not a file (a directory?); settings layers are KEY=VALUE files"


def test_non_utf8_layer_names_the_file(envrepo: Path) -> None:
    (envrepo / ".env.staging").write_bytes(b"LOG_LEVEL=d\xe9bug\n")
    project = load_project(envrepo)
    with pytest.raises(ShipyardError, match=r"^\.env\.staging: line 1: byte 0xe9 is not UTF-8$"):
        load_settings(project, "staging", project.units["a"], environ={})
