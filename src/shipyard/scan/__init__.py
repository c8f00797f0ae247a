"""The scanner registry: every tool `invoke scan` runs. Adding one is a module with a
``PLUGIN`` (a :class:`shipyard.scan.base.Scanner`) and one line below."""

from __future__ import annotations

from shipyard.core.registry import Registry
from shipyard.scan.base import Scanner

SCANNERS: Registry[Scanner] = Registry(
    "scanner",
    [
        "shipyard.scan.bandit",
        "shipyard.scan.secrets",
        "shipyard.scan.hadolint",
        "shipyard.scan.audit",
    ],
)

__all__ = ["SCANNERS", "Scanner"]
