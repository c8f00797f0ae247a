"""The one boundary where errors become readable lines and exit codes."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import redact, redacting_output

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR, EXIT_INTERRUPTED, EXIT_BUG = 1, 130, 2


def print_error(exc: ShipyardError) -> None:
    """``error: <message>`` and ``hint: <hint>`` on stderr, with registered secrets redacted."""
    print(f"error: {redact(exc.message)}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {redact(exc.hint)}", file=sys.stderr)


def guarded(func: F) -> F:
    """Turn ShipyardError into ``error:``/``hint:`` + exit 1, Ctrl-C into exit 130,
    and anything unexpected into a short report (full traceback only with SHIPYARD_DEBUG)."""
    from invoke.exceptions import Exit

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ShipyardError as exc:
            print_error(exc)
            raise Exit(code=EXIT_ERROR) from None
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            raise Exit(code=EXIT_INTERRUPTED) from None
        except Exit:
            raise
        except Exception as exc:
            import os

            if os.environ.get("SHIPYARD_DEBUG"):
                traceback.print_exc()
            where = traceback.extract_tb(exc.__traceback__)[-1]
            print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
            print(
                f"  at {where.filename}:{where.lineno}; rerun with SHIPYARD_DEBUG=1 for the traceback", file=sys.stderr
            )
            raise Exit(code=EXIT_BUG) from None

    @functools.wraps(func)
    def redacted(*args: Any, **kwargs: Any) -> Any:
        # every line a task prints (its own, a tool's, an error report) passes the redactor
        with redacting_output():
            return wrapper(*args, **kwargs)

    return redacted  # type: ignore[return-value]
