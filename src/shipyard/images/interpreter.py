"""The image's Python: the environment markers of the interpreter inside the base image.

Wheels are downloaded on the host, but a lock's markers (``; python_full_version <
'3.11.3'``) are about the interpreter that installs them: the base image's (3.11.2), not
the host's (3.11.7). It is read once from the base image, with no network, and kept
under .shipyard/python/, keyed by the base image's id (a re-pulled tag is a new id).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shipyard.core.errors import ShipyardError
from shipyard.images.plan import inspect_command
from shipyard.images.wheels import StepFailed
from shipyard.run.proc import Command, command, run

# The keys and values of packaging.markers.default_environment(), computed by the image's
# interpreter with the standard library only (the base image need not have packaging).
PROBE = """\
import json, os, platform, sys
def fmt(v):
    s = "%d.%d.%d" % (v.major, v.minor, v.micro)
    return s if v.releaselevel == "final" else s + v.releaselevel[0] + str(v.serial)
print(json.dumps({
    "implementation_name": sys.implementation.name,
    "implementation_version": fmt(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}))
"""
_IMPLEMENTATIONS = {"cpython": "cp", "pypy": "pp"}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ImagePython:
    """The interpreter of a base image, as its environment markers."""

    markers: Mapping[str, str]

    @property
    def full_version(self) -> str:
        return self.markers["python_full_version"]

    @property
    def version(self) -> str:
        """``3.11``."""
        return self.markers["python_version"]

    @property
    def implementation(self) -> str:
        """pip's ``--implementation``: ``cp`` for CPython."""
        return _IMPLEMENTATIONS.get(self.markers["implementation_name"], self.markers["implementation_name"])

    @property
    def abi(self) -> str:
        """pip's ``--abi``: ``cp311``."""
        return self.implementation + self.version.replace(".", "")


def probe_command(base_image: str, platform: str) -> Command:
    """Run the image's python3 on PROBE: no network, nothing left behind."""
    return command(
        "docker", "run", "--rm", "--network", "none", "--platform", platform,
        "--entrypoint", "python3", base_image, "-c", PROBE,
    )  # fmt: skip


def base_image_id(base_image: str) -> str:
    done = run(inspect_command(base_image))
    if not done.ok:
        raise ShipyardError(
            f"base image {base_image} is not on this Docker engine",
            hint=f"pull it (`docker pull {base_image}`), or set [tool.shipyard.image] base-image",
        )
    return done.output.strip()


def image_python(base_image: str, platform: str, cache: Path) -> ImagePython:
    """The base image's Python: from ``cache`` when this image id was read before, else read now."""
    entry = cache / (base_image_id(base_image).replace(":", "-") + ".json")
    with _LOCK:  # parallel builds share one base image: read it once
        if not entry.is_file():
            _store(entry, _probe(base_image, platform))
        return ImagePython(json.loads(entry.read_text(encoding="utf-8")))


def _probe(base_image: str, platform: str) -> dict[str, str]:
    done = run(probe_command(base_image, platform))
    if not done.ok:
        raise StepFailed(f"reading the Python version of base image {base_image} failed", done.output)
    try:
        # docker's own warnings share the output: the JSON is the line that starts with "{"
        markers = json.loads([line for line in done.output.splitlines() if line.startswith("{")][-1])
    except (ValueError, IndexError):
        raise StepFailed(f"base image {base_image}: python3 printed no marker environment", done.output) from None
    return {str(k): str(v) for k, v in markers.items()}


def _store(entry: Path, markers: Mapping[str, str]) -> None:
    """Write atomically: another shipyard process may read the same entry."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=entry.name + ".", dir=entry.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(dict(markers), f, indent=2, sort_keys=True)
    os.replace(tmp, entry)


def check_python(unit: str, python: str, base_image: str, found: ImagePython, requires_python: str = "") -> None:
    """The unit's ``python`` setting must be the base image's (its wheels are for that ABI), and
    the image's interpreter must satisfy the unit's requires-python."""
    if found.version != python:
        raise ShipyardError(
            f"{unit}: base image {base_image} has Python {found.full_version}, but the unit's python is {python}",
            hint=f'set python = "{found.version}" for {unit}, or a base-image with Python {python}',
        )
    if requires_python and not _admits(requires_python, found.full_version):
        raise ShipyardError(
            f"{unit}: base image {base_image} has Python {found.full_version},"
            f" which the unit's requires-python {requires_python!r} excludes",
            hint=f"set base-image for {unit} to an image whose Python satisfies {requires_python!r}",
        )


def _admits(requires_python: str, version: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(requires_python).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True  # reported where the unit's Python versions are chosen (pythons.py)
