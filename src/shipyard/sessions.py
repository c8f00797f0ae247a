"""A repository's noxfile imports its sessions from here: ``from shipyard.sessions import register``.

The sessions are built in :mod:`shipyard.ci.sessions`; this public name is kept so that the
noxfiles teams already have (and ``shipyard init`` writes) go on working."""

from __future__ import annotations

from shipyard.ci.sessions import register

__all__ = ["register"]
