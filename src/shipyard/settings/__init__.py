"""Settings per environment and service: layered .env files with provenance, secret
references, redaction, the git guard. See docs/environments.md."""

from __future__ import annotations

from shipyard.settings.ecs import ecs_secrets
from shipyard.settings.layers import (
    Setting,
    Settings,
    check_required,
    load_all,
    load_settings,
    parse_overrides,
)
from shipyard.settings.refs import SecretRef, parse_reference
from shipyard.settings.resolve import resolve, resolve_all

__all__ = [
    "SecretRef",
    "Setting",
    "Settings",
    "check_required",
    "ecs_secrets",
    "load_all",
    "load_settings",
    "parse_overrides",
    "parse_reference",
    "resolve",
    "resolve_all",
]
