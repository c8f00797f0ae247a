"""``invoke integration``: the repository's compose stack run from shipyard's images, its tests, a teardown.

- plan.py  the settings, the compose services (as `compose config` resolves them), which of them
           are units, what is started, and the cache key
- run.py   the run: build the units' images, `up` the stack with them substituted (an override
           file, by image id) under a compose project of its own, wait for health, run the tests,
           show the logs on failure, and always remove what the project created
"""

from __future__ import annotations
