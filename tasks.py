"""This repository's tasks: shipyard's own, over its example services and libs."""

from shipyard.tasks import namespace  # noqa: F401
