"""The invoke namespace: top-level tasks plus one namespace per service.

A monorepo's root ``tasks.py`` is ``from shipyard.tasks import namespace``.
"""

from __future__ import annotations

from shipyard.tasks.namespace import namespace_for_cwd

namespace = namespace_for_cwd()
