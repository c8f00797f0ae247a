"""Wheels made on the host, so image builds need no network.

Third-party pins (requirements.lock) are downloaded as binary wheels for the image's
Python and platform, into a persistent cache keyed by the lock's hash. The unit and its
libs are built as wheels from their staged, git-tracked files with a fixed
SOURCE_DATE_EPOCH, so the same sources give byte-identical wheels (and cached layers).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from shipyard.errors import ShipyardError
from shipyard.proc import Command, command, run

# 1980-01-01: the earliest time a zip file can hold; any constant would do.
SOURCE_DATE_EPOCH = "315532800"
CACHE_FORMAT = "1"
_COMPLETE = ".complete"

_PLATFORM_TAGS = {
    # manylinux2014 (glibc 2.17) covers most wheels; manylinux_2_28 the newer-only ones.
    # Debian-based python images (bookworm: glibc 2.36) run both.
    "linux/amd64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "linux/arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}


class StepFailed(Exception):
    """A build step's command failed; ``output`` is what it printed, shown to the user."""

    def __init__(self, step: str, output: str) -> None:
        super().__init__(step)
        self.step = step
        self.output = output


def platform_tags(platform: str) -> tuple[str, ...]:
    if platform not in _PLATFORM_TAGS:
        raise ShipyardError(
            f"no wheel platform known for image platform {platform!r}",
            hint="set [tool.shipyard.image] platform to one of " + ", ".join(_PLATFORM_TAGS),
        )
    return _PLATFORM_TAGS[platform]


def abi(python: str) -> str:
    """``3.11`` -> ``cp311``."""
    return "cp" + python.replace(".", "")


def download_command(lock: Path, dest: Path, *, python: str, platform: str) -> Command:
    """``pip download`` of every pin in ``lock`` as binary wheels for the image's interpreter."""
    argv = [sys.executable, "-m", "pip", "download", "--only-binary=:all:"]
    for tag in platform_tags(platform):
        argv += ["--platform", tag]
    argv += ["--python-version", python, "--implementation", "cp", "--abi", abi(python)]
    argv += ["--requirement", str(lock), "--dest", str(dest), "--progress-bar", "off", "--disable-pip-version-check"]
    return command(*argv)


def cache_key(lock_text: bytes, *, python: str, platform: str) -> str:
    """The wheel-cache entry for a lock: its content, the interpreter and the platform."""
    head = f"{CACHE_FORMAT}\0{python}\0{platform}\0".encode()
    return hashlib.sha256(head + lock_text).hexdigest()[:32]


def cached_deps(lock: Path, cache: Path, *, python: str, platform: str, stream: bool = False) -> Path:
    """The cache folder holding the wheels of ``lock``; downloaded on first use."""
    entry = cache / cache_key(lock.read_bytes(), python=python, platform=platform)
    if (entry / _COMPLETE).is_file():
        return entry
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=entry.name + ".", dir=cache))
    try:
        done = run(download_command(lock, tmp, python=python, platform=platform), stream=stream)
        if not done.ok:
            raise StepFailed("downloading the pinned wheels failed", done.output)
        (tmp / _COMPLETE).write_text(lock.name + "\n", encoding="utf-8")
        _publish(tmp, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return entry


def _publish(tmp: Path, entry: Path) -> None:
    """Move a finished download into place; a parallel job may have won the race."""
    try:
        tmp.rename(entry)
    except OSError:
        if not (entry / _COMPLETE).is_file():
            shutil.rmtree(entry, ignore_errors=True)
            tmp.rename(entry)


def link_wheels(source: Path, dest: Path) -> list[str]:
    """Hard-link (or copy) the cached wheels into the build context; returns their names."""
    dest.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in source.glob("*.whl"))
    for name in names:
        try:
            os.link(source / name, dest / name)
        except OSError:
            shutil.copyfile(source / name, dest / name)
    return names


_UV_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _find_uv() -> str | None:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def uv_binary() -> str | None:
    """uv, when installed (it builds wheels several times faster than pip)."""
    # find_uv_bin reads sysconfig, whose first use is not thread-safe: look once, under a lock.
    with _UV_LOCK:
        return _find_uv()


def wheel_commands(sources: Sequence[Path], dest: Path, *, uv: str | None) -> list[Command]:
    """Build one wheel per source folder (the unit and its libs), without their dependencies."""
    env = {"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    if uv:
        return [command(uv, "build", "--wheel", "--out-dir", str(dest), str(src), env=env) for src in sources]
    pip = (sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "--wheel-dir", str(dest))
    return [command(*pip, *(str(s) for s in sources), env=env)]


def build_wheels(sources: Sequence[Path], dest: Path, *, stream: bool = False) -> list[str]:
    """Run ``wheel_commands``; returns the wheel file names."""
    dest.mkdir(parents=True, exist_ok=True)
    for cmd in wheel_commands(sources, dest, uv=uv_binary()):
        done = run(cmd, stream=stream)
        if not done.ok:
            raise StepFailed("building the service's wheels failed", f"$ {cmd}\n{done.output}")
    return sorted(p.name for p in dest.glob("*.whl"))
