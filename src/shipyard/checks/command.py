"""``command:<argv>`` in ``checks``: any command, run from the unit's directory.

``checks = ["ruff", "command:make lint"]`` runs ruff, then ``make lint``. The command is
split as a shell would split it (quotes kept together) but run without a shell; a
relative program (``./scripts/lint.sh``) is the unit's. It passes when it exits 0; its
key is the unit's content and the command itself (there is no tool version to know).
"""

from __future__ import annotations

import shlex

from shipyard.checks.base import Check
from shipyard.core.errors import ConfigError

PREFIX = "command:"


def is_command(name: str) -> bool:
    return name.startswith(PREFIX)


def command_check(name: str, where: str) -> Check:
    """The check ``command:<argv>`` names (``where``: the unit's config file, for errors)."""
    try:
        argv = tuple(shlex.split(name[len(PREFIX) :]))
    except ValueError as exc:
        raise ConfigError(f"{where}: checks: {name!r}: {exc}", hint='write it as "command:make lint"') from None
    if not argv:
        raise ConfigError(f"{where}: checks: {name!r} names no command", hint='write it as "command:make lint"')
    return Check(name=name, dist="", executable=argv[0], check=(argv[1:],), doc="the unit's own command")
