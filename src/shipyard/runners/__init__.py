"""Test runners, by name: what a unit's ``test`` command is, and what shipyard may ask of it.

A runner recognises a test command (``matches``); the first line that does is the unit's
runner, and the last, ``command``, takes any command. Generic code (``sessions``, ``testing``)
asks for a capability, never a name: ``junit-xml`` (shipyard adds the runner's argument that
writes JUnit XML, whose cases go into the reports and the cache) and ``reports-no-tests``
(the runner's ``no_tests_status`` means nothing was collected: the unit's ``no-tests``
setting decides). A unit with no ``test`` command runs the first runner's ``default_argv``.
Runners have no keys of their own: ``test`` and ``no-tests`` are common unit keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from shipyard.core.registry import Registry

JUNIT_XML = "junit-xml"
REPORTS_NO_TESTS = "reports-no-tests"
CAPABILITIES = {
    JUNIT_XML: "writes JUnit XML when given junit_args (its test cases enter shipyard's JUnit report and cache)",
    REPORTS_NO_TESTS: "exits no_tests_status when it collected no test (the unit's no-tests setting decides)",
}


class TestRunner(Protocol):
    """One test runner."""

    @property
    def default_argv(self) -> tuple[str, ...]:
        """The command of a unit that sets no ``test``."""

    @property
    def no_tests_status(self) -> int | None:
        """Its exit status when it collected no test (None: it has none)."""

    def matches(self, argv: Sequence[str]) -> bool:
        """Whether ``argv`` runs this runner."""

    def junit_args(self, argv: Sequence[str], path: Path) -> tuple[str, ...]:
        """What to add to ``argv`` so that it writes JUnit XML to ``path`` (nothing when it already does)."""


TEST_RUNNERS: Registry[TestRunner] = Registry(
    "test runner",
    ["shipyard.runners.pytest", "shipyard.runners.command"],
    CAPABILITIES,
)


def runner_of(argv: Sequence[str]) -> str:
    """The name of the runner ``argv`` runs: the first that recognises it."""
    return next(p.name for p in TEST_RUNNERS if p.load().matches(argv))


def default_argv() -> tuple[str, ...]:
    return TEST_RUNNERS.load(TEST_RUNNERS.names()[0]).default_argv


def no_tests_status(argv: Sequence[str]) -> int | None:
    """The exit status that means "no test collected" for ``argv``'s runner (None: it has none)."""
    name = runner_of(argv)
    return TEST_RUNNERS.load(name).no_tests_status if TEST_RUNNERS.can(name, REPORTS_NO_TESTS) else None


def junit_args(argv: Sequence[str], path: Path) -> tuple[str, ...]:
    """The arguments that make ``argv`` write JUnit XML to ``path`` (none when its runner cannot)."""
    name = runner_of(argv)
    return TEST_RUNNERS.load(name).junit_args(argv, path) if TEST_RUNNERS.can(name, JUNIT_XML) else ()
