"""Runtime configuration of static sites: one build, each environment's own config.js (moto's S3 + CloudFront)."""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.project import load_project
from shipyard.deploy.commands import DeployOptions, deploy, history, rollback, status
from shipyard.deploy.targets.runtime_config import render
from shipyard.deploy.targets.site import site_config
from shipyard.run.results import PASSED, Result
from tests.conftest import free_port
from tests.deploy.targets.test_local import _get, remove_environment
from tests.deploy.targets.test_static import _distribution, _invalidated, _origin_path
from tests.helpers import git, make_monorepo

BUILD_PY = """\
import pathlib

here = pathlib.Path(__file__).parent
out = here / "dist"
out.mkdir(exist_ok=True)
(out / "index.html").write_text((here / "page.html").read_text())
(out / "app.0123abcd.js").write_text("console.log(window.__CONFIG__.API_URL);\\n")
(out / "config.js").write_text("window.__CONFIG__ = {API_URL: 'http://localhost:8000'};\\n")  # for development
"""


def _site(repo: Path, extra: str = "") -> None:
    unit = repo / "services" / "site"
    unit.mkdir(parents=True)
    (unit / "shipyard.toml").write_text(
        f'kind = "static"\nbuild = ["{sys.executable}", "build.py"]\noutput = "dist"\n'
        f'runtime-config = "config.js"\nrequired-env = ["API_URL"]\nenv = {{ SENTRY_ENV = "site" }}\n{extra}'
    )
    (unit / "build.py").write_text(BUILD_PY)
    (unit / "page.html").write_text("<h1>site</h1>\n")


def _repo(root: Path, buckets: dict[str, str], distributions: dict[str, str], extra: str = "") -> Path:
    repo = make_monorepo(root, commit=False)
    _site(repo, extra)
    (repo / ".gitignore").write_text("dist/\n.shipyard/\n.env*\n")
    (repo / ".env.staging").write_text("API_URL=https://api.staging.example.com\n")
    (repo / ".env.production").write_text("API_URL=https://api.example.com\n")
    with (repo / "pyproject.toml").open("a", encoding="utf-8") as f:
        for env in ("staging", "production"):
            f.write(
                f'\n[tool.shipyard.environments.{env}]\ntargets = {{ static = "static" }}\n'
                f'static-bucket = "{buckets[env]}"\nstate-bucket = "{buckets["state"]}"\n'
                f'distribution-id = "{distributions[env]}"\ndeploy-timeout = 60\n'
                + ('promote-from = "staging"\n' if env == "production" else "")
            )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a site")
    return repo


@pytest.fixture
def aws_site(aws: str, tmp_path: Path) -> tuple[Path, dict[str, str], Any, Any, dict[str, str]]:
    import boto3

    from shipyard import aws as shipyard_aws

    shipyard_aws.reset()
    s3, cf = boto3.client("s3"), boto3.client("cloudfront")
    tag = uuid.uuid4().hex[:8]
    buckets = {env: f"{env}-{tag}" for env in ("staging", "production", "state")}
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket)
    distributions = {env: _distribution(cf, buckets[env]) for env in ("staging", "production")}
    return _repo(tmp_path / "repo", buckets, distributions), buckets, s3, cf, distributions


def _deploy(repo: Path, env: str) -> tuple[list[Result], str]:
    lines: list[str] = []
    results = deploy(load_project(repo), env, DeployOptions(yes=True), say=lines.append)
    return results, "\n".join(lines)


def _pointer(s3: Any, bucket: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key="site/current.json")["Body"].read())
    return data


def _served(s3: Any, cf: Any, bucket: str, distribution: str, path: str) -> bytes:
    """What the distribution serves at ``path``: the object under its origin path."""
    key = _origin_path(cf, distribution).lstrip("/") + "/" + path
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def _config(body: bytes) -> dict[str, str]:
    text = body.decode()
    assert text.startswith("window.__CONFIG__ = ") and text.endswith(";\n"), text
    data: dict[str, str] = json.loads(text[len("window.__CONFIG__ = ") : -2])
    return data


# -- pure --------------------------------------------------------------------------------------


def test_config_js_and_config_json_render_the_values_sorted() -> None:
    js = render("config.js", {"B": "2", "A": "1"})
    assert js.body == b'window.__CONFIG__ = {\n  "A": "1",\n  "B": "2"\n};\n'
    assert js.content_type == "text/javascript; charset=utf-8" and len(js.digest) == 12
    assert render("config.js", {"A": "1"}, "APP").body.startswith(b"window.APP = {")
    as_json = render("static/config.json", {"A": "1"})
    assert json.loads(as_json.body) == {"A": "1"} and as_json.content_type == "application/json"
    assert render("config.js", {"A": "1"}).digest != render("config.js", {"A": "2"}).digest


