"""The result cache: keys, the local store, hit/miss transitions, and S3 (moto) sharing."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from shipyard.ci import pipeline as ci
from shipyard.ci.pipeline import RunOptions
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, load_project
from shipyard.run.cache import CacheConfig, LocalStore, ResultCache, S3Reader, S3Store, remote_store, to_record
from shipyard.run.keys import Inputs
from shipyard.run.results import FAILED, PASSED, SKIPPED, Result
from tests.helpers import git, write


@pytest.fixture(autouse=True)
def outside_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The S3 mode follows the branch (GitHub Actions' variables first): the runner's must not leak in."""
    for name in ("GITHUB_ACTIONS", "GITHUB_EVENT_NAME", "GITHUB_REF", "SHIPYARD_CACHE_S3_MODE"):
        monkeypatch.delenv(name, raising=False)


def lint(repo: Path, **options: object) -> dict[str, Result]:
    project = load_project(repo)
    results = ci.lint(project, project.select([]), RunOptions(**options), fix=False, workflows=False)  # type: ignore[arg-type]
    return {r.unit: r for r in results}


def key(project: Project, unit: str, task: str = "lint") -> str:
    return Inputs.read(project).key(project.units[unit], task, {"tool": "1"})


def test_local_store_round_trip(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    record = to_record(Result("a", "lint", PASSED, 1.5, output="ok\n"), "k" * 64)
    store.put("lint", "k" * 64, record)
    assert store.get("lint", "k" * 64) == record
    assert store.path("lint", "k" * 64) == tmp_path / "lint" / "kk" / f"{'k' * 64}.json"
    store.path("lint", "k" * 64).write_text("{not json")
    assert store.get("lint", "k" * 64) is None


def test_only_passed_results_are_stored(tmp_path: Path) -> None:
    cache = ResultCache(LocalStore(tmp_path))
    cache.store("lint", "a" * 64, Result("a", "lint", FAILED, 1.0))
    cache.store("lint", "b" * 64, Result("b", "lint", SKIPPED))
    cache.store("lint", "c" * 64, Result("c", "lint", PASSED, cached=True))
    cache.store("lint", "d" * 64, Result("d", "lint", PASSED, 2.0, output="fine\n"))
    found = cache.lookup([("lint", k * 64) for k in "abcd"])
    assert list(found) == ["d" * 64]
    hit = found["d" * 64]
    assert (hit.unit, hit.status, hit.cached, hit.output, hit.duration) == ("d", PASSED, True, "fine\n", 0.0)
    assert hit.details["cached_duration"] == 2.0
    assert ResultCache(LocalStore(tmp_path), read=False).lookup([("lint", "d" * 64)]) == {}


def test_key_follows_content_not_place(repo: Path, tmp_path: Path) -> None:
    project = load_project(repo)
    before = {u: key(project, u) for u in ("a", "b", "core")}
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    assert {u: key(load_project(clone), u) for u in ("a", "b", "core")} == before
    write(repo / "libs" / "core" / "src" / "core" / "__init__.py", "VALUE = 2\n")
    after = {u: key(load_project(repo), u) for u in ("a", "b", "core")}
    assert after["b"] == before["b"]
    assert after["core"] != before["core"]
    assert after["a"] != before["a"]  # a uses core: by default a key covers the unit's libs


def test_lint_key_ignores_libs_test_key_does_not(repo: Path) -> None:
    project = load_project(repo)
    unit = project.units["a"]
    lint_before = Inputs.read(project).key(unit, "lint", {}, include_libs=False)
    test_before = Inputs.read(project).key(unit, "test", {})
    write(repo / "libs" / "core" / "src" / "core" / "__init__.py", "VALUE = 2\n")
    project = load_project(repo)
    unit = project.units["a"]
    assert Inputs.read(project).key(unit, "lint", {}, include_libs=False) == lint_before
    assert Inputs.read(project).key(unit, "test", {}) != test_before
    assert Inputs.read(project).key(unit, "test", {"ruff": "2"}) != Inputs.read(project).key(unit, "test", {})


def test_lint_hit_and_miss(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = lint(repo)
    assert {u: (r.status, r.cached) for u, r in first.items()} == {
        "a": (PASSED, False),
        "b": (PASSED, False),
        "core": (PASSED, False),
    }
    second = lint(repo)
    assert all(r.cached and r.status == PASSED for r in second.values())
    assert "3 result(s) from the cache: nothing to run" in capsys.readouterr().out
    write(repo / "services" / "b" / "src" / "b" / "__init__.py", "VALUE = 2\n")
    third = lint(repo)
    assert {u: r.cached for u, r in third.items()} == {"a": True, "b": False, "core": True}
    forced = lint(repo, cache=False)
    assert not any(r.cached for r in forced.values())


def test_failures_are_not_cached(repo: Path) -> None:
    write(repo / "services" / "b" / "src" / "b" / "bad.py", "import os\n")
    git(repo, "add", "-A")
    assert lint(repo)["b"].status == FAILED
    again = lint(repo)["b"]
    assert (again.status, again.cached) == (FAILED, False)


def test_test_task_is_cached_and_replayed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        repo / "services" / "site" / "shipyard.toml",
        'kind = "static"\ntest = ["sh", "-c", "echo ran >> ../../ran.txt; echo tested"]\n',
    )
    git(repo, "add", "-A")
    project = load_project(repo)
    units = project.select(["site"])
    ci.test(project, units, RunOptions())
    replayed = ci.test(project, units, RunOptions(replay=True))
    assert [(r.unit, r.cached) for r in replayed] == [("site", True)]
    assert (repo / "ran.txt").read_text() == "ran\n"  # the second run did not run the command
    assert "── site test (cached output) ──" in capsys.readouterr().out


def test_cache_mode_from_environment(repo: Path) -> None:
    project = load_project(repo)
    assert CacheConfig.of(project, {}).mode == "off"  # auto, with no bucket to read or write
    assert CacheConfig.of(project, {"SHIPYARD_CACHE_S3_MODE": "read-only"}).mode == "read-only"
    with pytest.raises(ShipyardError) as info:
        CacheConfig.of(project, {"SHIPYARD_CACHE_S3_MODE": "readonly"})
    assert "expected one of auto, read-write, read-only, off" in info.value.message


def test_read_only_store_has_no_way_to_write(tmp_path: Path) -> None:
    reader = remote_store(CacheConfig(tmp_path, "bucket", "p", "read-only"))
    assert type(reader) is S3Reader and not hasattr(reader, "put")
    assert type(remote_store(CacheConfig(tmp_path, "bucket", "p", "read-write"))) is S3Store
    assert remote_store(CacheConfig(tmp_path, "bucket", "p", "off")) is None
    assert remote_store(CacheConfig(tmp_path, "", "p", "read-write")) is None


S3_TABLE = """
[tool.shipyard.cache]
s3-bucket = "{bucket}"
s3-prefix = "ci/cache"
"""


def s3_repo(repo: Path, *, create: bool = True) -> str:
    """Point ``repo``'s cache at a new bucket of its own (moto's state outlives a test)."""
    import boto3

    bucket = f"results-{uuid.uuid4().hex[:12]}"
    if create:
        boto3.client("s3").create_bucket(Bucket=bucket)
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text() + S3_TABLE.format(bucket=bucket))
    git(repo, "commit", "-qam", "share the cache")
    return bucket


