"""Tool and interpreter versions for cache keys, found without slow imports.

``importlib.metadata`` costs ~70 ms to import (it pulls in ``email``), more than the
whole "everything is cached" decision; a distribution's version is also in the name of
its ``<name>-<version>.dist-info`` directory, which one ``os.listdir`` per path entry
finds. Interpreter versions are remembered per binary (path, size, mtime), so only a
new or upgraded interpreter costs a subprocess.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_NORMALIZE = re.compile(r"[-_.]+")


def _normal(name: str) -> str:
    return _NORMALIZE.sub("_", name).lower()


@functools.cache
def dist_version(name: str) -> str:
    """The installed version of distribution ``name`` ("" when it is not installed)."""
    wanted = _normal(name)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for item in names:
            if item.endswith(".dist-info"):
                dist, _, version = item[: -len(".dist-info")].rpartition("-")
                if _normal(dist) == wanted:
                    return version
    return _metadata_version(name)


def _metadata_version(name: str) -> str:
    from importlib import metadata  # the slow, general way: eggs, odd layouts

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def venv_version(venv: Path) -> str:
    """The full Python version a venv was made with, from its pyvenv.cfg ("" if unreadable).

    uv writes ``version_info = 3.11.7``, virtualenv ``version_info = 3.11.7.final.0``,
    the stdlib ``version = 3.11.7``.
    """
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return ""
    values = dict(line.partition("=")[::2] for line in text.splitlines())
    found = {k.strip(): v.strip() for k, v in values.items()}
    raw = found.get("version_info") or found.get("version") or ""
    return ".".join(raw.split(".")[:3])


def interpreter_version(version: str, memo_file: Path) -> str:
    """The full version (``3.11.7``) of the ``python<version>`` on PATH, "" if there is none.

    Remembered per binary (path, size, mtime) in ``memo_file``. A launcher script such as
    a pyenv shim is remembered by the script's identity, so prefer venv_version where a
    venv exists: it says what the tests really run on.
    """
    binary = _which(f"python{version}", os.environ.get("PATH", ""))
    if binary is None:
        return ""
    real = os.path.realpath(binary)
    stat = os.stat(real)
    return _full_version(f"{real}:{stat.st_size}:{stat.st_mtime_ns}", real, memo_file)


@functools.lru_cache(maxsize=64)
def _full_version(ident: str, binary: str, memo_file: Path) -> str:
    memo = _read_memo(memo_file)
    if ident not in memo:
        memo[ident] = _ask(binary)
        _write_memo(memo_file, memo)
    return memo[ident]


@functools.lru_cache(maxsize=64)
def _which(name: str, path: str) -> str | None:
    return shutil.which(name, path=path)


def _ask(binary: str) -> str:
    code = "import platform; print(platform.python_version())"
    done = subprocess.run((binary, "-c", code), capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def _read_memo(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_memo(path: Path, memo: dict[str, str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # only a memo: the next run asks the interpreter again
