"""The files shipyard reads and keeps in a repository: TOML tables, and its .shipyard folder.

Below discovery (project.py) so that the registries (dependency readers) can use them too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from shipyard.core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

STATE_DIR = ".shipyard"
_IGNORE_ALL = "# written by shipyard: what it keeps here (caches, venv stamps, state) is not the project's\n*\n"


def shipyard_dir(root: Path) -> Path:
    """``<root>/.shipyard``, created with a ``.gitignore`` of ``*`` (as pytest does for its
    cache), so nothing shipyard keeps in the user's tree shows up in ``git status``."""
    folder = root / STATE_DIR
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        ignore.write_text(_IGNORE_ALL, encoding="utf-8")
    return folder


def read_toml(path: Path, root: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_rel(path, root)}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{_rel(path, root)}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
            hint="TOML files are UTF-8: re-save it as UTF-8",
        ) from None
    except OSError as exc:
        raise ConfigError(f"{_rel(path, root)}: cannot read: {exc.strerror}") from None


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
