from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shipyard.core.config import UNIT_FIELDS
from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.graph import dependents, lib_closure
from shipyard.core.project import Skipped, find_root, load_project, shipyard_dir
from tests.helpers import git, python_unit, run_invoke, write


def message(root: Path) -> str:
    with pytest.raises(ShipyardError) as info:
        load_project(root)
    return info.value.message


def test_discovers_services_and_libs(repo: Path) -> None:
    project = load_project(repo)
    assert list(project.units) == ["a", "b", "core"]
    assert [u.name for u in project.services] == ["a", "b"]
    assert project.units["a"].depends_on == ("core",)
    assert project.units["core"].kind == "lib"
    assert project.units["a"].source == "services/a/pyproject.toml"


def test_find_root_walks_up(repo: Path) -> None:
    assert find_root(repo / "services" / "a" / "src") == repo


def test_find_root_outside_a_monorepo(tmp_path: Path) -> None:
    with pytest.raises(ShipyardError) as info:
        find_root(tmp_path)
    assert "no pyproject.toml with a [tool.shipyard] table" in info.value.message


def test_standalone_shipyard_toml(repo: Path) -> None:
    write(repo / "services" / "site" / "shipyard.toml", 'kind = "static"\ntest = ["true"]\n')
    unit = load_project(repo).units["site"]
    assert (unit.kind, unit.is_python, unit.source) == ("static", False, "services/site/shipyard.toml")


def test_wrong_type_in_a_unit(repo: Path) -> None:
    python_unit(repo, "services/b", "b", extra_table='port = "80a"')
    assert message(repo) == 'services/b/pyproject.toml: tool.shipyard.port: expected an integer, got "80a"'


def test_unknown_key_in_root(repo: Path) -> None:
    text = (repo / "pyproject.toml").read_text().replace('libs = ["libs/*"]', 'libs = ["libs/*"]\nservics = []')
    (repo / "pyproject.toml").write_text(text)
    assert message(repo) == "pyproject.toml: tool.shipyard.servics: unknown key (did you mean 'services'?)"


def test_duplicate_names(repo: Path) -> None:
    python_unit(repo, "services/c", "c", extra_table='name = "b"')
    assert message(repo) == "duplicate service name 'b': services/b and services/c"


def test_missing_literal_directory(repo: Path) -> None:
    text = (repo / "pyproject.toml").read_text().replace('libs = ["libs/*"]', 'libs = ["libs/*", "vendor/x"]')
    (repo / "pyproject.toml").write_text(text)
    assert message(repo) == "pyproject.toml: tool.shipyard.libs: directory 'vendor/x' does not exist"


def test_unknown_dependency(repo: Path) -> None:
    python_unit(repo, "services/b", "b", depends_on=["cor"])
    assert message(repo) == "services/b/pyproject.toml: depends-on: unknown lib 'cor'"


def test_depending_on_a_service(repo: Path) -> None:
    python_unit(repo, "services/b", "b", depends_on=["a"])
    assert message(repo) == "services/b/pyproject.toml: depends-on: 'a' is a service, not a lib"


def test_invalid_toml(repo: Path) -> None:
    (repo / "services" / "b" / "pyproject.toml").write_text("[tool.shipyard\n")
    assert message(repo).startswith("services/b/pyproject.toml: invalid TOML:")


def test_a_pyproject_without_a_shipyard_table_is_a_unit_of_its_globs_kind(repo: Path) -> None:
    """[tool.shipyard] is for overrides: a team's existing pyproject.toml is enough."""
    (repo / "services" / "b" / "pyproject.toml").write_text('[project]\nname = "b"\nrequires-python = ">=3.10"\n')
    (repo / "libs" / "core" / "pyproject.toml").write_text('[project]\nname = "core"\n')
    project = load_project(repo)
    b, core = project.unit("b"), project.unit("core")
    assert (b.kind, b.is_python, b.requires_python, b.settings["checks"]) == ("service", True, ">=3.10", ["ruff"])
    assert (core.kind, core.is_lib) == ("lib", True)


def test_bad_service_name(repo: Path) -> None:
    python_unit(repo, "services/Bad_Name", "bad")
    assert "service name 'Bad_Name' must be lowercase" in message(repo)


def test_leftover_directory_of_a_deleted_service_is_skipped_with_why(repo: Path) -> None:
    shutil.rmtree(repo / "services" / "b")
    (repo / "services" / "b" / "__pycache__").mkdir(parents=True)
    project = load_project(repo)
    assert list(project.units) == ["a", "core"]
    assert project.skipped == (Skipped("services/b", "service", "no pyproject.toml or shipyard.toml"),)


def test_a_directory_that_is_not_a_unit_says_what_it_has(repo: Path) -> None:
    write(repo / "services" / "emailservice" / "setup.py", "from setuptools import setup\n\nsetup()\n")
    write(repo / "services" / "emailservice" / "Dockerfile", "FROM python:3.11-slim\n")
    (repo / "services" / "empty").mkdir()
    assert load_project(repo).skipped == (
        Skipped("services/emailservice", "service", EMAIL_REASON),
        Skipped("services/empty", "service", "empty directory"),
    )


EMAIL_REASON = "has setup.py and a Dockerfile but no pyproject.toml or shipyard.toml"


