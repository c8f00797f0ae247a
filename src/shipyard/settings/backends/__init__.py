"""Secret backends, by name: where a setting's ``<backend>:<name>`` reference points.

A backend's name is its reference prefix (``ssm:/path``, ``secretsmanager:name#key``). Each
line names the backend, its implementation as ``"module:attribute"`` (imported on first use:
the backends call AWS), and its capabilities; generic code (``settings.refs``,
``settings.resolve``) asks for a capability (``BACKENDS.can(name, JSON_KEYS)``) and calls the
protocol, never a name. No backend has keys of its own: they read the environment's
``profile`` and ``region``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.core.registry import Plugin, Registry

if TYPE_CHECKING:
    from shipyard.core.secrets import Sensitive
    from shipyard.settings.refs import SecretRef

JSON_KEYS = "json-keys"
CAPABILITIES = {
    JSON_KEYS: "a reference may pick one key of a JSON secret (name#key), ECS and the local target alike",
}


class SecretBackend(Protocol):
    """One secret store: how its references are checked, named for ECS, read and created."""

    @property
    def example(self) -> str:
        """A reference name, for hints: ``/path/name``."""

    def check_name(self, name: str, where: str) -> None:
        """Refuse (ShipyardError at ``where``) a reference name this store cannot have."""

    def arn(self, ref: SecretRef, region: str, account: str) -> str:
        """The full ARN, as ECS ``valueFrom`` wants it."""

    def fetch(
        self, refs: list[SecretRef], environment: Mapping[str, Any]
    ) -> tuple[dict[SecretRef, Sensitive], dict[SecretRef, str]]:
        """(values, missing): each reference's value (registered with the redactor), or why not."""

    def create_hint(self, ref: SecretRef) -> str:
        """The command that creates the secret ``ref`` names."""


BACKENDS: Registry[SecretBackend] = Registry(
    "secret backend",
    (
        Plugin(
            "ssm",
            "shipyard.settings.backends.ssm:BACKEND",
            doc="an SSM parameter (SecureString decrypted), read ten per GetParameters call",
        ),
        Plugin(
            "secretsmanager",
            "shipyard.settings.backends.secretsmanager:BACKEND",
            capabilities=frozenset({JSON_KEYS}),
            doc="a Secrets Manager secret, or one key of a JSON one (name#key)",
        ),
    ),
    CAPABILITIES,
)
