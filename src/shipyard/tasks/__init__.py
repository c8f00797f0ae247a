"""The invoke namespace: top-level tasks plus one namespace per service.

A monorepo's root ``tasks.py`` is ``from shipyard.tasks import namespace``. Importing this
package (or any module in it) does no work: the namespace is assembled from the monorepo
around the current directory when ``namespace`` is first asked for
(:func:`shipyard.tasks.assemble.namespace_for_cwd`).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name != "namespace":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import atexit
    import gc

    from shipyard.tasks.assemble import namespace_for_cwd

    # At exit the interpreter's last garbage collections walk every object invoke's and
    # shipyard's modules created: ~50 ms of each command's wall time on 2 cores. Frozen
    # objects are skipped. Nothing relies on those collections: files are closed by `with`,
    # the standard streams are flushed regardless, and weakref finalizers run from their own
    # atexit hook (registered later, so run earlier).
    atexit.register(gc.freeze)
    namespace = namespace_for_cwd()
    globals()["namespace"] = namespace
    return namespace
