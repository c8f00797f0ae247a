"""Secret references: ``ssm:/path/name`` and ``secretsmanager:name[#json-key]`` values.

A reference is not a secret itself (it is shown by ``invoke config``); what it points at
is. ECS receives references as container ``secrets`` entries and resolves them itself;
the local target resolves them at deploy time (``shipyard.settings.resolve``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shipyard.errors import ShipyardError

SSM, SECRETS_MANAGER = "ssm", "secretsmanager"
PREFIXES = (f"{SSM}:", f"{SECRETS_MANAGER}:")


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives: an SSM parameter or a Secrets Manager secret (and JSON key)."""

    store: str  # "ssm" | "secretsmanager"
    name: str  # "/path/name", "name", or a full ARN
    json_key: str = ""

    def __str__(self) -> str:
        return f"{self.store}:{self.name}" + (f"#{self.json_key}" if self.json_key else "")

    def arn(self, region: str, account: str) -> str:
        """The full ARN, as ECS ``valueFrom`` wants it (with the JSON key for Secrets Manager)."""
        if self.store == SSM:
            if self.name.startswith("arn:"):
                return self.name
            return f"arn:{partition(region)}:ssm:{region}:{account}:parameter/{self.name.lstrip('/')}"
        base = self.name
        if not base.startswith("arn:"):
            base = f"arn:{partition(region)}:secretsmanager:{region}:{account}:secret:{self.name}"
        # ECS syntax: secret-arn:json-key:version-stage:version-id (empty = current)
        return f"{base}:{self.json_key}::" if self.json_key else base


def partition(region: str) -> str:
    """The AWS partition of ``region`` (aws, aws-cn, aws-us-gov)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def is_reference(value: str) -> bool:
    return value.startswith(PREFIXES)


def parse_reference(value: str, where: str) -> SecretRef:
    """Parse ``ssm:...`` / ``secretsmanager:...``; ``where`` names the key and file for errors."""
    store, _, rest = value.partition(":")
    name, _, json_key = rest.partition("#")
    if not name:
        raise ShipyardError(
            f"{where}: {store}: reference without a name",
            hint=f"write {store}:/path/name" if store == SSM else f"write {store}:name",
        )
    if store == SSM and json_key:
        raise ShipyardError(
            f"{where}: '#{json_key}': JSON keys work with secretsmanager: references only",
            hint="ECS cannot pick a JSON key out of an SSM parameter; store one value per parameter",
        )
    if store == SSM and "/" in name and not name.startswith(("/", "arn:")):
        raise ShipyardError(f"{where}: ssm:{name}: a parameter path must start with /", hint=f"write ssm:/{name}")
    return SecretRef(store, name, json_key)


def references(values: Iterable[object]) -> list[SecretRef]:
    """The distinct references among ``values``, in first-seen order."""
    return list(dict.fromkeys(v for v in values if isinstance(v, SecretRef)))
