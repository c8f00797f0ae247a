"""The static target: plans (pure) and real deploys of the example web frontend to moto's S3 + CloudFront."""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.project import load_project
from shipyard.deploy.artifacts import Artifacts
from shipyard.deploy.commands import DeployOptions, deploy
from shipyard.deploy.target import Progress, Release, TargetContext
from shipyard.deploy.targets.site import IMMUTABLE, NO_CACHE, Site, SiteFile, cache_control, content_type, scan
from shipyard.deploy.targets.static import StaticTarget
from shipyard.deploy.targets.static_plan import Files, invalidation_paths, plan_release, plan_switch
from shipyard.run.results import PASSED, Result
from tests.helpers import git, make_monorepo

EXAMPLE_WEB = Path(__file__).resolve().parents[3] / "services" / "web"


def _file(path: str, digest: str) -> SiteFile:
    return SiteFile(path, digest, 1, content_type(path), cache_control(path))


# -- pure: headers, invalidation paths, plans ------------------------------------------------


def test_content_hashed_assets_are_immutable_and_the_rest_revalidates() -> None:
    assert cache_control("app.3f2a9c1e.js") == IMMUTABLE
    assert cache_control("assets/chunk-5d41402abc4b.css") == IMMUTABLE
    assert cache_control("index.html") == NO_CACHE
    assert cache_control("config.js") == NO_CACHE
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type("app.3f2a9c1e.js") == "text/javascript; charset=utf-8"
    assert content_type("fonts/a.woff2") == "font/woff2"
    assert content_type("blob.unknownext") == "application/octet-stream"


def test_invalidation_covers_changed_and_removed_paths_and_an_index_directory() -> None:
    old = {
        "index.html": {"sha256": "1"},
        "docs/index.html": {"sha256": "2"},
        "a.js": {"sha256": "3"},
        "gone.txt": {"sha256": "4"},
    }
    new = {
        "index.html": {"sha256": "1"},
        "docs/index.html": {"sha256": "9"},
        "a.js": {"sha256": "3"},
        "added.txt": {"sha256": "5"},
    }
    assert invalidation_paths(old, new) == ("/docs/", "/docs/index.html", "/gone.txt")
    assert invalidation_paths(None, new) == ("/*",)


def test_plan_uploads_what_changed_and_copies_the_rest(tmp_path: Path) -> None:
    site = Site(tmp_path, (_file("config.js", "new"), _file("index.html", "same")))
    live = {"release": "r1", "files": {"config.js": {"sha256": "old"}, "index.html": {"sha256": "same"}}}
    plan = plan_release("bkt", "web", Files.built(site), Release("web", "fp", ""), live)
    assert [u.path for u in plan.uploads] == ["config.js"]
    assert plan.uploads[0].key == f"web/releases/{site.release_id}/config.js"
    assert [(c.source_bucket, c.source_key, c.key) for c in plan.copies] == [
        ("bkt", "web/releases/r1/index.html", f"web/releases/{site.release_id}/index.html")
    ]
    assert plan.invalidate == ("/config.js",)
    assert json.loads(plan.pointer) == {
        "release": site.release_id,
        "fingerprint": "fp",
        "git_sha": "",
        "artifact": site.release_id,  # a site's artifact is its content
    }


def test_the_live_release_again_copies_nothing_onto_itself(tmp_path: Path) -> None:
    """Same files, new fingerprint: every key is in place; a missing one is uploaded, never self-copied."""
    site = Site(tmp_path, (_file("index.html", "a"), _file("app.0123abcd.js", "b")))
    prefix = f"web/releases/{site.release_id}"
    live = {"release": site.release_id, "files": Files.built(site).files}
    both = frozenset({f"{prefix}/index.html", f"{prefix}/app.0123abcd.js"})
    plan = plan_release("bkt", "web", Files.built(site), Release("web", "fp2", site.release_id), live, both)
    assert (plan.uploads, plan.copies, plan.invalidate) == ((), (), ())
    assert json.loads(plan.pointer)["fingerprint"] == "fp2"
    one = frozenset({f"{prefix}/index.html"})
    plan = plan_release("bkt", "web", Files.built(site), Release("web", "fp2", site.release_id), live, one)
    assert [u.path for u in plan.uploads] == ["app.0123abcd.js"] and plan.copies == ()


