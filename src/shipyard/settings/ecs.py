"""Settings as an ECS container definition: plain values in ``environment``, references in
``secrets`` (``valueFrom`` ARNs that ECS resolves itself). Secret values never travel."""

from __future__ import annotations

from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import Sensitive
from shipyard.settings.layers import ENVIRON, OVERRIDE, Setting, Settings
from shipyard.settings.refs import SecretRef

EcsEntries = list[dict[str, str]]


def ecs_secrets(settings: Settings, region: str, account: str) -> tuple[EcsEntries, EcsEntries]:
    """(environment, secrets) entries for a container definition, sorted by name.

    A secret-marked key with a literal value is refused: the task definition would show
    it in plain text to anyone who can describe it.
    """
    literal = [s for s in settings if isinstance(s.value, Sensitive)]
    if literal:
        first = literal[0]
        raise ShipyardError(
            f"{settings.service}: secret {first.key} has a literal value from {first.origin} "
            f"in {settings.environment!r}; ECS receives references only",
            hint=literal_hint(first),
        )
    environment = [{"name": s.key, "value": s.value} for s in settings if isinstance(s.value, str)]
    secrets = [
        {"name": s.key, "valueFrom": s.value.arn(region, account)} for s in settings if isinstance(s.value, SecretRef)
    ]
    return environment, secrets


def literal_hint(setting: Setting) -> str:
    """What to do about a literal secret, depending on the layer it came from."""
    if setting.source == ENVIRON:
        below = f" (it overrides {setting.shadowed[-1]})" if setting.shadowed else ""
        return f"unset {setting.key} in the shell{below}, or export an ssm:/<path> reference instead"
    if setting.source == OVERRIDE:
        return f"drop --set {setting.key}=..., or pass --set {setting.key}=ssm:/<path>"
    where = setting.source if setting.source.startswith((".env", "services/")) else "a .env file"
    return (
        f"store it in SSM (aws ssm put-parameter --type SecureString ...) and set {setting.key}=ssm:/<path> in {where}"
    )
