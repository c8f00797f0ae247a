"""Build leftovers: what a setuptools build writes into a package's source tree.

An editable install runs egg_info in the source folder and a wheel build also leaves
``build/``; nothing lets pip or uv point them elsewhere. The installed .dist-info (or the
wheel) holds the same metadata, so shipyard removes what a build of its own left behind.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

EGG_INFO = ("*.egg-info", "src/*.egg-info")
WHEEL_BUILD = (*EGG_INFO, "build")


def _found(folders: Sequence[Path], patterns: Sequence[str]) -> set[Path]:
    return {p for f in folders for pattern in patterns for p in f.glob(pattern)}


@contextlib.contextmanager
def leaves_no_leftovers(folders: Sequence[Path], patterns: Sequence[str] = EGG_INFO) -> Iterator[None]:
    """Remove what matches ``patterns`` in ``folders`` and appeared during the block;
    what was there before is the user's and stays."""
    before = _found(folders, patterns)
    try:
        yield
    finally:
        for path in _found(folders, patterns) - before:
            shutil.rmtree(path, ignore_errors=True)