def test_a_release_in_another_bucket_is_copied_from_there() -> None:
    files = Files("0123456789ab", {"index.html": {"sha256": "a", "size": 1}}, bucket="staging-bkt")
    live = {"release": "r1", "files": {"index.html": {"sha256": "old"}}}
    plan = plan_release("prod-bkt", "web", files, Release("web", "fp", "0123456789ab"), live)
    key = "web/releases/0123456789ab/index.html"
    assert [(c.source_bucket, c.source_key, c.key) for c in plan.copies] == [("staging-bkt", key, key)]
    assert plan.uploads == () and json.loads(plan.manifest)["files"] == {"index.html": {"sha256": "a", "size": 1}}


def test_switching_back_uploads_nothing() -> None:
    live = {"release": "r2", "files": {"config.js": {"sha256": "new"}}}
    target = {"release": "r1", "artifact": "a1", "fingerprint": "f1", "files": {"config.js": {"sha256": "old"}}}
    plan = plan_switch("bkt", "web", target, live)
    assert (plan.uploads, plan.copies, plan.manifest) == ((), (), b"")
    assert plan.invalidate == ("/config.js",)
    assert json.loads(plan.pointer)["release"] == "r1"


def test_scan_hashes_published_files_only(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>hi</p>")
    (tmp_path / ".DS_Store").write_text("x")
    (tmp_path / "manifest.json").write_text("{}")
    site = scan(tmp_path, ["manifest.json"])
    assert [f.path for f in site.files] == ["index.html"]
    assert site.release_id == scan(tmp_path, ["manifest.json"]).release_id != scan(tmp_path).release_id


# -- integration: moto's server --------------------------------------------------------------


def _web_repo(root: Path, bucket: str, distribution: str) -> Path:
    repo = make_monorepo(root, commit=False)
    shutil.copytree(EXAMPLE_WEB, repo / "services" / "web", ignore=shutil.ignore_patterns("dist", "node_modules"))
    with (repo / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write(
            f'\n[tool.shipyard.environments.prod]\ntargets = {{ static = "static" }}\n'
            f'static-bucket = "{bucket}"\ndistribution-id = "{distribution}"\ndeploy-timeout = 60\n'
        )
    return repo


def _distribution(cf: Any, bucket: str) -> str:
    origin = {"Id": "site", "DomainName": f"{bucket}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Comment": "shipyard test",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "allow-all",
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
        },
        "DefaultRootObject": "index.html",
    }
    return str(cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def _origin_path(cf: Any, distribution: str) -> str:
    config = cf.get_distribution_config(Id=distribution)["DistributionConfig"]
    return str(config["Origins"]["Items"][0]["OriginPath"])


def _live_object(s3: Any, bucket: str, cf: Any, distribution: str, path: str) -> dict[str, Any]:
    """What CloudFront would fetch for ``path``: the object under the origin path."""
    key = _origin_path(cf, distribution).lstrip("/") + "/" + path
    obj: dict[str, Any] = s3.get_object(Bucket=bucket, Key=key)
    return obj


def _invalidated(cf: Any, distribution: str, ident: str) -> list[str]:
    batch = cf.get_invalidation(DistributionId=distribution, Id=ident)["Invalidation"]["InvalidationBatch"]
    return sorted(batch["Paths"]["Items"])


@pytest.mark.integration
def test_static_deploys_upload_only_changes_and_roll_back_by_pointer(aws: str, tmp_path: Path) -> None:
    import boto3

    if shutil.which("node") is None:
        pytest.skip("node is needed to build the example web frontend")
    s3, cf = boto3.client("s3"), boto3.client("cloudfront")
    bucket = f"site-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    distribution = _distribution(cf, bucket)
    repo = _web_repo(tmp_path / "repo", bucket, distribution)
    project = load_project(repo)
    unit = project.unit("web")
    target = StaticTarget(TargetContext(project, "prod", project.environment("prod")), sleep=lambda _s: None)
    lines: list[str] = []
    progress = Progress("web", say=lines.append)
    assert target.current(unit) is None

    first = target.deploy(unit, Release("web", "fp1", "", "sha1"), None, progress)  # type: ignore[arg-type]
    dist = repo / "services/web/dist"
    built = sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert sorted(first.details["uploaded"]) == built and first.details["copied"] == []
    assert _invalidated(cf, distribution, first.details["invalidation"]) == ["/*"]
    assert _origin_path(cf, distribution) == f"/web/releases/{first.revision}"
    index = _live_object(s3, bucket, cf, distribution, "index.html")
    assert (index["ContentType"], index["CacheControl"]) == ("text/html; charset=utf-8", NO_CACHE)
    script = next(p for p in built if p.startswith("app.") and p.endswith(".js"))
    asset = _live_object(s3, bucket, cf, distribution, script)
    assert (asset["ContentType"], asset["CacheControl"]) == ("text/javascript; charset=utf-8", IMMUTABLE)

    config_js = repo / "services/web/src/config.js"
    original = _live_object(s3, bucket, cf, distribution, "config.js")["Body"].read()
    config_js.write_text(config_js.read_text() + "\n// pointed at another API\n")
    second = target.deploy(unit, Release("web", "fp2", "", "sha2"), None, progress)  # type: ignore[arg-type]
    assert second.details["uploaded"] == ["config.js"]
    assert sorted(second.details["copied"]) == sorted(set(built) - {"config.js"})
    assert _invalidated(cf, distribution, second.details["invalidation"]) == ["/config.js"]
    assert second.revision != first.revision and target.current(unit).revision == second.revision  # type: ignore[union-attr]
    assert _live_object(s3, bucket, cf, distribution, "config.js")["Body"].read() != original

    back = target.rollback(unit, first, progress)
    assert back.revision == first.revision and back.artifact == first.revision
    assert back.details["uploaded"] == [] and back.details["copied"] == []
    assert _invalidated(cf, distribution, back.details["invalidation"]) == ["/config.js"]
    assert _origin_path(cf, distribution) == f"/web/releases/{first.revision}"
    assert _live_object(s3, bucket, cf, distribution, "config.js")["Body"].read() == original
    current = target.current(unit)
    assert current is not None and (current.revision, current.fingerprint) == (first.revision, "fp1")


# -- integration: whole deploys (plan, transaction, ledger) of static units ------------------

BUILD_PY = """\
import pathlib

here = pathlib.Path(__file__).parent
with (here.parent.parent / "build-runs.log").open("a") as log:  # how often the build ran
    log.write(here.name + "\\n")
flavor = here / "flavor.txt"  # git-ignored, so not in the fingerprint: a rebuild may differ
out = here / "dist"
out.mkdir(exist_ok=True)
page = (here / "page.html").read_text() + (flavor.read_text() if flavor.exists() else "")
(out / "index.html").write_text(page)
(out / "app.0123abcd.js").write_text("console.log(1);\\n")
"""


def _static_unit(repo: Path, name: str) -> None:
    unit = repo / "services" / name
    unit.mkdir(parents=True)
    (unit / "shipyard.toml").write_text(f'kind = "static"\nbuild = ["{sys.executable}", "build.py"]\noutput = "dist"\n')
    (unit / "build.py").write_text(BUILD_PY)
    (unit / "page.html").write_text(f"<h1>{name}</h1>\n")
    (unit / "tests").mkdir()
    (unit / "tests" / "test_page.py").write_text("def test_page():\n    assert True\n")


def _sites_repo(root: Path, buckets: dict[str, str], distributions: dict[str, str]) -> Path:
    """Two static units (site, docs) with a build that counts its runs; staging and production.
    In staging, site has the environment's distribution-id and docs its own."""
    repo = make_monorepo(root, commit=False)
    for name in ("site", "docs"):
        _static_unit(repo, name)
    if distributions["docs"]:
        with (repo / "services/docs/shipyard.toml").open("a", encoding="utf-8") as f:
            f.write(f'distribution-id = {{ staging = "{distributions["docs"]}" }}\n')
    (repo / ".gitignore").write_text("dist/\n.shipyard/\nbuild-runs.log\nflavor.txt\n")
    with (repo / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write(
            f'\n[tool.shipyard.environments.staging]\ntargets = {{ static = "static" }}\n'
            f'static-bucket = "{buckets["staging"]}"\nstate-bucket = "{buckets["state"]}"\n'
            f'distribution-id = "{distributions["site"]}"\ndeploy-timeout = 60\n'
            f'\n[tool.shipyard.environments.production]\ntargets = {{ static = "static" }}\n'
            f'static-bucket = "{buckets["production"]}"\nstate-bucket = "{buckets["state"]}"\n'
            f'promote-from = "staging"\n'
        )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "sites")
    return repo


def _buckets(s3: Any) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    buckets = {env: f"{env}-{tag}" for env in ("staging", "production", "state")}
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket)
    return buckets


@pytest.fixture
def sites_and_distributions(aws: str, tmp_path: Path) -> tuple[Path, dict[str, str], Any, dict[str, str]]:
    """The sites repo, its buckets, an S3 client, and each unit's distribution in staging."""
    import boto3

    from shipyard import aws as shipyard_aws

    shipyard_aws.reset()
    s3, cf = boto3.client("s3"), boto3.client("cloudfront")
    buckets = _buckets(s3)
    distributions = {unit: _distribution(cf, buckets["staging"]) for unit in ("site", "docs")}
    return _sites_repo(tmp_path / "repo", buckets, distributions), buckets, s3, distributions


@pytest.fixture
def sites(
    sites_and_distributions: tuple[Path, dict[str, str], Any, dict[str, str]],
) -> tuple[Path, dict[str, str], Any]:
    return sites_and_distributions[:3]


def _deploy(repo: Path, env: str) -> tuple[list[Result], str]:
    lines: list[str] = []
    results = deploy(load_project(repo), env, DeployOptions(yes=True), say=lines.append)
    return results, "\n".join(lines)


def _served(s3: Any, bucket: str, service: str) -> dict[str, bytes]:
    """The files of the live release (current.json's), path -> bytes."""
    release = json.loads(s3.get_object(Bucket=bucket, Key=f"{service}/current.json")["Body"].read())["release"]
    prefix = f"{service}/releases/{release}/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    return {k[len(prefix) :]: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


@pytest.mark.integration
def test_a_changed_fingerprint_with_the_same_built_files_is_up_to_date(sites: tuple[Path, dict[str, str], Any]) -> None:
    """A changed test of `site` (same output) next to a changed page of `docs`: docs deploys, site is
    up to date. It used to copy every object onto itself (S3: InvalidRequest) and roll docs back."""
    repo, buckets, s3 = sites
    first, _ = _deploy(repo, "staging")
    assert [(r.unit, r.status) for r in first] == [("docs", PASSED), ("site", PASSED)]
    site_before = _served(s3, buckets["staging"], "site")

    (repo / "services/site/tests/test_page.py").write_text("def test_page():\n    assert 1 + 1 == 2\n")
    with (repo / "services/site/shipyard.toml").open("a") as toml:
        toml.write('test = ["python3", "-m", "pytest", "tests"]\n')
    (repo / "services/docs/page.html").write_text("<h1>docs, second edition</h1>\n")
    git(repo, "commit", "-qam", "a test and shipyard.toml of site, a page of docs")
    project = load_project(repo)
    pointer = json.loads(s3.get_object(Bucket=buckets["staging"], Key="site/current.json")["Body"].read())
    assert Artifacts(project, "staging").fingerprint(project.unit("site")) != pointer["fingerprint"]
    second, out = _deploy(repo, "staging")
    assert [(r.unit, r.status, r.reason) for r in second] == [("docs", PASSED, "")], out
    assert "up to date: site" in out
    assert _served(s3, buckets["staging"], "site") == site_before
    assert b"second edition" in _served(s3, buckets["staging"], "docs")["index.html"]
    assert _deploy(repo, "staging")[0] == []  # and then everything is


@pytest.mark.integration
def test_same_content_deployed_directly_copies_nothing_onto_itself(sites: tuple[Path, dict[str, str], Any]) -> None:
    """Not through a plan (which would call it up to date): the target itself never self-copies."""
    repo, buckets, s3 = sites
    project = load_project(repo)
    unit = project.unit("site")
    target = StaticTarget(TargetContext(project, "staging", project.environment("staging")), sleep=lambda _s: None)
    progress = Progress("site", say=lambda _line: None)
    first = target.deploy(unit, Release("site", "fp1", "", "sha1"), None, progress)  # type: ignore[arg-type]
    again = target.deploy(unit, Release("site", "fp2", first.revision, "sha2"), None, progress)  # type: ignore[arg-type]
    assert again.revision == first.revision
    assert (again.details["uploaded"], again.details["copied"], again.details["invalidated"]) == ([], [], [])
    current = target.current(unit)
    assert current is not None and (current.fingerprint, current.details["gitSha"]) == ("fp2", "sha2")
    assert target.diff(unit, Release("site", "fp3", first.revision), None) == []  # type: ignore[arg-type]
    assert set(_served(s3, buckets["staging"], "site")) == {"index.html", "app.0123abcd.js"}


@pytest.mark.integration
def test_promotion_copies_the_files_staging_verified_and_never_rebuilds(
    sites: tuple[Path, dict[str, str], Any],
) -> None:
    repo, buckets, s3 = sites
    (repo / "services/site/flavor.txt").write_text("built for staging\n")
    staged, _ = _deploy(repo, "staging")
    assert all(r.ok for r in staged)
    runs = (repo / "build-runs.log").read_text()
    staging_files = _served(s3, buckets["staging"], "site")
    assert b"built for staging" in staging_files["index.html"]

    # The production job: a fresh checkout (no build output, no stamp) whose build would differ.
    (repo / "services/site/flavor.txt").write_text("built for production\n")
    shutil.rmtree(repo / "services/site/dist")
    shutil.rmtree(repo / ".shipyard")
    promoted, out = _deploy(repo, "production")
    assert [(r.unit, r.status) for r in promoted] == [("docs", PASSED), ("site", PASSED)], out
    assert "promoted: the release staging verified" in out
    assert (repo / "build-runs.log").read_text() == runs  # the build command did not run
    assert _served(s3, buckets["production"], "site") == staging_files
    live = json.loads(s3.get_object(Bucket=buckets["production"], Key="site/current.json")["Body"].read())
    index = s3.get_object(Bucket=buckets["production"], Key=f"site/releases/{live['release']}/index.html")
    assert (index["ContentType"], index["CacheControl"]) == ("text/html; charset=utf-8", NO_CACHE)
    assert _served(s3, buckets["production"], "docs") == _served(s3, buckets["staging"], "docs")
    assert _deploy(repo, "production")[0] == []


@pytest.mark.integration
def test_promotion_of_a_new_fingerprint_with_staging_content(sites: tuple[Path, dict[str, str], Any]) -> None:
    """Staging is up to date for a changed test (same site), so it has no entry of that fingerprint:
    production identifies the release by its content, and takes it."""
    repo, buckets, s3 = sites
    _deploy(repo, "staging")
    (repo / "services/site/tests/test_page.py").write_text("def test_page():\n    assert 2 > 1\n")
    git(repo, "commit", "-qam", "a test")
    assert _deploy(repo, "staging")[0] == []
    promoted, out = _deploy(repo, "production")
    assert all(r.ok for r in promoted), out
    assert _served(s3, buckets["production"], "site") == _served(s3, buckets["staging"], "site")


@pytest.mark.integration
def test_promotion_across_credentials_passes_the_files_through(
    sites: tuple[Path, dict[str, str], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production under another profile (another account): staging's objects are read with
    staging's credentials and written with production's, headers and bytes unchanged."""
    repo, buckets, s3 = sites
    config = tmp_path / "aws-config"
    config.write_text("[profile prod]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('promote-from = "staging"\n', 'promote-from = "staging"\nprofile = "prod"\n')
    )
    git(repo, "commit", "-qam", "production in its own account")
    _deploy(repo, "staging")
    shutil.rmtree(repo / "services/site/dist")
    promoted, out = _deploy(repo, "production")
    assert all(r.ok for r in promoted), out
    assert f"copy index.html from s3://{buckets['staging']} through this machine" in out
    assert _served(s3, buckets["production"], "site") == _served(s3, buckets["staging"], "site")
    live = json.loads(s3.get_object(Bucket=buckets["production"], Key="site/current.json")["Body"].read())
    script = s3.get_object(Bucket=buckets["production"], Key=f"site/releases/{live['release']}/app.0123abcd.js")
    assert (script["ContentType"], script["CacheControl"]) == ("text/javascript; charset=utf-8", IMMUTABLE)


def _pointed_at(s3: Any, cf: Any, bucket: str, service: str, distribution: str) -> bool:
    """``distribution`` serves ``service``'s live release (the one current.json names)."""
    release = json.loads(s3.get_object(Bucket=bucket, Key=f"{service}/current.json")["Body"].read())["release"]
    return _origin_path(cf, distribution) == f"/{service}/releases/{release}"


@pytest.mark.integration
def test_two_static_units_in_one_environment_each_keep_their_own_distribution(
    sites_and_distributions: tuple[Path, dict[str, str], Any, dict[str, str]],
) -> None:
    """It used to be one distribution per environment, repointed by every static unit's deploy:
    the last unit deployed was served on both sites."""
    import boto3

    repo, buckets, s3, distributions = sites_and_distributions
    cf = boto3.client("cloudfront")
    first, out = _deploy(repo, "staging")
    assert all(r.ok for r in first), out
    for unit in ("site", "docs"):
        assert _pointed_at(s3, cf, buckets["staging"], unit, distributions[unit]), unit
    site_path = _origin_path(cf, distributions["site"])

    (repo / "services/docs/page.html").write_text("<h1>docs, second edition</h1>\n")
    git(repo, "commit", "-qam", "a page of docs")
    second, out = _deploy(repo, "staging")
    assert [(r.unit, r.status) for r in second] == [("docs", PASSED)], out
    assert _pointed_at(s3, cf, buckets["staging"], "docs", distributions["docs"])
    assert _origin_path(cf, distributions["site"]) == site_path  # docs' deploy left site's alone
    project = load_project(repo)
    target = StaticTarget(TargetContext(project, "staging", project.environment("staging")))
    for unit in ("site", "docs"):  # what `invoke status` shows
        current = target.current(project.unit(unit))
        assert current is not None and current.details["distribution"] == distributions[unit]


@pytest.mark.integration
def test_two_static_units_sharing_a_distribution_are_refused_before_anything_deploys(aws: str, tmp_path: Path) -> None:
    import boto3

    from shipyard.core.errors import ConfigError

    s3, cf = boto3.client("s3"), boto3.client("cloudfront")
    buckets = _buckets(s3)
    shared = _distribution(cf, buckets["staging"])
    repo = _sites_repo(tmp_path / "repo", buckets, {"site": shared, "docs": ""})  # both take the environment's
    with pytest.raises(ConfigError) as info:
        deploy(load_project(repo), "staging", DeployOptions(yes=True), say=lambda _line: None)
    assert info.value.message == (
        "pyproject.toml: tool.shipyard.environments.staging: static units docs and site would share "
        f"CloudFront distribution {shared} (each deploy points it at its own release)"
    )
    assert 'distribution-id = { staging = "E…" } in services/site/shipyard.toml' in (info.value.hint or "")
    assert s3.list_objects_v2(Bucket=buckets["staging"]).get("KeyCount", 0) == 0
    assert _origin_path(cf, shared) == ""
