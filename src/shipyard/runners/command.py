"""The ``command`` test runner: any other test command; its exit status alone says pass or fail."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shipyard.core.registry import Plugin


class Command:
    default_argv: tuple[str, ...] = ()
    no_tests_status = None

    def matches(self, argv: Sequence[str]) -> bool:
        return True

    def junit_args(self, argv: Sequence[str], path: Path) -> tuple[str, ...]:
        return ()


PLUGIN = Plugin("command", Command(), doc="any other command (e.g. `make test`): passed when it exits 0")
