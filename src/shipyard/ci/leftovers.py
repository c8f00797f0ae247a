"""Build leftovers: what a setuptools build writes into a package's source tree.

An editable install (the test sessions') runs egg_info in the source folder, and nothing
lets pip or uv point it elsewhere; the installed .dist-info holds the same metadata, so
shipyard removes what an install of its own left behind. (Image wheels are built from a
staged copy of the sources: images/context.py.)
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

EGG_INFO = ("*.egg-info", "src/*.egg-info")


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