# -- moto --------------------------------------------------------------------------------------


@pytest.mark.integration
def test_one_build_serves_each_environment_its_own_api_url(
    aws_site: tuple[Path, dict[str, str], Any, Any, dict[str, str]],
) -> None:
    repo, buckets, s3, cf, distributions = aws_site
    staged, out = _deploy(repo, "staging")
    assert [(r.unit, r.status) for r in staged] == [("site", PASSED)], out
    promoted, out = _deploy(repo, "production")
    assert [(r.unit, r.status) for r in promoted] == [("site", PASSED)], out
    assert "promoted: the release staging verified" in out

    staging, production = _pointer(s3, buckets["staging"]), _pointer(s3, buckets["production"])
    assert staging["release"] == production["release"]  # one build: the same release id, the same files
    assert staging["config"] != production["config"]  # and each environment's own config
    served = {env: _served(s3, cf, buckets[env], distributions[env], "config.js") for env in distributions}
    assert _config(served["staging"]) == {"API_URL": "https://api.staging.example.com", "SENTRY_ENV": "site"}
    assert _config(served["production"]) == {"API_URL": "https://api.example.com", "SENTRY_ENV": "site"}
    assert b"localhost:8000" not in served["staging"]  # the build's development placeholder is not published
    manifest = json.loads(
        s3.get_object(Bucket=buckets["production"], Key=f"site/manifests/{production['release']}.json")["Body"].read()
    )
    assert sorted(manifest["files"]) == ["app.0123abcd.js", "index.html"]  # the config is not part of the release
    index = {env: _served(s3, cf, buckets[env], distributions[env], "index.html") for env in distributions}
    assert index["staging"] == index["production"]
    head = s3.head_object(
        Bucket=buckets["production"], Key=f"site/releases/{production['release']}/config.js"
    )  # never cached stale
    assert (head["ContentType"], head["CacheControl"]) == ("text/javascript; charset=utf-8", "no-cache")
    newest = history(load_project(repo), "production", "site")[0]
    assert newest.revision == f"{production['release']}+{production['config']}"  # the ledger has the config
    rows = {r["service"]: r for r in status(load_project(repo), "production")}
    assert rows["site"]["drift"] == ""  # and the target agrees
    assert _deploy(repo, "production")[0] == []  # nothing changed: up to date


@pytest.mark.integration
def test_a_changed_setting_rewrites_and_invalidates_the_config_alone_and_rolls_back(
    aws_site: tuple[Path, dict[str, str], Any, Any, dict[str, str]],
) -> None:
    repo, buckets, s3, cf, distributions = aws_site
    _deploy(repo, "staging")
    _deploy(repo, "production")
    first = _pointer(s3, buckets["production"])
    (repo / ".env.production").write_text("API_URL=https://api-v2.example.com\n")
    lines: list[str] = []
    plan = deploy(load_project(repo), "production", DeployOptions(plan_only=True), say=lines.append)
    assert plan == [] and f"runtime config: {first['config']} -> " in "\n".join(lines), lines
    results, out = _deploy(repo, "production")
    assert [(r.unit, r.status) for r in results] == [("site", PASSED)], out
    second = _pointer(s3, buckets["production"])
    assert second["release"] == first["release"] and second["config"] != first["config"]
    served = _served(s3, cf, buckets["production"], distributions["production"], "config.js")
    assert _config(served)["API_URL"] == "https://api-v2.example.com"
    invalidations = cf.list_invalidations(DistributionId=distributions["production"])["InvalidationList"]["Items"]
    newest = max(invalidations, key=lambda i: i["CreateTime"])["Id"]
    assert _invalidated(cf, distributions["production"], newest) == ["/config.js"]

    entry = rollback(load_project(repo), "production", "site", yes=True, say=lambda _line: None)
    assert entry.ok and entry.revision == f"{first['release']}+{first['config']}"
    served = _served(s3, cf, buckets["production"], distributions["production"], "config.js")
    assert _config(served)["API_URL"] == "https://api.example.com"  # the config that release ran with
    assert _pointer(s3, buckets["production"])["config"] == first["config"]


