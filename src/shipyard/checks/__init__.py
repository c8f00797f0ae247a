"""The check registry: every lint/format/type-check tool a unit can name in ``checks = [...]``.

Adding a tool is one module with a ``CHECK`` (see :class:`shipyard.checks.base.Check`) and
one line below; the unit key ``checks`` takes its choices from this registry, ``shipyard
init`` finds a unit's tools by each check's ``detect``, and the lint key reads each
check's root configuration. A plugin's capabilities (``can-fix``, ``follows-imports``, and
its kind: ``lint``, ``format`` or ``types``) come from its Check (:func:`base.plugin`).
``command:<argv>`` (see :mod:`shipyard.checks.command`) is a unit's own command beside them.
"""

from __future__ import annotations

from collections.abc import Mapping

from shipyard.checks import black, flake8, isort, mypy, pylint, ruff
from shipyard.checks.base import CAPABILITIES, Check, plugin
from shipyard.checks.command import PREFIX, command_check, is_command
from shipyard.core.registry import Registry

CHECK_REGISTRY: Registry[Check] = Registry(
    "check",
    [
        plugin(ruff.CHECK),
        plugin(flake8.CHECK),
        plugin(black.CHECK),
        plugin(isort.CHECK),
        plugin(mypy.CHECK),
        plugin(pylint.CHECK),
    ],
    CAPABILITIES,
)
CHECKS: Mapping[str, Check] = CHECK_REGISTRY.implementations()  # name -> Check, over the registry
# every root file some check may read: a change to one may change any unit's lint (--since)
ROOT_FILES = tuple(dict.fromkeys(name for check in CHECKS.values() for name in check.root_files))


def check_named(name: str, where: str) -> Check:
    """The check a unit's ``checks`` entry names: a registered check (an unknown name is a
    ConfigError at ``where`` with a did-you-mean) or a ``command:`` check."""
    return command_check(name, where) if is_command(name) else CHECK_REGISTRY.get(name, f"{where}: checks").load()


__all__ = ["CHECKS", "CHECK_REGISTRY", "PREFIX", "ROOT_FILES", "Check", "check_named", "is_command"]