@pytest.mark.parametrize(
    ("folder", "key", "line", "error"),
    [
        ("services/b", "build", 'build = ["make"]', "services/b/pyproject.toml: tool.shipyard.build: does nothing"),
        ("services/b", "lint", 'lint = ["flake8"]', "services/b/pyproject.toml: tool.shipyard.lint: does nothing"),
        ("libs/core", "port", "port = 80", "libs/core/pyproject.toml: tool.shipyard.port: does nothing"),
    ],
)
def test_a_key_that_does_nothing_in_the_unit_is_an_error(
    repo: Path, folder: str, key: str, line: str, error: str
) -> None:
    path = repo / folder / "pyproject.toml"
    path.write_text(path.read_text().replace("[tool.shipyard]\n", f"[tool.shipyard]\n{line}\n"))
    with pytest.raises(ConfigError) as info:
        load_project(repo)
    assert info.value.message.startswith(error)
    assert info.value.hint == f"`{key}` applies to {UNIT_FIELDS[key].scope()} only; remove it"


def test_keys_of_a_static_unit_apply_to_it(repo: Path) -> None:
    write(repo / "services" / "site" / "shipyard.toml", 'kind = "static"\nbuild = ["make"]\nlint = ["true"]\n')
    assert load_project(repo).units["site"].settings["build"] == ["make"]
    write(repo / "services" / "site" / "shipyard.toml", 'kind = "static"\nport = 80\n')
    assert message(repo) == "services/site/shipyard.toml: port: does nothing in a non-Python static unit"


def test_the_schema_says_where_each_unit_key_applies() -> None:
    assert UNIT_FIELDS["build"].scope() == "static units"
    assert UNIT_FIELDS["lint"].scope() == "non-Python units"
    assert UNIT_FIELDS["depends-on"].scope() == ""
    assert UNIT_FIELDS["cpu"].applies("service", True) and not UNIT_FIELDS["cpu"].applies("lib", True)


def test_unknown_service_suggests(repo: Path) -> None:
    with pytest.raises(ShipyardError) as info:
        load_project(repo).select(["aa"])
    assert info.value.message == "unknown service 'aa' (did you mean 'a'?)"
    assert info.value.hint == "known services: a, b, core"


def test_unknown_environment_suggests(repo: Path) -> None:
    with pytest.raises(ShipyardError) as info:
        load_project(repo).environment("locl")
    assert info.value.message == "unknown environment 'locl' (did you mean 'local'?)"


def test_lib_closure_and_dependents(repo: Path) -> None:
    python_unit(repo, "libs/base", "base", kind="lib")
    python_unit(repo, "libs/core", "core", kind="lib", depends_on=["base"])
    project = load_project(repo)
    assert [u.name for u in lib_closure(project, project.units["a"])] == ["base", "core"]
    assert [u.name for u in dependents(project, "base")] == ["a", "core"]


def test_dependency_cycle(repo: Path) -> None:
    python_unit(repo, "libs/base", "base", kind="lib", depends_on=["core"])
    python_unit(repo, "libs/core", "core", kind="lib", depends_on=["base"])
    project = load_project(repo)
    with pytest.raises(ConfigError) as info:
        lib_closure(project, project.units["a"])
    assert info.value.message == "dependency cycle: a -> core -> base -> core"


@pytest.mark.parametrize("glob", ["../*", "services/../services/*", "/etc/*"])
def test_a_glob_that_leaves_the_repository_or_re_enters_it_is_refused(repo: Path, tmp_path: Path, glob: str) -> None:
    python_unit(tmp_path, "outside", "outside")  # a unit-shaped directory next to the repository
    root = repo / "pyproject.toml"
    root.write_text(root.read_text().replace('services = ["services/*"]', f"services = [{glob!r}]"))
    assert message(repo) == (
        f"pyproject.toml: tool.shipyard.services: {glob!r} must be a path inside the repository without '..'"
    )
    done = run_invoke(repo, "services")
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_a_unit_directory_linked_outside_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    python_unit(tmp_path, "elsewhere/c", "c")
    (repo / "services" / "c").symlink_to(tmp_path / "elsewhere" / "c")
    assert message(repo).startswith("pyproject.toml: tool.shipyard.services: services/c is a link to ")


@pytest.mark.parametrize("rel", ["pyproject.toml", "services/b/pyproject.toml"])
def test_a_non_utf8_byte_in_a_pyproject_is_a_clear_error(repo: Path, rel: str) -> None:
    path = repo / rel
    path.write_bytes(path.read_bytes() + b"\n# caf\xe9\n")
    assert message(repo).startswith(f"{rel}: not UTF-8 (byte 0xe9 at offset ")
    done = run_invoke(repo, "services")
    assert done.returncode == 1 and "hint: TOML files are UTF-8" in done.stderr and "Traceback" not in done.stderr


def test_the_state_directory_ignores_itself(repo: Path) -> None:
    """Whatever shipyard keeps in the tree (here a local deploy ledger) stays out of git status."""
    from shipyard.deploy.session import open_store

    project = load_project(repo)
    open_store(project, "local", project.environment("local")).put("probe", b"1", if_absent=True)
    assert (repo / ".shipyard" / "state" / "local").is_dir()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert shipyard_dir(repo) == repo / ".shipyard"  # an existing .gitignore is left as it is