@pytest.mark.integration
def test_promotion_still_refuses_a_release_staging_did_not_verify(
    aws_site: tuple[Path, dict[str, str], Any, Any, dict[str, str]],
) -> None:
    repo, buckets, s3, _cf, _distributions = aws_site
    _deploy(repo, "staging")
    (repo / "services/site/page.html").write_text("<h1>site, not yet on staging</h1>\n")
    git(repo, "commit", "-qam", "a new page")
    with pytest.raises(ShipyardError) as info:
        _deploy(repo, "production")
    assert "was never deployed successfully to 'staging'" in info.value.message
    assert s3.list_objects_v2(Bucket=buckets["production"]).get("KeyCount", 0) == 0


@pytest.mark.integration
def test_a_secret_value_for_the_runtime_config_is_refused_before_anything_deploys(
    aws_site: tuple[Path, dict[str, str], Any, Any, dict[str, str]],
) -> None:
    repo, buckets, s3, _cf, _distributions = aws_site
    (repo / ".env.staging").write_text("API_URL=ssm:/site/api-url\n")  # a reference: a secret
    with pytest.raises(ShipyardError) as info:
        _deploy(repo, "staging")
    assert info.value.message == (
        "site: runtime-config config.js would publish API_URL, which is secret in 'staging' (.env.staging)"
    )
    assert "files are public" in (info.value.hint or "")
    assert s3.list_objects_v2(Bucket=buckets["staging"]).get("KeyCount", 0) == 0


def test_a_secret_env_key_in_the_runtime_config_is_a_config_error(tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo")
    _site(repo, 'secret-env = ["API_URL"]\n')
    with pytest.raises(ConfigError) as info:
        load_project(repo)
    assert info.value.message == (
        "services/site/shipyard.toml: runtime-config: would publish API_URL, declared secret (secret-env), in config.js"
    )


def test_a_runtime_config_path_that_is_not_js_or_json_is_a_config_error(tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo")
    _site(repo)
    toml = repo / "services/site/shipyard.toml"
    toml.write_text(toml.read_text().replace('"config.js"', '"config.yaml"'))
    with pytest.raises(ConfigError, match=re.escape("'config.yaml' is not a .js or .json path inside the site")):
        load_project(repo)


def test_a_value_that_looks_secret_is_refused(tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo")
    _site(repo)
    toml = repo / "services/site/shipyard.toml"
    toml.write_text(toml.read_text().replace('required-env = ["API_URL"]', 'required-env = ["API_URL", "API_TOKEN"]'))
    (repo / ".env").write_text("API_URL=https://api.example.com\nAPI_TOKEN=tok-123\n")
    project = load_project(repo)
    with pytest.raises(ShipyardError, match="would publish API_TOKEN, which is secret in 'local'"):
        site_config(project, "local", project.unit("site"), None)


@pytest.fixture
def local_site(tmp_path: Path, docker_engine: None) -> Iterator[tuple[Path, str, int]]:
    """The site on the local target, in an environment of its own (removed afterwards)."""
    env, port = f"rc{uuid.uuid4().hex[:8]}", free_port()
    repo = make_monorepo(tmp_path / "repo", commit=False)
    _site(repo)
    (repo / ".gitignore").write_text("dist/\n.shipyard/\n.env*\n")
    (repo / f".env.{env}").write_text("API_URL=https://api.one.example.com\n")
    with (repo / "pyproject.toml").open("a") as f:
        f.write(
            f'\n[tool.shipyard.environments.{env}]\ntargets = {{ static = "local" }}\n'
            f'urls = {{ site = "http://127.0.0.1:{port}" }}\n'
        )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a site")
    try:
        yield repo, env, port
    finally:
        remove_environment(env)


@pytest.mark.integration
def test_the_local_target_serves_the_environments_config_and_rolls_it_back(local_site: tuple[Path, str, int]) -> None:
    repo, env, port = local_site
    first, out = _deploy(repo, env)
    assert [(r.unit, r.status) for r in first] == [("site", PASSED)], out
    code, body = _get(f"http://127.0.0.1:{port}/config.js")
    assert code == 200 and _config(body)["API_URL"] == "https://api.one.example.com"

    (repo / f".env.{env}").write_text("API_URL=https://api.two.example.com\n")
    second, out = _deploy(repo, env)
    assert [(r.unit, r.status) for r in second] == [("site", PASSED)], out  # the same build, a new config
    assert _config(_get(f"http://127.0.0.1:{port}/config.js")[1])["API_URL"] == "https://api.two.example.com"
    entries = history(load_project(repo), env, "site")
    assert entries[0].artifact == entries[1].artifact  # one release (the build's content), two configs

    entry = rollback(load_project(repo), env, "site", yes=True, say=lambda _line: None)
    assert entry.ok
    assert _config(_get(f"http://127.0.0.1:{port}/config.js")[1])["API_URL"] == "https://api.one.example.com"
