"""Wheels made on the host, so image builds need no network.

Third-party pins (requirements.lock) are downloaded as binary wheels for the image's
Python and platform, into a persistent cache keyed by the pins that apply to the image.
pip would evaluate a pin's environment marker for the host's interpreter, so the markers
are evaluated here for the image's (see interpreter.py) and pip gets only the pins that
apply, without markers. The unit and its
libs are built as wheels from their staged, git-tracked files with a fixed
SOURCE_DATE_EPOCH, so the same sources give byte-identical wheels (and cached layers).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core.errors import ShipyardError
from shipyard.run.proc import Command, command, run

if TYPE_CHECKING:
    from shipyard.images.interpreter import ImagePython

# 1980-01-01: the earliest time a zip file can hold; any constant would do.
SOURCE_DATE_EPOCH = "315532800"
CACHE_FORMAT = "2"
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


def logical_lines(text: str) -> list[tuple[int, str]]:
    """A requirements file's lines as pip reads them: continuations joined, comments dropped;
    each with the number of the line it starts on."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        start = start or number
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        line = _COMMENT.sub("", pending + raw).strip()
        if line:
            lines.append((start, line))
        pending, start = "", 0
    return lines


_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTIONS = re.compile(r"\s--[a-z]")  # where per-requirement options (--hash=...) begin


def requirements_for(lock: Path, markers: Mapping[str, str]) -> str:
    """The pins of ``lock`` that apply to an interpreter with these environment ``markers``,
    with the markers removed (so pip, which evaluates them for the host, keeps them all)."""
    kept = []
    for number, line in logical_lines(lock.read_text(encoding="utf-8")):
        if line.startswith("-"):
            kept.append(line)  # an option line (--index-url, --find-links): as written
            continue
        pin = _pin_for(lock, number, line, markers)
        if pin:
            kept.append(pin)
    return "".join(f"{line}\n" for line in kept)


def _pin_for(lock: Path, number: int, line: str, markers: Mapping[str, str]) -> str:
    from packaging.requirements import InvalidRequirement, Requirement

    match = _OPTIONS.search(line)
    spec, options = (line[: match.start()], line[match.start() :]) if match else (line, "")
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        raise ShipyardError(
            f"{lock.name}, line {number}: not a requirement: {spec.strip()} ({exc})",
            hint="regenerate the lock (e.g. `uv pip compile ... -o requirements.lock`)",
        ) from None
    if req.marker is not None and not req.marker.evaluate(dict(markers)):
        return ""
    req.marker = None
    return str(req) + options


def download_command(
    requirements: Path, dest: Path, *, python: ImagePython, platform: str, require_hashes: bool = False
) -> Command:
    """``pip download`` of every pin in ``requirements`` as binary wheels for the image's interpreter;
    with ``require_hashes`` (a lock that hashes its pins) every wheel must match its ``--hash``."""
    argv = [sys.executable, "-m", "pip", "download", "--only-binary=:all:"]
    if require_hashes:
        argv.append("--require-hashes")
    for tag in platform_tags(platform):
        argv += ["--platform", tag]
    argv += ["--python-version", python.full_version, "--implementation", python.implementation]
    argv += ["--abi", python.abi, "--requirement", str(requirements), "--dest", str(dest)]
    argv += ["--progress-bar", "off", "--disable-pip-version-check"]
    return command(*argv)


def cache_key(requirements: str, *, python: ImagePython, platform: str) -> str:
    """The wheel-cache entry: the pins that apply, the image's interpreter and the platform."""
    head = f"{CACHE_FORMAT}\0{python.full_version}\0{python.abi}\0{platform}\0"
    return hashlib.sha256((head + requirements).encode()).hexdigest()[:32]


def cached_deps(lock: Path, cache: Path, *, python: ImagePython, platform: str, stream: bool = False) -> Path:
    """The cache folder holding the wheels of ``lock`` for ``python``; downloaded on first use."""
    requirements = requirements_for(lock, python.markers)
    entry = cache / cache_key(requirements, python=python, platform=platform)
    if (entry / _COMPLETE).is_file():
        return entry
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=entry.name + ".", dir=cache))
    try:
        pins = tmp / "requirements.image.txt"
        pins.write_text(requirements, encoding="utf-8")
        hashed = has_hashes(requirements)
        cmd = download_command(pins, tmp, python=python, platform=platform, require_hashes=hashed)
        done = run(cmd, stream=stream)
        if not done.ok:
            raise StepFailed(_download_failure(lock, done.output), done.output)
        pins.unlink()
        (tmp / _COMPLETE).write_text(lock.name + "\n", encoding="utf-8")
        _publish(tmp, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return entry


def has_hashes(requirements: str) -> bool:
    """Whether every pin of a requirements text carries a ``--hash`` (pip's hash-checking mode)."""
    pins = [line for _, line in logical_lines(requirements) if not line.startswith("-")]
    return bool(pins) and all("--hash=" in line for line in pins)


def _download_failure(lock: Path, output: str) -> str:
    if "DO NOT MATCH THE HASHES" in output:
        return (
            f"downloading the pinned wheels failed: a --hash in {lock.name} does not match the wheel the index "
            "serves (a stale or edited lock); regenerate the lock with its hashes"
        )
    return "downloading the pinned wheels failed"


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