def bucket_keys(bucket: str, task: str = "") -> list[str]:
    """The bucket's keys (of ``task``'s records: ci/cache/<task>/...)."""
    import boto3

    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []) if o["Key"].startswith(f"ci/cache/{task}"))


@pytest.mark.integration
def test_s3_written_by_one_checkout_hit_by_a_fresh_clone(repo: Path, tmp_path: Path, aws: str) -> None:
    bucket = s3_repo(repo)
    assert all(not r.cached for r in lint(repo).values())
    assert len(bucket_keys(bucket, "lint/")) == 3
    assert len(bucket_keys(bucket, "gate/")) == 3  # what the passes vouch for (shipyard.ci.gate)
    assert len(bucket_keys(bucket)) == 6
    clone = tmp_path / "elsewhere" / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    hits = lint(clone)
    assert {u: (r.cached, r.details.get("cache")) for u, r in hits.items()} == {
        "a": (True, "s3"),
        "b": (True, "s3"),
        "core": (True, "s3"),
    }
    assert {u: r.details.get("cache") for u, r in lint(clone).items()} == {"a": "local", "b": "local", "core": "local"}


@pytest.mark.integration
def test_s3_read_only_reads_but_never_writes(
    repo: Path, tmp_path: Path, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_repo(repo)
    lint(repo)
    before = bucket_keys(bucket)
    clone = tmp_path / "pr"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    write(clone / "services" / "b" / "src" / "b" / "__init__.py", 'VALUE = "pull request"\n')
    monkeypatch.setenv("SHIPYARD_CACHE_S3_MODE", "read-only")
    results = lint(clone)
    assert {u: r.cached for u, r in results.items()} == {"a": True, "b": False, "core": True}
    assert results["b"].status == PASSED
    assert bucket_keys(bucket) == before  # the pull request's new result stayed local


@pytest.mark.integration
def test_unreachable_s3_degrades_to_a_warning(
    repo: Path, aws: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s3_repo(repo, create=False)
    results = lint(repo)
    assert all(r.status == PASSED for r in results.values())
    assert "warning: S3 result cache disabled for this run" in capsys.readouterr().err


@pytest.mark.integration
def test_a_truncated_s3_entry_is_a_miss_with_a_warning_and_is_rewritten(
    repo: Path, tmp_path: Path, aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    bucket = s3_repo(repo)
    lint(repo)
    s3 = boto3.client("s3")
    broken = next(
        k
        for k in bucket_keys(bucket, "lint/")
        if json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read())["unit"] == "b"
    )
    whole = s3.get_object(Bucket=bucket, Key=broken)["Body"].read()
    s3.put_object(Bucket=bucket, Key=broken, Body=whole[: len(whole) // 2])  # a writer cut off mid-upload
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    capsys.readouterr()
    results = lint(clone)
    assert {u: r.cached for u, r in results.items()} == {"a": True, "b": False, "core": True}
    assert results["b"].status == PASSED
    err = capsys.readouterr().err
    assert f"warning: ignoring a broken result-cache entry s3://{bucket}/{broken} (treated as a miss)" in err
    assert json.loads(s3.get_object(Bucket=bucket, Key=broken)["Body"].read())["unit"] == "b"  # rewritten whole


def test_tmp_files_left_by_a_killed_writer_are_swept(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    record = to_record(Result("a", "lint", PASSED, 1.5), "k" * 64)
    folder = store.path("lint", "k" * 64).parent
    folder.mkdir(parents=True)
    stale, fresh = folder / f"{'k' * 64}.json.4242.tmp", folder / f"{'j' * 64}.json.4343.tmp"
    stale.write_text('{"key": "half')
    fresh.write_text('{"key": "being written')
    os.utime(stale, (time.time() - 3600, time.time() - 3600))  # kill -9 an hour ago
    store.put("lint", "k" * 64, record)
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{'k' * 64}.json", fresh.name])
    assert store.get("lint", "k" * 64) == record
