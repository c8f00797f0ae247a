"""--since: which units changed between a git ref and the working tree, and why."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shipyard.core.affected import ZERO, Affected, affected, changed_paths
from shipyard.core.errors import ShipyardError
from shipyard.core.fingerprint import tracked_files
from shipyard.core.project import load_project
from tests.helpers import git, python_unit, run_invoke, write


def since(repo: Path, ref: str = "HEAD") -> Affected:
    return affected(load_project(repo), ref, tracked_files(repo))


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def test_nothing_changed(repo: Path) -> None:
    assert since(repo) == Affected("HEAD", {})
    assert since(repo).describe() == "nothing affected since HEAD"


def test_service_change_uncommitted(repo: Path) -> None:
    write(repo / "services" / "b" / "src" / "b" / "__init__.py", "VALUE = 2\n")
    assert since(repo).reasons == {"b": "services/b/src/b/__init__.py changed"}


def test_service_change_committed(repo: Path) -> None:
    write(repo / "services" / "b" / "src" / "b" / "extra.py", "X = 1\n")
    write(repo / "services" / "b" / "tests" / "test_extra.py", "def test_x():\n    pass\n")
    commit(repo)
    assert since(repo, "HEAD~1").reasons == {"b": "services/b/src/b/extra.py and 1 more file(s) changed"}
    assert since(repo, "HEAD").reasons == {}


def test_lib_change_selects_its_users(repo: Path) -> None:
    write(repo / "libs" / "core" / "src" / "core" / "__init__.py", "VALUE = 2\n")
    found = since(repo)
    assert found.reasons == {"a": "uses lib core, which changed", "core": "libs/core/src/core/__init__.py changed"}
    assert found.describe().splitlines() == [
        "affected since HEAD: 2 unit(s)",
        "  a: uses lib core, which changed",
        "  core: libs/core/src/core/__init__.py changed",
    ]


def test_root_config_change_selects_everything_and_says_why(repo: Path) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("line-length = 100", "line-length = 99"))
    found = since(repo)
    why = "pyproject.toml changed: the root configuration affects every unit"
    assert found.reasons == {"a": why, "b": why, "core": why}


def test_new_root_lock_file_selects_everything(repo: Path) -> None:
    write(repo / "uv.lock", "version = 1\n")
    commit(repo)
    assert set(since(repo, "HEAD~1").reasons) == {"a", "b", "core"}


def test_deleted_service(repo: Path) -> None:
    git(repo, "rm", "-rq", "services/b")
    commit(repo, "drop b")
    found = since(repo, "HEAD~1")
    assert found.reasons == {}
    assert found.notes == ("services/b was removed or is no longer a unit: nothing to run for it",)


def test_renamed_file_between_units_selects_both(repo: Path) -> None:
    git(repo, "mv", "services/b/src/b/__init__.py", "services/a/src/a/moved.py")
    commit(repo, "move")
    assert since(repo, "HEAD~1").reasons == {
        "a": "services/a/src/a/moved.py changed",
        "b": "services/b/src/b/__init__.py changed",
    }


def test_renamed_file_inside_a_unit(repo: Path) -> None:
    git(repo, "mv", "services/b/tests/test_b.py", "services/b/tests/test_renamed.py")
    assert since(repo).reasons == {"b": "services/b/tests/test_b.py and 1 more file(s) changed"}


def test_untracked_files_count_ignored_ones_do_not(repo: Path) -> None:
    # ruff and pytest read a new, not yet added file: it is a change
    write(repo / "services" / "b" / "src" / "b" / "new.py", "import os\n")
    write(repo / "services" / "a" / "scratch.log", "ignored\n")
    write(repo / ".gitignore", "*.log\n__pycache__/\n")
    write(repo / "services" / "a" / "src" / "a" / "__pycache__" / "x.pyc", "bytecode")
    assert since(repo).reasons == {"b": "services/b/src/b/new.py changed"}


def test_files_outside_units_select_nothing(repo: Path) -> None:
    write(repo / "docs" / "index.md", "# docs\n")
    commit(repo)
    assert since(repo, "HEAD~1") == Affected("HEAD~1", {})


def test_new_service(repo: Path) -> None:
    python_unit(repo, "services/c", "c")
    commit(repo)
    assert since(repo, "HEAD~1").reasons == {"c": "services/c/pyproject.toml and 2 more file(s) changed"}


def test_missing_ref_names_the_fix(repo: Path) -> None:
    with pytest.raises(ShipyardError) as info:
        since(repo, "origin/main")
    assert info.value.message == (
        "--since origin/main: cannot find 'origin/main' (no such commit, branch or tag here), "
        "so the affected units cannot be computed"
    )
    assert "fetch-depth: 0" in (info.value.hint or "")


def test_shallow_clone_says_so(repo: Path, tmp_path: Path) -> None:
    write(repo / "services" / "b" / "src" / "b" / "__init__.py", "VALUE = 2\n")
    commit(repo)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    with pytest.raises(ShipyardError) as info:
        since(clone, "HEAD~1")
    assert "this is a shallow clone without it" in info.value.message


def test_changed_paths() -> None:
    before = {"a": "1", "b": "2", "c": "3"}
    after = {"a": "1", "b": "9", "d": "4"}
    assert changed_paths(before, after) == ["b", "c", "d"]


def test_since_on_a_task_prints_why_and_runs_only_that(repo: Path) -> None:
    write(repo / "services" / "b" / "src" / "b" / "__init__.py", "VALUE = 2\n")
    out = run_invoke(repo, "lint", "--since", "HEAD")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "affected since HEAD: 1 unit(s)\n  b: services/b/src/b/__init__.py changed\n" in out.stderr
    summary = out.stdout.split("unit  task", 1)[1]
    assert "\nb     lint" in summary and "\na " not in summary
    missing = run_invoke(repo, "test", "--since", "nope")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: --since nope: cannot find 'nope'")


@pytest.fixture
def clone(repo: Path, tmp_path: Path) -> Path:
    """A clone of ``repo`` (its origin, default branch main), as actions/checkout with fetch-depth 0 leaves it."""
    git(repo, "branch", "-M", "main")
    path = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"file://{repo}", str(path)], check=True)
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "T")
    return path


def test_a_new_branchs_first_push_compares_with_the_merge_base(clone: Path) -> None:
    git(clone, "checkout", "-q", "-b", "feature")
    write(clone / "services" / "b" / "src" / "b" / "__init__.py", "VALUE = 2\n")
    commit(clone)
    write(clone / "services" / "b" / "src" / "b" / "more.py", "X = 1\n")
    commit(clone)  # two commits on the branch: both count, not only the last one
    found = since(clone, ZERO)
    assert found.reasons == {"b": "services/b/src/b/__init__.py and 1 more file(s) changed"}
    base = git(clone, "rev-parse", "origin/main").strip()
    assert found.notes == (
        f"a new branch's first push: compared with the merge base of HEAD and origin/main ({base[:12]})",
    )


def test_a_first_push_of_the_default_branch_itself_selects_everything(clone: Path) -> None:
    found = since(clone, ZERO)
    assert set(found.names) == {"a", "b", "core"}
    assert found.notes == ("a new branch's first push, and no other branch to compare with: every unit is selected",)


def test_a_force_pushed_away_commit_compares_with_the_merge_base(clone: Path) -> None:
    git(clone, "checkout", "-q", "-b", "feature")
    write(clone / "libs" / "core" / "src" / "core" / "__init__.py", "VALUE = 3\n")
    commit(clone)
    gone = "ab" * 20  # the branch's old tip, rewritten by a force-push and never fetched
    found = since(clone, gone)
    assert set(found.names) == {"a", "core"}  # core, and a that uses it
    assert found.notes[0].startswith(f"{gone[:12]} is not in this clone (a force-push?): compared with the merge base")
