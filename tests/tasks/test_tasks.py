"""The invoke layer: namespaces, per-service binding, and the error boundary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from invoke import Config, MockContext

from shipyard.core.errors import ShipyardError
from shipyard.tasks import common
from tests.helpers import make_monorepo, run_invoke, write


def context(service: str | None = None) -> MockContext:
    return MockContext(config=Config(overrides={"shipyard": {"service": service}} if service else {}))


def test_selected_defaults_to_everything(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    common._load.cache_clear()
    assert [u.name for u in common.selected(context(), None)] == ["a", "b", "core"]
    assert [u.name for u in common.selected(context(), ["b", "a", "b"])] == ["b", "a"]


def test_per_service_namespace_is_bound(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    common._load.cache_clear()
    assert [u.name for u in common.selected(context("a"), None)] == ["a"]
    with pytest.raises(ShipyardError) as info:
        common.selected(context("a"), ["b"])
    assert info.value.message == "`a.*` tasks act on a only"


def test_list_shows_top_level_and_service_namespaces(repo: Path) -> None:
    write(
        repo / "services" / "a" / "tasks.py",
        """\
        from invoke import task

        @task
        def seed(c):
            \"\"\"Load demo data.\"\"\"
            print("seeded")
        """,
    )
    out = run_invoke(repo, "--list")
    assert out.returncode == 0, out.stderr
    names = {line.split()[0] for line in out.stdout.splitlines()[2:] if line.strip()}
    assert {"ci", "lint", "test", "services", "a.test", "a.lint", "b.ci", "core.test", "a.seed"} <= names
    seeded = run_invoke(repo, "a.seed")
    assert seeded.stdout.strip() == "seeded"


def test_services_json(repo: Path) -> None:
    out = run_invoke(repo, "services", "--json")
    rows = json.loads(out.stdout)
    assert [(r["name"], r["kind"], r["depends_on"], r["skipped"]) for r in rows] == [
        ("a", "service", ["core"], None),
        ("b", "service", [], None),
        ("core", "lib", [], None),
    ]


SKIPPED_LINE = "skipped src/emailservice: has setup.py and a Dockerfile but no pyproject.toml or shipyard.toml"


def test_services_lists_skipped_directories_with_why(repo: Path) -> None:
    write(repo / "services" / "emailservice" / "setup.py", "from setuptools import setup\n\nsetup()\n")
    write(repo / "services" / "emailservice" / "Dockerfile", "FROM python:3.11-slim\n")
    out = run_invoke(repo, "services")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == SKIPPED_LINE.replace("src/", "services/")
    rows = json.loads(run_invoke(repo, "services", "--json").stdout)
    assert rows[-1]["path"] == "services/emailservice"
    assert rows[-1]["skipped"] == SKIPPED_LINE.split(": ", 1)[1]


def test_ci_with_no_unit_at_all_fails_naming_why(tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo")
    text = (repo / "pyproject.toml").read_text().replace('services = ["services/*"]', 'services = ["src/*"]')
    (repo / "pyproject.toml").write_text(text.replace('libs = ["libs/*"]', "libs = []"))
    for name in ("emailservice", "cartservice"):
        write(repo / "src" / name / "setup.py", "from setuptools import setup\n\nsetup()\n")
        write(repo / "src" / name / "Dockerfile", "FROM python:3.11-slim\n")
    listed = run_invoke(repo, "services")
    assert listed.returncode == 0, listed.stderr
    assert SKIPPED_LINE.replace("emailservice", "cartservice") in listed.stdout.splitlines()
    for task in ("ci", "test", "lint"):
        out = run_invoke(repo, task)
        assert out.returncode == 1, out.stdout
        assert out.stderr.splitlines() == [
            "error: no service or lib found: 2 matched directories, none a unit: src/cartservice: has "
            "setup.py and a Dockerfile but no pyproject.toml or shipyard.toml (and 1 more)",
            "hint: `invoke services` lists each with why; give each unit a pyproject.toml with a "
            "[tool.shipyard] table, or a shipyard.toml",
        ]


def test_unknown_service_is_one_line_and_a_hint(repo: Path) -> None:
    out = run_invoke(repo, "lint", "-s", "bb")
    assert out.returncode == 1
    assert out.stderr == "error: unknown service 'bb' (did you mean 'b'?)\nhint: known services: a, b, core\n"


def test_config_error_at_load_time(repo: Path) -> None:
    path = repo / "services" / "b" / "pyproject.toml"
    path.write_text(path.read_text().replace('kind = "service"', 'kind = "service"\nport = "80a"'))
    out = run_invoke(repo, "--list")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert 'error: services/b/pyproject.toml: tool.shipyard.port: expected an integer, got "80a"' in out.stderr


def test_broken_service_tasks_file(repo: Path) -> None:
    write(repo / "services" / "a" / "tasks.py", "import nonexistent_module\n")
    out = run_invoke(repo, "--list")
    assert out.returncode == 1
    assert "error: services/a/tasks.py: ModuleNotFoundError: No module named 'nonexistent_module'" in out.stderr


@pytest.mark.parametrize(
    "argv", [("deploy", "--lock-wait", "abc", "--plan"), ("lint", "--jobs", "x"), ("lint", "-j", "-3")]
)
def test_a_bad_number_is_one_line_and_a_hint_not_a_traceback(repo: Path, argv: tuple[str, ...]) -> None:
    done = run_invoke(repo, *argv)
    assert done.returncode == 1
    assert "is not a whole number" in done.stderr and "hint: numeric flags take" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (repo / ".shipyard").exists()  # refused before anything ran


def test_numeric_flags_still_show_as_int_in_help(repo: Path) -> None:
    assert "--lock-wait=INT" in run_invoke(repo, "--help", "deploy").stdout
    assert common.Whole("7") == 7 and common.NONE == 0


def test_a_reader_that_goes_away_ends_the_output_not_the_task(tmp_path: Path) -> None:
    """`invoke services | head -1`: the pipe closes before shipyard writes. The task still
    completes with its own status and no traceback (old: an 'unexpected BrokenPipeError',
    exit 2 — and a deploy would have stopped half-way)."""
    import subprocess
    import sys

    repo = make_monorepo(tmp_path / "repo")
    proc = subprocess.Popen(
        (sys.executable, "-m", "invoke", "services"), cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
