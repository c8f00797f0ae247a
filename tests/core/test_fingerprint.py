"""What a key or a fingerprint covers: exactly the files and settings its task reads.

Each test reproduces a false "passed (cached)" or "up to date" seen on real repositories:
untracked files, symlinks, configured files git does not track, and root pyproject edits
that no task reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shipyard.ci import pipeline as ci
from shipyard.ci.lint import lint_key, unit_tools
from shipyard.ci.pipeline import RunOptions
from shipyard.ci.sessions import install_digest
from shipyard.core import fingerprint as fp_module
from shipyard.core.fingerprint import blob_hash, file_hash, fingerprint, working_tree
from shipyard.core.project import Project, load_project
from shipyard.images.settings import image_fingerprint, static_fingerprint
from shipyard.run.keys import Inputs
from shipyard.run.results import FAILED, PASSED
from tests.helpers import git, run_invoke, write


def lint(repo: Path, *names: str) -> dict[str, tuple[str, bool]]:
    project = load_project(repo)
    results = ci.lint(project, project.select(list(names)), RunOptions(), fix=False, workflows=False)
    return {r.unit: (r.status, r.cached) for r in results}


def keys(project: Project) -> dict[str, str]:
    """Every lint and test key and every image/static fingerprint of the project."""
    inputs = Inputs.read(project)
    found = {}
    for unit in project.units.values():
        found[f"{unit.name}:lint"] = lint_key(unit, inputs, unit_tools(project, unit))
        found[f"{unit.name}:test"] = inputs.key(unit, "test", {})
        if unit.has_image:
            found[f"{unit.name}:image"] = image_fingerprint(project, unit).digest
    return found


def test_a_new_untracked_file_is_linted_not_cached(repo: Path) -> None:
    assert lint(repo, "b") == {"b": (PASSED, False)}
    assert lint(repo, "b") == {"b": (PASSED, True)}
    write(repo / "services" / "b" / "src" / "b" / "bad.py", "import os\n")  # never `git add`ed
    assert lint(repo, "b") == {"b": (FAILED, False)}


def test_a_new_untracked_failing_test_file_is_run_not_cached(repo: Path) -> None:
    project = load_project(repo)
    units = project.select(["b"])
    first = ci.test(project, units, RunOptions())
    assert [(r.status, r.cached) for r in first] == [(PASSED, False)]
    write(repo / "services" / "b" / "tests" / "test_new.py", "def test_new():\n    assert False\n")
    again = ci.test(load_project(repo), units, RunOptions())
    assert [(r.status, r.cached) for r in again] == [(FAILED, False)]


def test_ignored_files_and_tool_by_products_are_not_inputs(repo: Path) -> None:
    write(repo / ".gitignore", "*.log\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore logs")
    before = keys(load_project(repo))
    write(repo / "services" / "a" / "run.log", "ignored\n")
    # by-products a test run writes even where .gitignore forgets them: a run must not change its own key
    write(repo / "services" / "a" / "src" / "a" / "__pycache__" / "a.cpython-311.pyc", "bytecode")
    write(repo / "services" / "a" / ".pytest_cache" / "v" / "cache" / "lastfailed", "{}")
    write(repo / "services" / "a" / "src" / "a.egg-info" / "PKG-INFO", "Name: a\n")
    assert keys(load_project(repo)) == before


def test_a_symlink_counts_by_the_content_it_points_to(repo: Path) -> None:
    unit_dir = repo / "services" / "b"
    write(unit_dir / "requirements.txt", "six==1.16.0\n")
    os.symlink("requirements.txt", unit_dir / "requirements.lock")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "lock is a link")
    project = load_project(repo)
    unit = project.units["b"]
    before = (keys(project)["b:test"], install_digest(project, unit, "3.11", working_tree(repo).files))
    write(unit_dir / "requirements.txt", "six==1.17.0\n")  # the link's text is unchanged
    project = load_project(repo)
    after = (keys(project)["b:test"], install_digest(project, unit, "3.11", working_tree(repo).files))
    assert after[0] != before[0]  # the cached pass is not reused
    assert after[1] != before[1]  # and the test venv is reinstalled with the new pin
    assert working_tree(repo).links == {"services/b/requirements.lock": "requirements.txt"}


def test_configured_files_count_whether_git_tracks_or_ignores_them(repo: Path) -> None:
    write(repo / ".gitignore", "docker/\n")
    write(repo / "docker" / "b.Dockerfile", "FROM scratch\n")
    table = repo / "services" / "b" / "pyproject.toml"
    table.write_text(
        table.read_text().replace('kind = "service"', 'kind = "service"\ndockerfile = "../../docker/b.Dockerfile"')
    )
    project = load_project(repo)
    before = image_fingerprint(project, project.units["b"])
    assert ("file:docker/b.Dockerfile", file_hash(repo / "docker" / "b.Dockerfile")) in before.inputs
    write(repo / "docker" / "b.Dockerfile", "FROM scratch\nLABEL edited=1\n")
    assert image_fingerprint(project, project.units["b"]).digest != before.digest


def test_an_edited_untracked_dockerfile_changes_the_image_fingerprint(repo: Path) -> None:
    write(repo / "services" / "b" / "Dockerfile", "FROM scratch\n")  # never added
    project = load_project(repo)
    before = image_fingerprint(project, project.units["b"]).digest
    write(repo / "services" / "b" / "Dockerfile", "FROM scratch\nENV X=1\n")
    assert image_fingerprint(project, project.units["b"]).digest != before


ROOT_EDITS = {
    "an environment table": (
        "\n[tool.shipyard.environments.staging]\ntargets = { service = 'ecs' }\nsubnets = ['subnet-1']\n"
    ),
    "a comment": "\n# a comment nobody reads\n",
    "an unrelated tool's table": "\n[tool.black]\nline-length = 88\n",
}


@pytest.mark.parametrize("edit", list(ROOT_EDITS))
def test_root_pyproject_edits_no_task_reads_change_no_key(repo: Path, edit: str) -> None:
    before = keys(load_project(repo))
    with open(repo / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write(ROOT_EDITS[edit])
    assert keys(load_project(repo)) == before


def test_a_changed_subnet_changes_no_key(repo: Path) -> None:
    with open(repo / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write("\n[tool.shipyard.environments.staging]\ntargets = { service = 'ecs' }\nsubnets = ['subnet-1']\n")
    before = keys(load_project(repo))
    path = repo / "pyproject.toml"
    path.write_text(path.read_text().replace("subnet-1", "subnet-2"))
    assert keys(load_project(repo)) == before


def test_the_root_sections_a_task_reads_change_its_key_only(repo: Path) -> None:
    before = keys(load_project(repo))
    path = repo / "pyproject.toml"
    path.write_text(path.read_text().replace("line-length = 100", "line-length = 80"))  # [tool.ruff]
    after = keys(load_project(repo))
    changed = sorted(k for k in before if before[k] != after[k])
    assert changed == ["a:lint", "b:lint", "core:lint"]
    write(repo / "ruff.toml", "line-length = 90\n")  # a root ruff.toml is read by ruff too
    assert keys(load_project(repo))["b:lint"] != after["b:lint"]
    write(repo / "noxfile.py", "import nox\n\nfrom shipyard.sessions import register\n\nregister(nox)\n# changed\n")
    final = keys(load_project(repo))
    assert final["b:test"] != after["b:test"] and final["b:image"] == after["b:image"]


def test_a_static_units_own_output_is_not_its_input(repo: Path) -> None:
    write(repo / "services" / "site" / "shipyard.toml", 'kind = "static"\nbuild = ["true"]\n')
    git(repo, "add", "-A")
    project = load_project(repo)
    before = static_fingerprint(project, project.units["site"]).digest
    write(repo / "services" / "site" / "dist" / "index.html", "<p>built</p>\n")  # untracked output
    assert static_fingerprint(project, project.units["site"]).digest == before


def test_another_shipyard_source_is_another_key(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = keys(load_project(repo))
    monkeypatch.setattr("shipyard.run.keys.shipyard_source", lambda: "another shipyard")
    after = keys(load_project(repo))
    assert all(after[k] != before[k] for k in before if not k.endswith(":image"))


def test_big_files_are_hashed_in_chunks_to_gits_blob_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(100_000)
    (tmp_path / "big.bin").write_bytes(data)
    monkeypatch.setattr(fp_module, "CHUNK", 4096)
    assert file_hash(tmp_path / "big.bin") == blob_hash(data)


def test_a_non_utf8_file_name_is_an_input_not_a_crash(repo: Path) -> None:
    name = os.fsdecode(b"services/b/caf\xe9.txt")
    (repo / name).write_bytes(b"x\n")
    tree = working_tree(repo)
    assert name in tree.files and name in tree.untracked
    project = load_project(repo)
    assert fingerprint(project, project.units["b"], files=tree.files).digest


def test_invoke_fingerprint_lists_untracked_inputs_and_symlink_targets(repo: Path) -> None:
    write(repo / "services" / "b" / "notes.md", "new\n")
    os.symlink("notes.md", repo / "services" / "b" / "README.md")
    done = run_invoke(repo, "fingerprint", "-s", "b", "--json")
    assert done.returncode == 0, done.stderr
    rows = {i["input"]: i for i in json.loads(done.stdout)[0]["inputs"]}
    assert rows["services/b/notes.md"]["untracked"] is True
    assert rows["services/b/README.md"]["link"] == "notes.md"
    assert rows["services/b/README.md"]["hash"] == rows["services/b/notes.md"]["hash"]
    text = run_invoke(repo, "fingerprint", "-s", "b").stdout
    assert "services/b/README.md" in text and "(untracked, -> notes.md)" in text
