from __future__ import annotations

import pytest

from shipyard.core.config import UNIT_FIELDS
from shipyard.core.errors import ConfigError
from shipyard.core.schema import Field, validate

SRC = "services/api/pyproject.toml"


def check(table: object) -> dict[str, object]:
    return validate(table, UNIT_FIELDS, SRC, "tool.shipyard")


def error(table: object) -> str:
    with pytest.raises(ConfigError) as info:
        check(table)
    return info.value.message


def test_defaults_are_filled_in() -> None:
    out = check({"port": 8000})
    assert out["port"] == 8000
    assert out["kind"] == "service"
    assert out["depends-on"] == []


def test_wrong_type_names_file_and_key_path() -> None:
    assert error({"port": "80a"}) == 'services/api/pyproject.toml: tool.shipyard.port: expected an integer, got "80a"'


def test_bool_is_not_an_integer() -> None:
    assert error({"cpu": True}) == "services/api/pyproject.toml: tool.shipyard.cpu: expected an integer, got true"


def test_unknown_key_gets_did_you_mean() -> None:
    with pytest.raises(ConfigError) as info:
        check({"prot": 1})
    assert info.value.message == "services/api/pyproject.toml: tool.shipyard.prot: unknown key (did you mean 'port'?)"
    assert "known keys:" in (info.value.hint or "")


def test_choices_are_enforced() -> None:
    assert error({"kind": "servise"}) == (
        "services/api/pyproject.toml: tool.shipyard.kind: expected one of service, static, lib, "
        "got \"servise\" (did you mean 'service'?)"
    )


def test_list_of_strings() -> None:
    assert error({"depends-on": ["a", 1]}) == (
        'services/api/pyproject.toml: tool.shipyard.depends-on: expected a list of strings, got ["a", 1]'
    )


def test_nested_tables_report_full_path() -> None:
    fields = {"environments": Field("table", {}, each={"cluster": Field("str", "")})}
    with pytest.raises(ConfigError) as info:
        validate({"environments": {"prod": {"clustr": "x"}}}, fields, "pyproject.toml", "tool.shipyard")
    assert info.value.message == (
        "pyproject.toml: tool.shipyard.environments.prod.clustr: unknown key (did you mean 'cluster'?)"
    )


def test_bare_table_paths_for_standalone_files() -> None:
    with pytest.raises(ConfigError) as info:
        validate({"output": 3}, UNIT_FIELDS, "services/web/shipyard.toml", "")
    assert info.value.message == "services/web/shipyard.toml: output: expected a string, got 3"
