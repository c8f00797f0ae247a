"""The check registry: every lint/format/type-check tool a unit can name in ``checks = [...]``.

Adding a tool is one module with a ``CHECK`` (see :class:`shipyard.checks.base.Check`) and
one line below; the unit key ``checks`` takes its choices from this registry, ``shipyard
init`` finds a unit's tools by each check's ``detect``, and the lint key reads each
check's root configuration. ``command:<argv>`` (see :mod:`shipyard.checks.command`) is a
unit's own command beside them.
"""

from __future__ import annotations

from shipyard.checks import black, flake8, isort, mypy, pylint, ruff
from shipyard.checks.base import Check
from shipyard.checks.command import PREFIX, command_check, is_command

CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        ruff.CHECK,
        flake8.CHECK,
        black.CHECK,
        isort.CHECK,
        mypy.CHECK,
        pylint.CHECK,
    )
}
# every root file some check may read: a change to one may change any unit's lint (--since)
ROOT_FILES = tuple(dict.fromkeys(name for check in CHECKS.values() for name in check.root_files))


def check_named(name: str, where: str) -> Check:
    """The check a unit's ``checks`` entry names (validated already: a registry name or a command)."""
    return command_check(name, where) if is_command(name) else CHECKS[name]


__all__ = ["CHECKS", "PREFIX", "ROOT_FILES", "Check", "check_named", "is_command"]
