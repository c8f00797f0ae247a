"""This repository's example system (services/ + libs/) copied into throwaway git repos,
and cleanup of the images and registry repositories the tests create."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from shipyard.core.fingerprint import tracked_files
from shipyard.core.project import load_project
from shipyard.images.build import BuildOptions
from shipyard.images.jobs import build_jobs, push_jobs
from shipyard.run.jobs import run_jobs
from shipyard.run.results import Result
from tests.helpers import git, write

REPO = Path(__file__).resolve().parents[2]

ROOT_PYPROJECT = """\
[project]
name = "example"
version = "0"

[tool.shipyard]
services = ["services/*"]
libs = ["libs/*"]
python = ["3.11"]

[tool.shipyard.image]
local-prefix = "{prefix}/"

[tool.shipyard.environments.local]
registry = "{registry}/{prefix}"
{environments}"""


def copy_example(dest: Path, *, prefix: str, registry: str, environments: str = "") -> Path:
    """services/ and libs/ of this repository (tracked files, working-tree content) in a new git repo."""
    for rel in tracked_files(REPO):
        if rel.startswith(("services/", "libs/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / rel, dest / rel)
    text = ROOT_PYPROJECT.format(prefix=prefix, registry=registry, environments=environments)
    (dest / "pyproject.toml").write_text(text, encoding="utf-8")
    write(dest / ".gitignore", ".shipyard/\n")
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.email", "test@example.com")
    git(dest, "config", "user.name", "Test")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "example system")
    return dest


def build(root: Path, cache: Path, services: Sequence[str] = (), **options: bool) -> dict[str, Result]:
    """`invoke build [--force] [--no-cache]` as a library call; results by unit."""
    project = load_project(root)
    jobs = build_jobs(project, project.select(services, libs=False), BuildOptions(wheel_cache=cache, **options))
    return {r.unit: r for r in run_jobs(jobs, workers=2, report=lambda _: None)}


def push(
    root: Path, cache: Path, env: str = "local", services: Sequence[str] = (), **options: bool
) -> dict[str, Result]:
    """`invoke push --env ENV [--force] [--no-cache]` as a library call; results by unit."""
    project = load_project(root)
    jobs = push_jobs(project, project.select(services, libs=False), env, BuildOptions(wheel_cache=cache, **options))
    return {r.unit: r for r in run_jobs(jobs, workers=2, report=lambda _: None)}


def remove_local_images(prefixes: Sequence[str]) -> None:
    """Every local image whose repository starts with one of ``prefixes``."""
    listing = subprocess.run(
        ("docker", "images", "--format", "{{.ID}} {{.Repository}}"), capture_output=True, text=True
    ).stdout
    ids = {line.split()[0] for line in listing.splitlines() if line.split()[1].startswith(tuple(prefixes))}
    if ids:
        subprocess.run(("docker", "rmi", "--force", *sorted(ids)), capture_output=True)


def delete_registry_repositories(registry: str, prefix: str) -> None:
    """Delete the manifests of every repository under ``prefix`` (the registry allows deletes)."""
    base = f"http://{registry}/v2"
    try:
        catalog = json.load(urllib.request.urlopen(f"{base}/_catalog?n=100&last={prefix}", timeout=10))["repositories"]
    except OSError:
        return
    for name in (r for r in catalog if r.startswith(prefix)):
        try:
            tags = json.load(urllib.request.urlopen(f"{base}/{name}/tags/list", timeout=10)).get("tags") or []
        except OSError:
            continue
        for tag in tags:
            _delete_tag(base, name, tag)


def _delete_tag(base: str, name: str, tag: str) -> None:
    head = urllib.request.Request(f"{base}/{name}/manifests/{tag}", method="HEAD")
    head.add_header("Accept", "application/vnd.docker.distribution.manifest.v2+json")
    try:
        digest = urllib.request.urlopen(head, timeout=10).headers["Docker-Content-Digest"]
        delete = urllib.request.Request(f"{base}/{name}/manifests/{digest}", method="DELETE")
        urllib.request.urlopen(delete, timeout=10)
    except OSError:
        pass  # best effort: already deleted through another tag, or deletes are off (names are unique anyway)
