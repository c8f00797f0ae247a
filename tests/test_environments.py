"""Environments: the implicit `local`, and checks beyond the schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.project import load_project
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
            "pyproject.toml: tool.shipyard.environments.prod.targets.service: unknown target 'ec2' "
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
    ],
)
def test_environment_errors(tmp_path: Path, table: str, message: str) -> None:
    assert error(tmp_path, table) == message


def test_default_environment_must_exist(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", BASE.replace("libs = []", 'libs = []\ndefault-environment = "dev"'))
    with pytest.raises(ShipyardError) as info:
        load_project(tmp_path)
    assert info.value.message == "pyproject.toml: tool.shipyard.default-environment: unknown environment 'dev'"
