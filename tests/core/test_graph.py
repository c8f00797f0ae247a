"""The dependency graph: depends-on and [tool.uv.sources] path dependencies, text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.core import graph
from shipyard.core.errors import ConfigError
from shipyard.core.project import load_project
from tests.helpers import python_unit, run_invoke

UV_SOURCES = """
[tool.uv.sources]
base = {{ path = "{path}", editable = true }}
requests = {{ git = "https://example.com/requests" }}
"""


def add_base_lib(repo: Path, user: str = "services/b", path: str = "../../libs/base") -> None:
    python_unit(repo, "libs/base", "base", kind="lib")
    pyproject = repo / user / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + UV_SOURCES.format(path=path))


def test_path_dependency_is_an_edge(repo: Path) -> None:
    add_base_lib(repo)
    project = load_project(repo)
    assert project.units["b"].depends_on == ("base",)
    assert project.units["b"].path_sources == ("libs/base",)
    assert [u.name for u in graph.lib_closure(project, project.units["b"])] == ["base"]
    assert [u.name for u in graph.dependents(project, "base")] == ["b"]
    assert graph.edges(project) == [graph.Edge("a", "core", "depends-on"), graph.Edge("b", "base", "path")]


def test_declared_both_ways_is_one_edge(repo: Path) -> None:
    add_base_lib(repo, "services/a")
    pyproject = repo / "services" / "a" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('depends-on = ["core"]', 'depends-on = ["core", "base"]'))
    project = load_project(repo)
    assert project.units["a"].depends_on == ("core", "base")
    assert graph.Edge("a", "base", "depends-on+path") in graph.edges(project)


def test_path_dependency_on_a_service_is_an_error(repo: Path) -> None:
    pyproject = repo / "services" / "a" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + UV_SOURCES.format(path="../b"))
    with pytest.raises(ConfigError) as info:
        load_project(repo)
    assert info.value.message == "services/a/pyproject.toml: tool.uv.sources: 'services/b' is a service, not a lib"


def test_paths_outside_the_repo_are_not_units(repo: Path) -> None:
    pyproject = repo / "services" / "b" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + UV_SOURCES.format(path="../../../elsewhere"))
    assert load_project(repo).units["b"].depends_on == ()


def test_text_and_json(repo: Path) -> None:
    add_base_lib(repo)
    project = load_project(repo)
    assert graph.to_text(project).splitlines() == [
        "a (service) -> core",
        "b (service) -> base [path]",
        "base (lib)  used by: b",
        "core (lib)  used by: a",
    ]
    data = graph.to_json(project)
    assert {n["name"]: (n["uses"], n["used_by"]) for n in data["nodes"]} == {
        "a": (["core"], []),
        "b": (["base"], []),
        "base": ([], ["b"]),
        "core": ([], ["a"]),
    }
    assert data["edges"] == [
        {"from": "a", "to": "core", "via": "depends-on"},
        {"from": "b", "to": "base", "via": "path"},
    ]


def test_invoke_graph_json(repo: Path) -> None:
    out = run_invoke(repo, "graph", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["edges"] == [{"from": "a", "to": "core", "via": "depends-on"}]
