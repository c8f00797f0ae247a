"""The static target: plans (pure) and real deploys of the example web frontend to moto's S3 + CloudFront."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from shipyard.deploy.target import Progress, Release, TargetContext
from shipyard.deploy.targets.site import IMMUTABLE, NO_CACHE, Site, SiteFile, cache_control, content_type, scan
from shipyard.deploy.targets.static import StaticTarget, invalidation_paths, plan_release, plan_switch
from shipyard.project import load_project
from tests.helpers import make_monorepo

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
    plan = plan_release("bkt", "web", site, Release("web", "fp", "art"), live)
    assert [u.path for u in plan.uploads] == ["config.js"]
    assert plan.uploads[0].key == f"web/releases/{site.release_id}/config.js"
    assert [(c.source_key, c.key) for c in plan.copies] == [
        ("web/releases/r1/index.html", f"web/releases/{site.release_id}/index.html")
    ]
    assert plan.invalidate == ("/config.js",)
    assert json.loads(plan.pointer) == {
        "release": site.release_id,
        "fingerprint": "fp",
        "git_sha": "",
        "artifact": "art",
    }


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

    first = target.deploy(unit, Release("web", "fp1", "web-fp1", "sha1"), None, progress)  # type: ignore[arg-type]
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
    second = target.deploy(unit, Release("web", "fp2", "web-fp2", "sha2"), None, progress)  # type: ignore[arg-type]
    assert second.details["uploaded"] == ["config.js"]
    assert sorted(second.details["copied"]) == sorted(set(built) - {"config.js"})
    assert _invalidated(cf, distribution, second.details["invalidation"]) == ["/config.js"]
    assert second.revision != first.revision and target.current(unit).revision == second.revision  # type: ignore[union-attr]
    assert _live_object(s3, bucket, cf, distribution, "config.js")["Body"].read() != original

    back = target.rollback(unit, first, progress)
    assert back.revision == first.revision and back.artifact == "web-fp1"
    assert back.details["uploaded"] == [] and back.details["copied"] == []
    assert _invalidated(cf, distribution, back.details["invalidation"]) == ["/config.js"]
    assert _origin_path(cf, distribution) == f"/web/releases/{first.revision}"
    assert _live_object(s3, bucket, cf, distribution, "config.js")["Body"].read() == original
    current = target.current(unit)
    assert current is not None and (current.revision, current.fingerprint) == (first.revision, "fp1")
