"""The check registry: every lint/format tool a unit can name in ``checks = [...]``.

Adding a tool is one module with a ``CHECK`` (see :class:`shipyard.checks.base.Check`) and
one line below; the unit key ``checks`` takes its choices from this registry.
"""

from __future__ import annotations

from shipyard.checks import black, flake8, isort, ruff
from shipyard.checks.base import Check

CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        ruff.CHECK,
        flake8.CHECK,
        black.CHECK,
        isort.CHECK,
    )
}

__all__ = ["CHECKS", "Check"]
