"""Builders for throwaway monorepos in temporary git repositories."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT_PYPROJECT = """\
[project]
name = "demo"
version = "0"

[tool.shipyard]
services = ["services/*"]
libs = ["libs/*"]
python = ["3.11"]

[tool.shipyard.environments.local]
registry = "127.0.0.1:5000"

[tool.ruff]
line-length = 100
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(("git", *args), cwd=repo, check=True, capture_output=True, text=True).stdout


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def python_unit(
    root: Path,
    folder: str,
    name: str,
    *,
    kind: str = "service",
    depends_on: Sequence[str] = (),
    test_body: str = "assert True",
    extra_table: str = "",
) -> Path:
    """A minimal Python unit: a package, one test, and its [tool.shipyard] table."""
    unit = root / folder
    pkg = name.replace("-", "_")
    deps = ", ".join(f'"{d}"' for d in depends_on)
    write(
        unit / "pyproject.toml",
        f"""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "0.1.0"
        requires-python = ">=3.10"

        [project.optional-dependencies]
        test = ["pytest"]

        [tool.shipyard]
        kind = "{kind}"
        depends-on = [{deps}]
        {extra_table}
        """,
    )
    write(unit / "src" / pkg / "__init__.py", "VALUE = 1\n")
    write(unit / "tests" / f"test_{pkg}.py", f"def test_it():\n    {test_body}\n")
    return unit


def make_monorepo(root: Path, *, files: Mapping[str, str] | None = None, commit: bool = True) -> Path:
    """services/a (uses libs/core), services/b and libs/core, committed in a new git repo."""
    root.mkdir(parents=True, exist_ok=True)
    write(root / "pyproject.toml", ROOT_PYPROJECT)
    write(root / "noxfile.py", "import nox\n\nfrom shipyard.sessions import register\n\nregister(nox)\n")
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    python_unit(root, "services/a", "a", depends_on=["core"])
    python_unit(root, "services/b", "b")
    python_unit(root, "libs/core", "core", kind="lib")
    for rel, text in (files or {}).items():
        write(root / rel, text)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "Test")
    if commit:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
    return root


def run_invoke(repo: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 600):  # type: ignore[no-untyped-def]
    """Run ``invoke ARGS`` in ``repo`` the way a user would; returns the CompletedProcess."""
    import os
    import sys

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        (sys.executable, "-m", "invoke", *args),
        cwd=repo,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def default_sigint() -> None:
    """``preexec_fn`` for a child a test sends SIGINT to: the default handler, whatever the suite inherited.

    A suite started in the background (``cmd &``, nohup, some CI runners) runs with SIGINT
    ignored, and a child would inherit that: Python then installs no KeyboardInterrupt
    handler and Ctrl-C does nothing.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
