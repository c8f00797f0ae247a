"""The git guard: a tracked file that holds a secret's value is refused.

Checked every time settings are loaded, for the files the settings came from (``.env*``
files and the unit's ``env`` defaults table). A secret-marked key may be tracked with an
empty value or a reference (``ssm:``/``secretsmanager:``), never with a literal.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from shipyard.core.errors import ShipyardError


def tracked(root: Path, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` (relative to ``root``) git tracks; none outside a git repository."""
    if not paths:
        return set()
    try:
        done = subprocess.run(("git", "ls-files", "-z", "--", *paths), cwd=root, capture_output=True, check=False)
    except FileNotFoundError:
        return set()  # no git, so nothing can be committed by accident either
    if done.returncode != 0:
        return set()  # not a git repository
    return {p for p in done.stdout.decode().split("\0") if p}


def refuse_tracked_secrets(root: Path, offenders: Mapping[str, Sequence[str]]) -> None:
    """Raise when a tracked file in ``offenders`` (file -> secret keys with values) exists."""
    for path in sorted(tracked(root, sorted(offenders))):
        keys = ", ".join(dict.fromkeys(offenders[path]))
        raise ShipyardError(
            f"{path} is tracked by git and holds a value for the secret {keys}",
            hint=_hint(path, keys.split(", ")[0]),
        )


def _hint(path: str, key: str) -> str:
    move = f"move the value to SSM ({key}=ssm:/<env>/<service>/{key.lower()}) or Secrets Manager"
    if Path(path).name.startswith(".env"):
        return f"run `git rm --cached {path}`, keep it in .gitignore, {move}, and rotate it: it is in git history"
    return f"{move} instead of the `env` table, and rotate it: it is in git history"
