"""State stores, by name: where an environment's deploy lock and release ledger live.

Each line names the store, its factory as ``"module:factory"`` (imported on first use: the
S3 store pulls in the AWS helpers), its own environment keys and its capabilities. A factory
takes a :class:`StoreContext` and returns a :class:`shipyard.deploy.store.StateStore`.

An environment uses the first store whose selecting key (a key marked
``extra={"selects-store": True}``) it sets, else the last line (``local``): S3 when
``state-bucket`` is set, as before the stores were a registry. Generic code asks for a
capability (``STATE_STORES.can(name, SHARED)``), never for a name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core.registry import Plugin, Registry
from shipyard.core.schema import Field

if TYPE_CHECKING:
    from shipyard.deploy.store import StateStore

NEEDS_AWS = "needs-aws"
SHARED = "shared"
CAPABILITIES = {
    NEEDS_AWS: "opening it means AWS calls (the account is checked first)",
    SHARED: "every machine that deploys the environment sees the same state (required by targets that need AWS)",
}
SELECTS = "selects-store"  # Field.extra: setting this key selects the store that declares it

S3_FIELDS = {
    "state-bucket": Field("str", "", doc="S3 bucket for the deploy lock and release ledger", extra={SELECTS: True}),
    "state-prefix": Field("str", "shipyard", doc="key prefix inside state-bucket"),
}


@dataclass(frozen=True)
class StoreContext:
    """What a store factory is given: the project root, the environment's name and table."""

    root: Path
    env: str
    environment: Mapping[str, Any]


StoreFactory = Callable[[StoreContext], "StateStore"]

STATE_STORES: Registry[StoreFactory] = Registry(
    "state store",
    (
        Plugin(
            "s3",
            "shipyard.deploy.store:s3_store",
            S3_FIELDS,
            frozenset({NEEDS_AWS, SHARED}),
            "objects under s3://<state-bucket>/<state-prefix>/<env>/, written with conditional puts",
        ),
        Plugin("local", "shipyard.deploy.store:local_store", doc="files under .shipyard/state/<env>/, fcntl-locked"),
    ),
    CAPABILITIES,
)


def store_name(environment: Mapping[str, Any]) -> str:
    """The store an environment uses: the first whose selecting key it sets, else the last."""
    for plugin in STATE_STORES:
        if any(spec.extra.get(SELECTS) and environment.get(key) for key, spec in plugin.fields.items()):
            return plugin.name
    return STATE_STORES.names()[-1]
