"""Which branch this run builds: GitHub Actions' event and ref, else git's checked-out branch.

The answer decides defaults that differ between the main branch and everything else (the
result cache writes only from main). It is a convenience, not a security boundary: anyone
can set an environment variable, so what may really write is decided by the credentials.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# pull_request_target runs with GITHUB_REF of the *base* branch while it may build the
# pull request's code: every pull-request event counts as "not a branch", whatever its ref.
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment")
HEADS = "refs/heads/"


@dataclass(frozen=True)
class Checkout:
    """The branch a run is on ("" when none: a pull request, a tag, a detached HEAD) and how we know."""

    branch: str
    source: str


def current(root: Path, environ: Mapping[str, str] | None = None) -> Checkout:
    """The branch of this run: from GitHub Actions' variables in Actions, else from git."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") == "true":
        return from_actions(env)
    return from_git(root)


def from_actions(env: Mapping[str, str]) -> Checkout:
    event, ref = env.get("GITHUB_EVENT_NAME", ""), env.get("GITHUB_REF", "")
    if event in PULL_REQUEST_EVENTS:
        return Checkout("", f"GITHUB_EVENT_NAME={event}")
    branch = ref[len(HEADS) :] if ref.startswith(HEADS) else ""
    return Checkout(branch, f"GITHUB_REF={ref or '(unset)'}")


def from_git(root: Path) -> Checkout:
    try:
        done = subprocess.run(
            ("git", "rev-parse", "--abbrev-ref", "HEAD"), cwd=root, capture_output=True, text=True, check=False
        )
    except OSError:
        return Checkout("", "git is not available")
    name = done.stdout.strip() if done.returncode == 0 else ""
    # a detached HEAD (CI checkouts of a sha or a tag) prints "HEAD": not a branch
    return Checkout("" if name == "HEAD" else name, "git rev-parse --abbrev-ref HEAD")
