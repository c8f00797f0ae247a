"""Reading one ``.env`` file with python-dotenv, strictly.

python-dotenv skips a statement it cannot parse and only logs a warning; shipyard turns
that warning into an error naming the file and line, because a silently dropped line is
a setting that silently is not there. Values are read literally (no ``${VAR}``
expansion), and nothing is ever written to ``os.environ``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shipyard.core.errors import ShipyardError

_UNPARSED = re.compile(r"could not parse statement starting at line (\d+)")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LINE_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_lock = threading.Lock()  # the dotenv logger is process-wide state


class _Unparsed(logging.Handler):
    """Collects the line numbers python-dotenv reports as unparsable."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = _UNPARSED.search(record.getMessage())
        if found:
            self.lines.append(int(found.group(1)))


@contextmanager
def _capture_unparsed() -> Iterator[_Unparsed]:
    logger = logging.getLogger("dotenv.main")
    handler = _Unparsed()
    with _lock:
        saved = logger.level, logger.propagate, logger.disabled
        logger.addHandler(handler)
        # the warning is ours to report: keep it from also reaching stderr via the root logger
        logger.setLevel(logging.WARNING)
        logger.propagate, logger.disabled = False, False
        try:
            yield handler
        finally:
            logger.removeHandler(handler)
            logger.level, logger.propagate, logger.disabled = saved


def read_env_file(path: Path, name: str) -> dict[str, str | None]:
    """The ``KEY=VALUE`` pairs of ``path`` (shown as ``name`` in errors); ``KEY`` alone -> None."""
    from dotenv import dotenv_values

    try:
        with _capture_unparsed() as unparsed:
            values = dotenv_values(path, interpolate=False)
    except UnicodeDecodeError:
        raise ShipyardError(
            f"{name}: {_bad_byte(path)} is not UTF-8",
            hint=f"save {name} as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        ) from None
    except OSError as exc:
        raise ShipyardError(f"{name}: cannot read: {exc.strerror}", hint="make it a readable UTF-8 file") from None
    if unparsed.lines:
        line, text = _locate(path, unparsed.lines[0])
        raise ShipyardError(
            f"{name}: line {line}: cannot parse {_what(text)}",
            hint="write KEY=VALUE; quote values with spaces, '#' or quotes, and close the quote",
        )
    for key in values:
        if not _KEY.match(key):
            raise ShipyardError(
                f"{name}: {key!r} is not a valid variable name",
                hint="use letters, digits and underscores, not starting with a digit",
            )
    return dict(values)


def _bad_byte(path: Path) -> str:
    """Where the first non-UTF-8 byte is (the decoder's own error is relative to a chunk)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return f"line {line}: byte 0x{data[exc.start]:02x}"
    return "a byte"


def _locate(path: Path, line: int) -> tuple[int, str]:
    """The first non-blank line at or after ``line``: python-dotenv counts a statement from
    the blank lines before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for number in range(line, len(lines) + 1):
        if lines[number - 1].strip():
            return number, lines[number - 1]
    return line, ""


def _what(text: str) -> str:
    """What the bad statement is about, by key only: the line itself may hold a secret."""
    found = _LINE_KEY.match(text)
    return f"the value of {found.group(1)} (an unclosed quote?)" if found else "this statement (expected KEY=VALUE)"
