"""Environments: the implicit `local`, and checks beyond the schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from tests.helpers import write

BASE = """\
[tool.shipyard]
services = []
libs = []
"""


def project_with(root: Path, text: str):  # type: ignore[no-untyped-def]
    write(root / "pyproject.toml", BASE + text)
    return load_project(root)


def error(root: Path, text: str) -> str:
    with pytest.raises(ShipyardError) as info:
        project_with(root, text)
    return info.value.message


def test_local_always_exists(tmp_path: Path) -> None:
    project = project_with(tmp_path, '[tool.shipyard.environments.staging]\nregion = "eu-west-1"\n')
    assert sorted(project.settings["environments"]) == ["local", "staging"]
    local = project.environment("local")
    assert local["targets"] == {"service": "local", "static": "local"}
    assert local["protected"] is False


def test_a_defined_local_is_kept(tmp_path: Path) -> None:
    project = project_with(tmp_path, '[tool.shipyard.environments.local]\nregistry = "r:5000"\n')
    assert project.environment("local")["registry"] == "r:5000"
    assert project.environment("local")["targets"] == {}


def test_unknown_environment_did_you_mean(tmp_path: Path) -> None:
    project = project_with(tmp_path, "[tool.shipyard.environments.production]\n")
    with pytest.raises(ShipyardError) as info:
        project.environment("prodution")
    assert info.value.message == "unknown environment 'prodution' (did you mean 'production'?)"
    assert info.value.hint == "known environments: local, production"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[tool.shipyard.environments.prod]\ntargets = { service = "ec2" }\n',
            "pyproject.toml: tool.shipyard.environments.prod.targets.service: unknown deploy target 'ec2' "
            "(did you mean 'ecs'?)",
        ),
        (
            '[tool.shipyard.environments.prod]\ntargets = { servce = "ecs" }\n',
            "pyproject.toml: tool.shipyard.environments.prod.targets.servce: unknown kind (did you mean 'service'?)",
        ),
        (
            '[tool.shipyard.environments.prod]\naccount-id = "1234"\n',
            "pyproject.toml: tool.shipyard.environments.prod.account-id: expected 12 digits, got '1234'",
        ),
        (
            '[tool.shipyard.environments.prod]\npromote-from = "stagin"\n[tool.shipyard.environments.staging]\n',
            "pyproject.toml: tool.shipyard.environments.prod.promote-from: unknown environment 'stagin' "
            "(did you mean 'staging'?)",
        ),
        (
            "[tool.shipyard.environments.Prod]\n",
            "pyproject.toml: tool.shipyard.environments.Prod: environment names are lowercase letters, "
            "digits and dashes",
        ),
        (
            "[tool.shipyard.environments.example]\n",
            "pyproject.toml: tool.shipyard.environments.example: 'example' is reserved "
            "(.env.example documents settings)",
        ),
        (
            "[tool.shipyard.environments.test]\n",
            "pyproject.toml: tool.shipyard.environments.test: 'test' is reserved "
            "(.env.test holds the settings of `invoke test`)",
        ),
    ],
)
def test_environment_errors(tmp_path: Path, table: str, message: str) -> None:
    assert error(tmp_path, table) == message


def test_default_environment_must_exist(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", BASE.replace("libs = []", 'libs = []\ndefault-environment = "dev"'))
    with pytest.raises(ShipyardError) as info:
        load_project(tmp_path)
    assert info.value.message == "pyproject.toml: tool.shipyard.default-environment: unknown environment 'dev'"


# -- one CloudFront distribution per static unit ----------------------------------------------

SITES = """\
[tool.shipyard]
services = ["services/*"]
libs = []

