"""Build and push for real: the example services on the Docker engine and the registry.

One module-scoped copy of the example system is built once; the tests then push it, pull
it by digest, run the api against PostgreSQL, and change files to see what rebuilds.
Every assertion about what was built or pushed comes from the Result records.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shipyard.run.results import ERROR, FAILED, PASSED, SKIPPED, Result
from tests.conftest import free_port
from tests.images.example import build, push

pytestmark = pytest.mark.integration


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(("docker", *args), capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory, make_example: Callable[[Path], Path]) -> Path:
    return make_example(tmp_path_factory.mktemp("example") / "repo")


@pytest.fixture(scope="module")
def first_build(example: Path, wheel_cache: Path) -> dict[str, Result]:
    return build(example, wheel_cache)


def test_first_build_builds_every_image_and_the_static_site(first_build: dict[str, Result], images_prefix: str) -> None:
    assert {u: r.status for u, r in first_build.items()} == {"api": PASSED, "worker": PASSED, "web": PASSED}
    for unit in ("api", "worker"):
        details = first_build[unit].details
        assert (details["built"], details["up_to_date"], details["pushed"]) == (True, False, False)
        assert details["tags"][0] == f"{images_prefix}/{unit}:{details['fingerprint'][:16]}"
        assert details["tags"][1].startswith(f"{images_prefix}/{unit}:git-")
        labels = docker("image", "inspect", "--format", "{{json .Config.Labels}}", details["tags"][0]).stdout
        assert f'"dev.shipyard.fingerprint":"{details["fingerprint"]}"' in labels
        assert '"org.opencontainers.image.revision"' in labels
    assert first_build["web"].details["built"] is True
    assert first_build["web"].details["tags"] == []  # static: an output folder, no image


def test_a_build_leaves_git_status_as_it_was(example: Path, first_build: dict[str, Result]) -> None:
    """The wheel builds of api, worker and their lib write no egg-info or build/ into them."""
    assert {r.status for r in first_build.values()} == {PASSED}
    status = subprocess.run(
        ("git", "status", "--porcelain", "--untracked-files=all"), cwd=example, capture_output=True, text=True
    )
    assert status.stdout == ""


@pytest.fixture
def database(database_url: str) -> Iterator[str]:
    """A throwaway PostgreSQL database; its URL."""
    name = f"sytest_{uuid.uuid4().hex[:10]}"
    subprocess.run(("psql", database_url, "-qc", f"CREATE DATABASE {name}"), check=True, capture_output=True)
    yield database_url.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run(("psql", database_url, "-qc", f"DROP DATABASE {name} WITH (FORCE)"), capture_output=True)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def wait_for_status(url: str, want: int, attempts: int = 60) -> int:
    status = 0
    for _ in range(attempts):
        status = _get(url)
        if status == want:
            break
        time.sleep(0.5)
    return status


def test_push_pull_by_digest_migrate_and_serve(
    example: Path, first_build: dict[str, Result], wheel_cache: Path, registry: str, images_prefix: str, database: str
) -> None:
    pushed = push(example, wheel_cache)
    assert pushed["web"].status == SKIPPED
    for unit in ("api", "worker"):
        details = pushed[unit].details
        assert pushed[unit].status == PASSED, pushed[unit].output
        assert (details["pushed"], details["built"]) == (True, False)  # built once, by the first build
        assert details["digest"].startswith("sha256:")
    image = f"{registry}/{images_prefix}/api@{pushed['api'].details['digest']}"
    docker("pull", image)
    migrated = docker("run", "--rm", "--network", "host", "-e", f"DATABASE_URL={database}", image,
                      "alembic", "upgrade", "head", check=False)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    version = subprocess.run(("psql", database, "-tAc", "SELECT version_num FROM alembic_version"),
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert version.startswith("0002")  # the image's migrations/ ran, up to the newest revision
    port = free_port()
    serve = ("gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "example_api.wsgi:app")
    container = docker("run", "-d", "--rm", "--network", "host", "-e", f"DATABASE_URL={database}", image, *serve)
    container_id = container.stdout.strip()
    try:
        assert wait_for_status(f"http://127.0.0.1:{port}/health", 200) == 200, docker("logs", container_id).stderr
    finally:
        docker("rm", "--force", container_id, check=False)


def test_unchanged_builds_and_pushes_nothing(example: Path, first_build: dict[str, Result], wheel_cache: Path) -> None:
    before = push(example, wheel_cache)  # pushes unless the test above already did
    again = build(example, wheel_cache)
    assert {u: (r.details["built"], r.details["up_to_date"]) for u, r in again.items()} == {
        "api": (False, True),
        "worker": (False, True),
        "web": (False, True),
    }
    pushed = push(example, wheel_cache)
    for unit in ("api", "worker"):
        details = pushed[unit].details
        assert (details["built"], details["pushed"], details["up_to_date"]) == (False, False, True)
        assert details["digest"] == before[unit].details["digest"]  # from the registry's manifest answer
        assert details["fingerprint"] == first_build[unit].details["fingerprint"]


def test_lib_change_rebuilds_its_services_and_web_change_only_web(
    example: Path, first_build: dict[str, Result], wheel_cache: Path
) -> None:
    db = example / "libs" / "common" / "src" / "example_common" / "db.py"
    db.write_text(db.read_text() + "\n# a change in the shared library\n")
    after_lib = build(example, wheel_cache)
    assert {u: r.details["built"] for u, r in after_lib.items()} == {"api": True, "worker": True, "web": False}
    assert after_lib["api"].details["tags"][1].endswith("-dirty")
    page = example / "services" / "web" / "src" / "index.html"
    page.write_text(page.read_text().replace("</body>", "<!-- changed --></body>"))
    after_web = build(example, wheel_cache)
    assert {u: r.details["built"] for u, r in after_web.items()} == {"api": False, "worker": False, "web": True}
    assert "<!-- changed -->" in (example / "services" / "web" / "dist" / "index.html").read_text()


def test_missing_dockerfile_is_an_error_for_that_service_only(
    tmp_path: Path, make_example: Callable[[Path], Path], wheel_cache: Path
) -> None:
    root = make_example(tmp_path / "repo")
    (root / "services" / "worker" / "Dockerfile").unlink()
    results = build(root, wheel_cache, ["api", "worker"])
    assert results["worker"].status == ERROR
    assert results["worker"].reason.startswith("worker: services/worker/Dockerfile not found")
    assert results["worker"].details["built"] is False
    assert results["api"].status == PASSED


def test_failing_build_shows_its_output_and_the_others_still_build(
    tmp_path: Path, make_example: Callable[[Path], Path], wheel_cache: Path
) -> None:
    root = make_example(tmp_path / "repo")
    with (root / "services" / "api" / "Dockerfile").open("a") as f:
        f.write('RUN echo "the failing step says hello" && exit 3\n')
    worker = root / "services" / "worker" / "src" / "example_worker" / "__init__.py"
    worker.write_text(worker.read_text() + "\n# a code-only change\n")
    results = build(root, wheel_cache, ["api", "worker"])
    assert results["api"].status == FAILED
    assert results["api"].reason.startswith("docker build exited")
    assert "the failing step says hello" in results["api"].output
    assert results["worker"].status == PASSED and results["worker"].details["built"] is True


def test_unreachable_registry_pushes_and_builds_nothing(
    tmp_path: Path, make_example: Callable[[Path], Path], wheel_cache: Path
) -> None:
    root = make_example(tmp_path / "repo")
    (root / "services" / "api" / "src" / "example_api" / "__init__.py").write_text('__version__ = "9"\n')
    results = push(root, wheel_cache, "dead", ["api", "worker"])
    for unit in ("api", "worker"):
        assert results[unit].status == ERROR
        assert "is unreachable" in results[unit].reason
        assert (results[unit].details["pushed"], results[unit].details["built"]) == (False, False)
