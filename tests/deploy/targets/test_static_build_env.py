"""build-env: a static site built per environment (values baked in), promoted by its source fingerprint (moto)."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.project import load_project
from shipyard.deploy.commands import DeployOptions, deploy
from shipyard.images.static import build_digest
from shipyard.run.results import PASSED, Result
from tests.helpers import git, make_monorepo, run_invoke

BUILD_PY = """\
import os
import pathlib

here = pathlib.Path(__file__).parent
with (here.parent.parent / "build-runs.log").open("a") as log:  # one line per build, with what it baked in
    log.write(os.environ.get("VITE_API_URL", "(unset)") + "\\n")
out = here / "dist"
out.mkdir(exist_ok=True)
page = (here / "page.html").read_text()
(out / "index.html").write_text(page.replace("%VITE_API_URL%", os.environ.get("VITE_API_URL", "")))
"""


def _repo(root: Path, buckets: dict[str, str], unit_extra: str = "") -> Path:
    repo = make_monorepo(root, commit=False)
    unit = repo / "services" / "site"
    unit.mkdir(parents=True)
    (unit / "shipyard.toml").write_text(
        f'kind = "static"\nbuild = ["{sys.executable}", "build.py"]\noutput = "dist"\n'
        f'build-env = ["VITE_API_URL"]\nrequired-env = ["VITE_API_URL"]\n{unit_extra}'
    )
    (unit / "build.py").write_text(BUILD_PY)
    (unit / "page.html").write_text('<script>const API = "%VITE_API_URL%";</script>\n')
    (unit / "tests").mkdir()
    (unit / "tests" / "test_page.py").write_text("def test_page():\n    assert True\n")
    (repo / ".gitignore").write_text("dist/\n.shipyard/\n.env*\nbuild-runs.log\n")
    (repo / ".env.staging").write_text("VITE_API_URL=https://api.staging.example.com\n")
    (repo / ".env.production").write_text("VITE_API_URL=https://api.example.com\n")
    with (repo / "pyproject.toml").open("a", encoding="utf-8") as f:
        for env in ("staging", "production"):
            f.write(
                f'\n[tool.shipyard.environments.{env}]\ntargets = {{ static = "static" }}\n'
                f'static-bucket = "{buckets[env]}"\nstate-bucket = "{buckets["state"]}"\ndeploy-timeout = 60\n'
                + ('promote-from = "staging"\n' if env == "production" else "")
            )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a site")
    return repo


@pytest.fixture
def site(aws: str, tmp_path: Path) -> tuple[Path, dict[str, str], Any]:
    import boto3

    from shipyard import aws as shipyard_aws

    shipyard_aws.reset()
    s3 = boto3.client("s3")
    tag = uuid.uuid4().hex[:8]
    buckets = {env: f"{env}-{tag}" for env in ("staging", "production", "state")}
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket)
    return _repo(tmp_path / "repo", buckets), buckets, s3


def _deploy(repo: Path, env: str) -> tuple[list[Result], str]:
    lines: list[str] = []
    results = deploy(load_project(repo), env, DeployOptions(yes=True), say=lines.append)
    return results, "\n".join(lines)


def _pointer(s3: Any, bucket: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key="site/current.json")["Body"].read())
    return data


def _index(s3: Any, bucket: str) -> bytes:
    release = _pointer(s3, bucket)["release"]
    body: bytes = s3.get_object(Bucket=bucket, Key=f"site/releases/{release}/index.html")["Body"].read()
    return body


def _builds(repo: Path) -> list[str]:
    return (repo / "build-runs.log").read_text().splitlines()


def test_the_build_fingerprint_holds_the_build_env_values() -> None:
    assert build_digest("abc", {}) == "abc"  # no build-env: the source fingerprint, as before
    staging, production = build_digest("abc", {"V": "1"}), build_digest("abc", {"V": "2"})
    assert len({"abc", staging, production}) == 3 and staging == build_digest("abc", {"V": "1"})


@pytest.mark.integration
def test_each_environment_builds_with_its_own_values_from_the_source_staging_verified(
    site: tuple[Path, dict[str, str], Any],
) -> None:
    repo, buckets, s3 = site
    staged, out = _deploy(repo, "staging")
    assert [(r.unit, r.status) for r in staged] == [("site", PASSED)], out
    promoted, out = _deploy(repo, "production")
    assert [(r.unit, r.status) for r in promoted] == [("site", PASSED)], out
    assert "promoted: the release staging verified" in out
    assert _builds(repo) == ["https://api.staging.example.com", "https://api.example.com"]  # one build each
    assert b'"https://api.staging.example.com"' in _index(s3, buckets["staging"])
    assert b'"https://api.example.com"' in _index(s3, buckets["production"])
    staging, production = _pointer(s3, buckets["staging"]), _pointer(s3, buckets["production"])
    assert staging["release"] != production["release"]  # two builds, two contents
    assert staging["fingerprint"] == production["fingerprint"]  # one source
    assert _deploy(repo, "production")[0] == []  # up to date: not rebuilt, not redeployed
    assert len(_builds(repo)) == 2

    # a new source staging has not verified: refused, whatever production's own build would be
    (repo / "services/site/page.html").write_text('<script>const API2 = "%VITE_API_URL%";</script>\n')
    git(repo, "commit", "-qam", "a new page")
    with pytest.raises(ShipyardError) as info:
        _deploy(repo, "production")
    assert "was never deployed successfully to 'staging'" in info.value.message
    assert _pointer(s3, buckets["production"]) == production


@pytest.mark.integration
def test_a_new_source_with_the_content_staging_verified_is_taken(site: tuple[Path, dict[str, str], Any]) -> None:
    """A changed test: staging is up to date (no entry for the new fingerprint); production builds the site
    with staging's values to learn whether staging verified that content, then with its own."""
    repo, buckets, s3 = site
    _deploy(repo, "staging")
    _deploy(repo, "production")
    (repo / "services/site/tests/test_page.py").write_text("def test_page():\n    assert 2 > 1\n")
    git(repo, "commit", "-qam", "a test")
    assert _deploy(repo, "staging")[0] == []
    promoted, out = _deploy(repo, "production")
    assert all(r.ok for r in promoted), out
    assert b'"https://api.example.com"' in _index(s3, buckets["production"])


