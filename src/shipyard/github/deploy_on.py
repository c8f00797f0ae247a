"""`deploy-on`: which pushes deploy which environment (a branch or a tag, by name or prefix).

Read when the project loads (validated there) and by the workflow generator (workflows.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.core.errors import ConfigError, did_you_mean

KINDS = ("branch", "tag")


@dataclass(frozen=True)
class Trigger:
    """A push that deploys an environment: a branch or a tag, by name or by a prefix and ``*``."""

    environment: str
    kind: str
    pattern: str

    def condition(self) -> str:
        """The expression true for a push of this ref (GitHub's filters took the glob already)."""
        ref = f"github.ref_type == '{self.kind}'"
        if self.pattern == "*":
            return ref
        if self.pattern.endswith("*"):
            return f"{ref} && startsWith(github.ref_name, '{self.pattern[:-1]}')"
        return f"{ref} && github.ref_name == '{self.pattern}'"


def parse_deploy_on(table: Mapping[str, str], environments: Mapping[str, Any]) -> tuple[Trigger, ...]:
    """``deploy-on`` as triggers; a ConfigError naming the entry for an unknown environment or form."""
    triggers = []
    for env, value in table.items():
        where = f"pyproject.toml: tool.shipyard.deploy-on.{env}"
        if env not in environments:
            raise ConfigError(
                f"{where}: unknown environment {env!r}{did_you_mean(env, environments)}",
                hint="environments: " + ", ".join(sorted(environments)),
            )
        kind, _, pattern = value.partition(":")
        if kind not in KINDS or not re.fullmatch(r"[A-Za-z0-9._/-]*\*?", pattern) or not pattern:
            raise ConfigError(
                f"{where}: {value!r} is not branch:<name> or tag:<name>{did_you_mean(kind, KINDS)}",
                hint='e.g. "branch:develop" or "tag:v*" (a name, or a name ending in *)',
            )
        triggers.append(Trigger(env, kind, pattern))
    return tuple(triggers)
