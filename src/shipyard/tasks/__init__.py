"""The invoke namespace: top-level tasks plus one namespace per service.

A monorepo's root ``tasks.py`` is ``from shipyard.tasks import namespace``.
"""

from __future__ import annotations

import atexit
import gc

from shipyard.tasks.namespace import namespace_for_cwd

# At exit the interpreter's last garbage collections walk every object invoke's and
# shipyard's modules created: ~50 ms of each command's wall time on 2 cores. Frozen
# objects are skipped. Nothing relies on those collections: files are closed by `with`,
# the standard streams are flushed regardless, and weakref finalizers run from their own
# atexit hook (registered later, so run earlier).
atexit.register(gc.freeze)

namespace = namespace_for_cwd()
