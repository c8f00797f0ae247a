"""Which build/push jobs `invoke ci` and `invoke build`/`push` create (no Docker needed to plan them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import ShipyardError
from shipyard.core.project import load_project
from shipyard.images.jobs import build_jobs, ci_jobs, push_jobs
from tests.helpers import write


def test_ci_builds_only_services_with_a_dockerfile(repo: Path) -> None:
    project = load_project(repo)
    assert ci_jobs(project, project.select(None)) == []
    write(repo / "services" / "a" / "Dockerfile", "FROM scratch\n")
    jobs = ci_jobs(project, project.select(None))
    assert [(j.unit, j.task, j.action is not None) for j in jobs] == [("a", "build", True)]
    pushes = ci_jobs(project, project.select(None), push_env="local")
    assert [(j.unit, j.task) for j in pushes] == [("a", "push")]


def test_ci_runs_the_build_of_static_units_and_pushes_none(repo: Path) -> None:
    """A static site's build is part of `invoke ci`: a frontend whose build breaks fails CI."""
    write(repo / "services" / "site" / "shipyard.toml", 'kind = "static"\nbuild = ["true"]\n')
    write(repo / "services" / "a" / "Dockerfile", "FROM scratch\n")
    project = load_project(repo)
    jobs = ci_jobs(project, project.select(None))
    assert [(j.unit, j.task, j.action is not None) for j in jobs] == [("site", "build", True), ("a", "build", True)]
    pushes = ci_jobs(project, project.select(None), push_env="local")
    assert [(j.unit, j.task) for j in pushes] == [("site", "build"), ("a", "push")]
    assert ci_jobs(project, [project.unit("b")]) == []


def test_build_and_push_jobs_skip_libs_and_push_skips_static(repo: Path) -> None:
    write(repo / "services" / "site" / "shipyard.toml", 'kind = "static"\nbuild = ["true"]\n')
    project = load_project(repo)
    builds = {j.unit: j for j in build_jobs(project, project.select(None))}
    assert builds["core"].skip.startswith("a lib")
    assert builds["site"].action is not None and not builds["site"].skip
    pushes = {j.unit: j for j in push_jobs(project, project.select(None), "local")}
    assert pushes["site"].skip == "static: no image (its output is deployed as is)"
    assert pushes["a"].action is not None


def test_push_to_an_environment_without_registry(repo: Path) -> None:
    write(repo / "pyproject.toml", (repo / "pyproject.toml").read_text() + "\n[tool.shipyard.environments.bare]\n")
    with pytest.raises(ShipyardError, match="environment 'bare' has no registry"):
        push_jobs(load_project(repo), [], "bare")
