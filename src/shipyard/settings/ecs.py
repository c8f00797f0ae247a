"""Settings as an ECS container definition: plain values in ``environment``, references in
``secrets`` (``valueFrom`` ARNs that ECS resolves itself). Secret values never travel."""

from __future__ import annotations

from shipyard.errors import ShipyardError
from shipyard.secrets import Sensitive
from shipyard.settings.layers import Settings
from shipyard.settings.refs import SecretRef

EcsEntries = list[dict[str, str]]


def ecs_secrets(settings: Settings, region: str, account: str) -> tuple[EcsEntries, EcsEntries]:
    """(environment, secrets) entries for a container definition, sorted by name.

    A secret-marked key with a literal value is refused: the task definition would show
    it in plain text to anyone who can describe it.
    """
    literal = [s.key for s in settings if isinstance(s.value, Sensitive)]
    if literal:
        keys = ", ".join(literal)
        raise ShipyardError(
            f"{settings.service}: secret {keys} has a literal value in {settings.environment!r}; "
            "ECS receives references only",
            hint=f"store it in SSM (aws ssm put-parameter --type SecureString ...) and set "
            f"{literal[0]}=ssm:/<path> in .env.{settings.environment}",
        )
    environment = [{"name": s.key, "value": s.value} for s in settings if isinstance(s.value, str)]
    secrets = [
        {"name": s.key, "valueFrom": s.value.arn(region, account)} for s in settings if isinstance(s.value, SecretRef)
    ]
    return environment, secrets