[tool.shipyard.environments.staging]
targets = { static = "static" }
static-bucket = "acme-web-staging"
"""


def sites(root: Path, environment: str = "", web: str = "", docs: str = "") -> Path:
    """Static units web and docs (``web``/``docs``: extra lines of their shipyard.toml)."""
    write(root / "pyproject.toml", SITES + environment)
    for name, extra in (("web", web), ("docs", docs)):
        write(root / "services" / name / "shipyard.toml", f'kind = "static"\nbuild = ["true"]\n{extra}')
    return root


def site_error(root: Path) -> ShipyardError:
    with pytest.raises(ShipyardError) as info:
        load_project(root)
    return info.value


def test_each_static_unit_has_its_own_distribution(tmp_path: Path) -> None:
    from shipyard.core.environments import distribution_id

    root = sites(tmp_path, 'distribution-id = "E1WEB"\n', docs='distribution-id = { staging = "E2DOCS" }\n')
    project = load_project(root)
    staging = project.environment("staging")
    assert distribution_id(project.unit("web"), "staging", staging) == "E1WEB"  # the environment's
    assert distribution_id(project.unit("docs"), "staging", staging) == "E2DOCS"  # its own
    assert distribution_id(project.unit("docs"), "local", project.environment("local")) == ""


@pytest.mark.parametrize(
    ("environment", "web", "docs", "shared"),
    [
        ('distribution-id = "E1"\n', "", "", "E1"),  # both take the environment's
        ("", 'distribution-id = { staging = "E7" }\n', 'distribution-id = { staging = "E7" }\n', "E7"),
        ('distribution-id = "E1"\n', 'distribution-id = { staging = "E1" }\n', "", "E1"),  # its own = the other's
    ],
)
def test_two_static_units_sharing_a_distribution_are_refused(
    tmp_path: Path, environment: str, web: str, docs: str, shared: str
) -> None:
    found = site_error(sites(tmp_path, environment, web, docs))
    assert found.message == (
        "pyproject.toml: tool.shipyard.environments.staging: static units docs and web would share "
        f"CloudFront distribution {shared} (each deploy points it at its own release)"
    )
    assert found.hint is not None and "in services/web/shipyard.toml" in found.hint


def test_a_distribution_for_an_unknown_environment_is_refused(tmp_path: Path) -> None:
    found = site_error(sites(tmp_path, web='distribution-id = { stagng = "E1" }\n'))
    assert found.message == (
        "services/web/shipyard.toml: distribution-id.stagng: unknown environment 'stagng' (did you mean 'staging'?)"
    )


def test_a_distribution_where_static_units_are_not_on_cloudfront_is_refused(tmp_path: Path) -> None:
    found = site_error(sites(tmp_path, web='distribution-id = { local = "E1" }\n'))
    assert found.message == (
        "services/web/shipyard.toml: distribution-id.local: environment 'local' deploys static units "
        "with the local target, not to CloudFront"
    )


def test_sharing_is_one_error_line_from_the_command_line(tmp_path: Path) -> None:
    from tests.helpers import git, run_invoke

    root = sites(tmp_path, 'distribution-id = "E1"\n')
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    git(root, "init", "-q", "-b", "main")
    done = run_invoke(root, "deploy", "--env", "staging", "--yes", "--plan")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    hints = [line for line in done.stderr.splitlines() if line.startswith("hint: ")]
    assert len(errors) == 1 and "static units docs and web would share CloudFront distribution E1" in errors[0]
    assert len(hints) == 1 and hints[0].startswith("hint: give each its own distribution: distribution-id = {")


# -- extends ------------------------------------------------------------------------------------

EXTENDS = """
[tool.shipyard.environments.staging]
region = "eu-west-1"
cluster = "apps-{env}"
targets = { service = "ecs", static = "static" }
urls = { api = "https://api.staging.example.com" }
static-bucket = "acme-web-staging"
deploy-timeout = 600

[tool.shipyard.environments.production]
extends = "staging"
promote-from = "staging"
protected = true
static-bucket = "acme-web-production"
urls = { web = "https://example.com" }

[tool.shipyard.environments.production-us]
extends = "production"
region = "us-east-1"
"""


def test_an_environment_takes_what_it_does_not_set_from_the_one_it_extends(tmp_path: Path) -> None:
    project = project_with(tmp_path, EXTENDS)
    production, us = project.environment("production"), project.environment("production-us")
    assert (production["region"], production["cluster"], production["deploy-timeout"]) == (
        "eu-west-1",
        "apps-{env}",
        600,
    )
    assert production["targets"] == {"service": "ecs", "static": "static"}
    assert production["urls"] == {"web": "https://example.com"}  # a table it sets replaces the inherited one whole
    assert (production["protected"], production["static-bucket"]) == (True, "acme-web-production")
    assert (us["region"], us["protected"], us["promote-from"], us["static-bucket"]) == (
        "us-east-1", True, "staging", "acme-web-production",
    )  # fmt: skip
    assert project.environment("staging")["protected"] is False  # nothing flows the other way
    assert project.origins["production-us"]["region"] == ["production-us", "staging"]
    assert project.origins["production-us"]["protected"] == ["production"]
    assert "smoke-attempts" not in project.origins["production-us"]  # a default comes from no environment


def test_inherited_values_are_copies(tmp_path: Path) -> None:
    project = project_with(tmp_path, EXTENDS)
    project.environment("production")["targets"]["service"] = "local"
    assert project.environment("staging")["targets"]["service"] == "ecs"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[tool.shipyard.environments.production]\nextends = "stagng"\n'
            '[tool.shipyard.environments.staging]\nregion = "eu-west-1"\n',
            "pyproject.toml: tool.shipyard.environments.production.extends: unknown environment 'stagng'"
            " (did you mean 'staging'?)",
        ),
        (
            '[tool.shipyard.environments.a]\nextends = "b"\n[tool.shipyard.environments.b]\nextends = "c"\n'
            '[tool.shipyard.environments.c]\nextends = "a"\n',
            "pyproject.toml: tool.shipyard.environments.c.extends: a cycle: a -> b -> c -> a",
        ),
        (
            '[tool.shipyard.environments.a]\nextends = "a"\n',
            "pyproject.toml: tool.shipyard.environments.a.extends: a cycle: a -> a",
        ),
        (
            '[tool.shipyard.environments.staging]\npromote-from = "production"\n'
            '[tool.shipyard.environments.production]\nextends = "staging"\n',
            "pyproject.toml: tool.shipyard.environments.production.promote-from: an environment cannot promote from"
            " itself",
        ),
    ],
)
def test_extends_errors(tmp_path: Path, table: str, message: str) -> None:
    assert error(tmp_path, table) == message


def test_a_bad_value_is_reported_where_it_is_written(tmp_path: Path) -> None:
    text = '[tool.shipyard.environments.staging]\nregion = 1\n[tool.shipyard.environments.prod]\nextends = "staging"\n'
    assert (
        error(tmp_path, text) == "pyproject.toml: tool.shipyard.environments.staging.region: expected a string, got 1"
    )
