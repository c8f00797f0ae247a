"""Per-service namespaces are built only when the command line can use them."""

from __future__ import annotations

from pathlib import Path

from shipyard.core.project import load_project
from shipyard.tasks.assemble import build_namespace, wanted_units
from tests.helpers import run_invoke


def test_wanted_units(repo: Path) -> None:
    project = load_project(repo)
    invoke = "/venv/bin/invoke"
    assert wanted_units(project, [invoke, "ci"]) == set()
    assert wanted_units(project, [invoke, "ci", "-s", "a"]) == set()
    assert wanted_units(project, [invoke, "a.test", "b.lint", "--since", "origin/main"]) == {"a", "b"}
    assert wanted_units(project, [invoke, "nope.test"]) == set()
    assert wanted_units(project, ["/usr/lib/python3/site-packages/invoke/__main__.py", "core.ci"]) == {"core"}
    for listing in (["--list"], ["-l"], ["--list=a"], ["--complete", "--", "invoke", "a."], ["-h", "ci"]):
        assert wanted_units(project, [invoke, *listing]) is None
    assert wanted_units(project, ["/venv/bin/pytest", "ci"]) is None  # not invoke's command line


def test_namespace_with_and_without_service_namespaces(repo: Path) -> None:
    project = load_project(repo)
    full = build_namespace(project)
    assert {"a", "b", "core"} <= set(full.collections)
    assert set(build_namespace(project, {"a"}).collections) & {"a", "b", "core"} == {"a"}
    assert build_namespace(project, set()).task_names.keys() >= {"ci", "lint", "test", "graph", "matrix"}


def test_service_tasks_still_run(repo: Path) -> None:
    out = run_invoke(repo, "b.lint")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "\nb     lint" in out.stdout
