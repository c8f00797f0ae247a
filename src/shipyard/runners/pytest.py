"""The ``pytest`` test runner: ``pytest ...`` or ``<python> -m pytest ...``; exit 5 means no test collected."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shipyard.core.registry import Plugin
from shipyard.runners import JUNIT_XML, REPORTS_NO_TESTS


class Pytest:
    default_argv = ("pytest",)
    no_tests_status = 5

    def matches(self, argv: Sequence[str]) -> bool:
        return bool(argv) and (Path(argv[0]).name == "pytest" or tuple(argv[1:3]) == ("-m", "pytest"))

    def junit_args(self, argv: Sequence[str], path: Path) -> tuple[str, ...]:
        return () if any(a.startswith("--junitxml") for a in argv) else (f"--junitxml={path}",)


PLUGIN = Plugin(
    "pytest",
    Pytest(),
    capabilities=frozenset({JUNIT_XML, REPORTS_NO_TESTS}),
    doc="pytest (the default test command), its cases as JUnit XML",
)
