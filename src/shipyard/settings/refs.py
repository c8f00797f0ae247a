"""Secret references: ``ssm:/path/name`` and ``secretsmanager:name[#json-key]`` values.

A reference is not a secret itself (it is shown by ``invoke config``); what it points at
is. ECS receives references as container ``secrets`` entries and resolves them itself;
the local target resolves them at deploy time (``shipyard.settings.resolve``). The stores
are the secret-backend registry (``shipyard.settings.backends``): a reference's prefix is a
backend's name, and what a store accepts, its ARNs and how it is read are the backend's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shipyard.core.errors import ShipyardError
from shipyard.settings.backends import BACKENDS, JSON_KEYS

SSM, SECRETS_MANAGER = "ssm", "secretsmanager"  # the backends' names (the IAM policy's statements)


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives: an SSM parameter or a Secrets Manager secret (and JSON key)."""

    store: str  # a secret backend's name: "ssm" | "secretsmanager"
    name: str  # "/path/name", "name", or a full ARN
    json_key: str = ""

    def __str__(self) -> str:
        return f"{self.store}:{self.name}" + (f"#{self.json_key}" if self.json_key else "")

    def arn(self, region: str, account: str) -> str:
        """The full ARN, as ECS ``valueFrom`` wants it (with the JSON key for Secrets Manager)."""
        return BACKENDS.load(self.store).arn(self, region, account)


def partition(region: str) -> str:
    """The AWS partition of ``region`` (aws, aws-cn, aws-us-gov)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def prefixes() -> tuple[str, ...]:
    """``<backend>:`` for every secret backend."""
    return tuple(f"{name}:" for name in BACKENDS.names())


def is_reference(value: str) -> bool:
    return value.startswith(prefixes())


def parse_reference(value: str, where: str) -> SecretRef:
    """Parse ``ssm:...`` / ``secretsmanager:...``; ``where`` names the key and file for errors."""
    store, _, rest = value.partition(":")
    name, _, json_key = rest.partition("#")
    if not name:
        raise ShipyardError(
            f"{where}: {store}: reference without a name",
            hint=f"write {store}:{BACKENDS.load(store).example}",
        )
    if json_key and not BACKENDS.can(store, JSON_KEYS):
        keyed = " / ".join(f"{n}:" for n in BACKENDS.having(JSON_KEYS))
        raise ShipyardError(
            f"{where}: '#{json_key}': JSON keys work with {keyed} references only",
            hint=f"ECS cannot pick a JSON key out of a {store}: reference; store one value per {store}: name",
        )
    BACKENDS.load(store).check_name(name, where)
    return SecretRef(store, name, json_key)


def references(values: Iterable[object]) -> list[SecretRef]:
    """The distinct references among ``values``, in first-seen order."""
    return list(dict.fromkeys(v for v in values if isinstance(v, SecretRef)))
