"""docker-compose.yml and the local target agree on names, ports and settings; the file is valid."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from shipyard.core.project import Project, load_project
from shipyard.deploy.target import TargetContext
from shipyard.deploy.targets.local import LocalTarget
from shipyard.settings.files import read_env_file
from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    return data["services"]


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(REPO)


def _published(service: dict[str, Any]) -> set[str]:
    return {str(p) for p in service.get("ports", [])}


def _env_example_url() -> str:
    return str(read_env_file(REPO / ".env.example", ".env.example")["DATABASE_URL"])


def test_every_deployable_unit_is_in_the_stack_on_the_local_targets_address(
    compose: dict[str, Any], project: Project
) -> None:
    local = project.environment("local")
    target = LocalTarget(TargetContext(project, "local", local))
    deployable = [u for u in project.units.values() if u.kind in local["targets"]]
    assert {u.name for u in deployable} == {"api", "worker", "web"}
    for unit in deployable:
        assert unit.name in compose, f"docker-compose.yml has no service {unit.name}"
        port, public = target.ports(unit)
        expected = {f"{public[0]}:{public[1]}:{port}"} if public else set()
        assert _published(compose[unit.name]) == expected, unit.name


def test_the_services_get_their_required_settings_and_the_same_database(
    compose: dict[str, Any], project: Project
) -> None:
    laptop = urlsplit(_env_example_url())  # what the local target uses, from the host
    for unit in (u for u in project.units.values() if u.kind == "service"):
        environment = compose[unit.name]["environment"]
        assert set(unit.settings["required-env"]) <= set(environment), unit.name
        inside = urlsplit(environment["DATABASE_URL"])  # the same database, by service name
        assert (inside.hostname, inside.port) == ("postgres", laptop.port)
        assert (inside.username, inside.password, inside.path) == (laptop.username, laptop.password, laptop.path)
    postgres = compose["postgres"]
    assert _published(postgres) == {f"{laptop.hostname}:{laptop.port}:5432"}
    assert postgres["environment"] == {
        "POSTGRES_USER": laptop.username, "POSTGRES_PASSWORD": laptop.password, "POSTGRES_DB": laptop.path.strip("/"),
    }  # fmt: skip


def test_the_registry_and_the_aws_emulator_are_where_the_environment_expects(
    compose: dict[str, Any], project: Project
) -> None:
    registry = project.environment("local")["registry"]
    assert _published(compose["registry"]) == {f"{registry}:5000"}
    assert _published(compose["moto"]) == {"127.0.0.1:5005:5000"}


def test_health_checks_use_the_units_health_path(compose: dict[str, Any], project: Project) -> None:
    api = project.unit("api")
    assert any(
        f":{api.settings['port']}{api.settings['health-path']}" in part
        for part in compose["api"]["healthcheck"]["test"]
    )


def test_docker_compose_accepts_the_file() -> None:
    require(shutil.which("docker-compose") is not None, "docker-compose")
    done = subprocess.run(["docker-compose", "--file", str(REPO / "docker-compose.yml"), "config", "--quiet"],
                          capture_output=True, text=True, cwd=REPO)  # fmt: skip
    assert done.returncode == 0, done.stderr
