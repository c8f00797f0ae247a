"""Resolving references for the local target: SSM (SecureString decrypted) and Secrets Manager.

Only deploys to a target that cannot resolve references itself call this; ``invoke config``
never does. Every resolved value comes back wrapped in ``Sensitive`` (so it is registered
with the redactor), and every missing parameter, secret or JSON key is listed in one error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shipyard.aws import aws_errors, env_client, error_code
from shipyard.errors import ShipyardError
from shipyard.secrets import Sensitive, register_secret
from shipyard.settings.layers import Settings
from shipyard.settings.refs import SECRETS_MANAGER, SSM, SecretRef

_SSM_BATCH = 10  # GetParameters takes at most 10 names


def resolve(settings: Settings, environment: Mapping[str, Any]) -> dict[str, str | Sensitive]:
    """The values of ``settings`` with every reference fetched (``environment``: profile, region)."""
    return resolve_all({settings.service: settings}, environment)[settings.service]


def resolve_all(
    loaded: Mapping[str, Settings], environment: Mapping[str, Any]
) -> dict[str, dict[str, str | Sensitive]]:
    """``resolve`` for several services, fetching each distinct reference once."""
    users: dict[SecretRef, list[str]] = {}
    for name, settings in loaded.items():
        for s in settings:
            if isinstance(s.value, SecretRef):
                users.setdefault(s.value, []).append(f"{name}: {s.key}")
    values, missing = fetch(list(users), environment)
    if missing:
        listed = "; ".join(
            f"{ref} {missing[ref]} (used by {', '.join(who)})" for ref, who in users.items() if ref in missing
        )
        raise ShipyardError(f"cannot resolve secret references: {listed}", hint=_hint(missing))
    return {
        name: {s.key: values[s.value] if isinstance(s.value, SecretRef) else s.value for s in settings}
        for name, settings in loaded.items()
    }


def fetch(
    refs: list[SecretRef], environment: Mapping[str, Any]
) -> tuple[dict[SecretRef, Sensitive], dict[SecretRef, str]]:
    """(values, missing): each reference's value, or why it could not be found."""
    values: dict[SecretRef, Sensitive] = {}
    missing: dict[SecretRef, str] = {}
    ssm_refs = [r for r in refs if r.store == SSM]
    if ssm_refs:
        found = _ssm_values(sorted({r.name for r in ssm_refs}), environment)
        for ref in ssm_refs:
            if ref.name in found:
                values[ref] = found[ref.name]
            else:
                missing[ref] = "not found"
    for ref in (r for r in refs if r.store == SECRETS_MANAGER):
        value, why = _secret_value(ref, environment)
        if value is None:
            missing[ref] = why
        else:
            values[ref] = value
    return values, missing


def _ssm_values(names: list[str], environment: Mapping[str, Any]) -> dict[str, Sensitive]:
    client = env_client("ssm", environment)
    found: dict[str, Sensitive] = {}
    for start in range(0, len(names), _SSM_BATCH):
        batch = names[start : start + _SSM_BATCH]
        with aws_errors("read SSM parameters " + ", ".join(batch), environment.get("profile", "")):
            response = client.get_parameters(Names=batch, WithDecryption=True)
        for param in response.get("Parameters", []):
            value = Sensitive(param["Value"])
            found[param["Name"]] = value
            if param.get("ARN"):
                found[param["ARN"]] = value  # when the reference is an ARN
    return found


def _secret_value(ref: SecretRef, environment: Mapping[str, Any]) -> tuple[Sensitive | None, str]:
    text = _secret_string(ref.name, environment)
    if text is None:
        return None, "not found"
    register_secret(text)
    if not ref.json_key:
        return Sensitive(text), ""
    try:
        document = json.loads(text)
    except ValueError:
        return None, "is not JSON (a #key needs a JSON secret)"
    if not isinstance(document, dict) or ref.json_key not in document:
        return None, f"has no JSON key {ref.json_key!r}"
    item = document[ref.json_key]
    return Sensitive(item if isinstance(item, str) else json.dumps(item)), ""


def _secret_string(name: str, environment: Mapping[str, Any]) -> str | None:
    from botocore.exceptions import ClientError

    client = env_client("secretsmanager", environment)
    with aws_errors(f"read the secret {name}", environment.get("profile", "")):
        try:
            response = client.get_secret_value(SecretId=name)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
    if "SecretString" not in response:
        raise ShipyardError(f"secret {name} is binary", hint="store the value as a secret string")
    return str(response["SecretString"])


def _hint(missing: Mapping[SecretRef, str]) -> str:
    ref = next(iter(missing))
    if ref.store == SSM:
        return f"create it: aws ssm put-parameter --type SecureString --name {ref.name} --value ..."
    return f"create it: aws secretsmanager create-secret --name {ref.name} --secret-string ..."
