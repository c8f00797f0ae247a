"""Push after commits that leave an image unchanged: every ref reaches the registry, from the
image tagged with the fingerprint, and "up to date" means all of them are there."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from shipyard.images.registry import manifest_digest, parse_registry
from shipyard.run.results import PASSED
from tests.helpers import git, write
from tests.images.example import build, push

pytestmark = pytest.mark.integration


def commit(root: Path, path: str, text: str) -> str:
    """Commit ``text`` at ``path``; the new HEAD."""
    write(root / path, text)
    git(root, "add", path)
    git(root, "commit", "-q", "-m", f"change {path}")
    return git(root, "rev-parse", "HEAD").strip()


def local_id(ref: str) -> str:
    done = subprocess.run(("docker", "image", "inspect", "--format", "{{.Id}}", ref), capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def api_repo(tmp_path: Path, make_example: Callable[[Path], Path]) -> Path:
    """The example system with an api of its own (no other test has its fingerprint), committed."""
    root = make_example(tmp_path / "repo")
    init = "services/api/src/example_api/__init__.py"
    commit(root, init, (root / init).read_text() + f"# {uuid.uuid4().hex}\n")
    return root


def test_push_after_an_unrelated_commit_pushes_the_new_git_tag(
    api_repo: Path, wheel_cache: Path, registry: str, images_prefix: str
) -> None:
    built = build(api_repo, wheel_cache, ["api"])["api"]
    assert built.status == PASSED and built.details["built"], built.reason + built.output
    fp = built.details["fingerprint"][:16]
    head = commit(api_repo, "services/worker/NOTES.md", "not part of the api\n")

    pushed = push(api_repo, wheel_cache, "local", ["api"])["api"]
    assert pushed.status == PASSED, pushed.reason + pushed.output
    assert (pushed.details["built"], pushed.details["pushed"]) == (False, True)
    reg = parse_registry(f"{registry}/{images_prefix}")
    digest = pushed.details["digest"]
    assert manifest_digest(reg, "api", fp) == digest
    assert manifest_digest(reg, "api", f"git-{head}") == digest
    assert local_id(f"{images_prefix}/api:git-{head}") == local_id(f"{images_prefix}/api:{fp}")

    # The registry has the fingerprint (as after a push cut short, or one from an earlier
    # commit): the new git tag is put on that very manifest; the push is not "up to date".
    later = commit(api_repo, "libs/README.md", "not part of the api either\n")
    tagged = push(api_repo, wheel_cache, "local", ["api"])["api"]
    assert tagged.status == PASSED, tagged.reason + tagged.output
    d = tagged.details
    assert (d["up_to_date"], d["pushed"], d["built"], d["digest"]) == (False, True, False, digest)
    assert tagged.reason == f"tagged {reg.image('api')}@{digest} as git-{later}"
    assert manifest_digest(reg, "api", f"git-{later}") == digest

    again = push(api_repo, wheel_cache, "local", ["api"])["api"]
    assert (again.details["up_to_date"], again.details["pushed"]) == (True, False)
    assert again.reason == f"up to date: {reg.image('api')}@{digest}"

    forced = push(api_repo, wheel_cache, "local", ["api"], force=True)["api"]  # rebuilt, pushed anyway
    assert forced.status == PASSED, forced.reason + forced.output
    assert (forced.details["built"], forced.details["pushed"], forced.details["up_to_date"]) == (True, True, False)
    assert forced.details["digest"] != digest  # a new build (its created label differs)
    assert manifest_digest(reg, "api", fp) == manifest_digest(reg, "api", f"git-{later}") == forced.details["digest"]


def test_force_rebuilds_an_image_that_no_cache_skips(api_repo: Path, wheel_cache: Path) -> None:
    first = build(api_repo, wheel_cache, ["api"])["api"]
    assert first.status == PASSED, first.reason + first.output
    no_cache = build(api_repo, wheel_cache, ["api"], no_cache=True)["api"]
    assert (no_cache.details["built"], no_cache.details["up_to_date"]) == (False, True)  # as --help says
    forced = build(api_repo, wheel_cache, ["api"], force=True)["api"]
    assert forced.status == PASSED, forced.reason + forced.output
    assert (forced.details["built"], forced.details["up_to_date"]) == (True, False)
    # rebuilt, from Docker's layer cache: the same image, now that `created` is the commit time, not the build time
    assert forced.details["image_id"] == first.details["image_id"]


def test_deploy_ships_an_image_built_before_an_unrelated_commit(
    api_repo: Path, wheel_cache: Path, registry: str, images_prefix: str
) -> None:
    from shipyard.core.project import load_project
    from shipyard.deploy.artifacts import Artifacts

    built = build(api_repo, wheel_cache, ["api"])["api"]
    assert built.status == PASSED, built.reason + built.output
    head = commit(api_repo, "services/worker/NOTES.md", "not part of the api\n")
    project = load_project(api_repo)
    release = Artifacts(project, "local", say=lambda _: None).ensure([project.units["api"]])["api"]
    reg = parse_registry(f"{registry}/{images_prefix}")
    digest = manifest_digest(reg, "api", f"git-{head}")
    assert digest and release.artifact == f"{reg.image('api')}@{digest}"
    assert manifest_digest(reg, "api", built.details["fingerprint"][:16]) == digest
