"""A team's own Dockerfiles, built as `docker build` builds them (the `dockerfile` build mode)."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from shipyard.core.project import load_project
from shipyard.images.dockerfile import ignore_patterns, ignored
from shipyard.images.settings import image_fingerprint
from tests.helpers import git, write

pytestmark = pytest.mark.integration

# the way a team writes it: COPY requirements.txt, pip install -r, COPY the code
SCRIPT_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
COPY wheels/ /wheels/
RUN pip install --no-index --find-links /wheels -r requirements.txt
COPY app.py .
CMD ["python", "app.py"]
"""


def tiny_wheel(folder: Path, name: str = "greeting", version: str = "1.0") -> Path:
    """A pure-Python wheel made by hand (containers here have no network: the context brings it)."""
    files = {
        f"{name}/__init__.py": "def hello():\n    return 'hello from a wheel'\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
        zf.writestr(f"{name}-{version}.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


@pytest.fixture
def team_repo(tmp_path: Path, images_prefix: str) -> Path:
    """services/hello: a script service (app.py + requirements.txt) with its own Dockerfile and
    .dockerignore; services/gateway: a non-Python service building from the repository root."""
    repo = tmp_path / "repo"
    write(
        repo / "pyproject.toml",
        f"""\
        [tool.shipyard]
        services = ["services/*"]
        python = ["3.11"]

        [tool.shipyard.image]
        local-prefix = "{images_prefix}/"
        """,
    )
    hello = repo / "services" / "hello"
    write(hello / "pyproject.toml", '[project]\nname = "hello"\nversion = "0"\n')
    write(hello / "requirements.txt", "greeting==1.0\n")
    write(hello / "app.py", "from greeting import hello\n\nprint(hello())\n")
    write(hello / "Dockerfile", SCRIPT_DOCKERFILE)
    write(hello / ".dockerignore", "notes/\n*.md\n!KEEP.md\n")
    write(hello / "notes" / "todo.txt", "not in the image\n")
    tiny_wheel(hello / "wheels")
    gateway = repo / "services" / "gateway"
    write(gateway / "shipyard.toml", 'kind = "service"\ncontext = "."\n')
    write(
        gateway / "Dockerfile",
        "FROM python:3.11-slim AS base\nARG GREETING=hi\nCOPY shared/motd.txt /motd.txt\n"
        'FROM base AS final\nARG GREETING\nRUN echo "$GREETING" > /greeting\nCMD ["cat", "/motd.txt"]\n',
    )
    write(repo / "shared" / "motd.txt", "shared from the repository root\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "T")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def run_shipyard(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script, as a repository with no tasks.py of its own runs shipyard."""
    exe = Path(sys.executable).parent / "shipyard"
    return subprocess.run([str(exe), *args], cwd=repo, capture_output=True, text=True, timeout=600)


def run_image(image: str) -> str:
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", image], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def built_image(repo: Path, service: str) -> str:
    result = run_shipyard(repo, "build", "-s", service, "--report", str(repo / f"{service}.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = json.loads((repo / f"{service}.json").read_text())["results"]
    return str(row["details"]["tags"][0])


def test_a_script_service_builds_from_its_own_dockerfile_and_context(team_repo: Path) -> None:
    image = built_image(team_repo, "hello")
    assert run_image(image) == "hello from a wheel\n"
    again = run_shipyard(team_repo, "build", "-s", "hello")
    assert "up to date" in again.stdout, again.stdout


def test_the_fingerprint_is_the_context_docker_sees(team_repo: Path) -> None:
    def fp() -> str:
        project = load_project(team_repo)
        return image_fingerprint(project, project.unit("hello")).digest

    first = fp()
    write(team_repo / "services/hello/notes/todo.txt", "edited: .dockerignore leaves it out\n")
    write(team_repo / "services/hello/README.md", "ignored too\n")
    assert fp() == first
    write(team_repo / "services/hello/KEEP.md", "an exception (!KEEP.md): Docker sends it\n")
    second = fp()
    assert second != first
    write(team_repo / "services/hello/app.py", "print('changed')\n")  # untracked edits count
    assert fp() != second


def test_a_context_at_the_repository_root_and_build_args(team_repo: Path) -> None:
    image = built_image(team_repo, "gateway")
    assert run_image(image) == "shared from the repository root\n"
    project = load_project(team_repo)
    before = image_fingerprint(project, project.unit("gateway")).digest
    write(team_repo / "shared/motd.txt", "edited\n")  # outside the unit, inside its context
    assert image_fingerprint(load_project(team_repo), project.unit("gateway")).digest != before


def test_a_copy_source_outside_the_context_names_the_fix(team_repo: Path) -> None:
    write(team_repo / "services/gateway/shipyard.toml", 'kind = "service"\n')  # context: the unit
    result = run_shipyard(team_repo, "build", "-s", "gateway")
    assert result.returncode == 1
    assert "shared/motd.txt is not in the build context services/gateway" in result.stdout, result.stdout
    assert 'context = "."' in result.stdout


def test_an_undeclared_or_secret_build_arg_is_refused_before_building(team_repo: Path) -> None:
    table = team_repo / "services/gateway/shipyard.toml"
    table.write_text('kind = "service"\ncontext = "."\nbuild-args = { COLOR = "red" }\n')
    result = run_shipyard(team_repo, "build", "-s", "gateway")
    assert result.returncode == 1
    assert "never declares ARG COLOR" in result.stdout + result.stderr
    table.write_text('kind = "service"\ncontext = "."\nbuild-args = { API_TOKEN = "abc123" }\n')
    result = run_shipyard(team_repo, "build", "-s", "gateway")
    assert result.returncode == 1
    assert "API_TOKEN looks like a secret" in result.stdout + result.stderr
    assert "abc123" not in result.stdout + result.stderr


def test_a_declared_build_arg_reaches_the_build(team_repo: Path) -> None:
    table = team_repo / "services/gateway/shipyard.toml"
    table.write_text('kind = "service"\ncontext = "."\nbuild-args = { GREETING = "ahoy" }\n')
    image = built_image(team_repo, "gateway")
    done = subprocess.run(["docker", "run", "--rm", image, "cat", "/greeting"], capture_output=True, text=True)
    assert done.stdout == "ahoy\n", done.stderr


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("notes/todo.txt", True),
        ("README.md", True),
        ("KEEP.md", False),
        ("docs/guide.md", False),  # *.md matches at the context's top only, as in Docker
        ("app.py", False),
    ],
)
def test_dockerignore_semantics(path: str, expected: bool) -> None:
    assert ignored(path, ignore_patterns("notes/\n*.md\n!KEEP.md\n")) is expected
    assert ignored("a/b/c.pyc", ignore_patterns("**/*.pyc\n"))


def test_copy_app_of_the_units_own_app_package_is_not_the_hermetic_contract(tmp_path: Path) -> None:
    """A FastAPI project's `COPY app/ app/` copies its own package: built as docker build, not
    hermetically (where app/ is the wheels shipyard stages)."""
    from shipyard.images.dockerfile import written_for_hermetic

    text = "FROM python:3.11-slim\nCOPY requirements.txt .\nCOPY app/ app/\n"
    assert written_for_hermetic(text, tmp_path)  # no app/ of its own: shipyard's staged wheels
    (tmp_path / "app").mkdir()
    assert not written_for_hermetic(text, tmp_path)
    assert written_for_hermetic(text + "COPY deps/ /tmp/deps/\n", tmp_path)  # deps/ is shipyard's
