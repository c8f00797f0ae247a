"""The GitHub Actions workflow commands that depend on nothing else of shipyard.

Whether this process runs under Actions, escaping for a command's data, and
``::add-mask::``. The secret registry (:mod:`shipyard.core.secrets`) asks the runner to mask each
value through this module, and :mod:`shipyard.github.output` builds the rest of its Actions output on
it. Keeping these here keeps the two free of an import cycle.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping


def active(environ: Mapping[str, str] | None = None) -> bool:
    return (environ or os.environ).get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def mask(value: str) -> None:
    """Ask the runner to mask ``value`` in all later log lines."""
    if active() and value:
        for line in value.splitlines() or [value]:
            if line.strip():
                sys.stdout.write(f"::add-mask::{escape_data(line)}\n")
        sys.stdout.flush()