@pytest.mark.integration
def test_a_secret_value_in_build_env_is_refused_before_anything_is_built(
    site: tuple[Path, dict[str, str], Any],
) -> None:
    repo, buckets, s3 = site
    (repo / ".env.staging").write_text("VITE_API_URL=ssm:/site/api-url\n")
    with pytest.raises(ShipyardError) as info:
        _deploy(repo, "staging")
    assert info.value.message == (
        "site: build-env would bake VITE_API_URL, which is secret in 'staging' (.env.staging), into the site's files"
    )
    assert not (repo / "build-runs.log").exists()
    assert s3.list_objects_v2(Bucket=buckets["staging"]).get("KeyCount", 0) == 0


def test_a_secret_env_key_in_build_env_is_a_config_error(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path / "repo", {"staging": "s", "production": "p", "state": "t"}, 'secret-env = ["VITE_API_URL"]\n'
    )
    with pytest.raises(ConfigError) as info:
        load_project(repo)
    assert info.value.message == (
        "services/site/shipyard.toml: build-env: would bake VITE_API_URL, declared secret (secret-env), into the build"
    )


def test_invoke_build_builds_for_the_default_environment_and_again_when_a_value_changes(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {"staging": "s", "production": "p", "state": "t"})
    index = repo / "services/site/dist/index.html"
    for value in ("http://127.0.0.1:8000", "http://127.0.0.1:8000", "http://127.0.0.1:9000"):
        out = run_invoke(repo, "build", "-s", "site", env={"VITE_API_URL": value})
        assert out.returncode == 0, out.stdout + out.stderr
        assert f'"{value}"' in index.read_text()
    assert _builds(repo) == ["http://127.0.0.1:8000", "http://127.0.0.1:9000"]  # the same values: up to date
