"""The ``secretsmanager`` secret backend: ``secretsmanager:name`` (or an ARN), ``#key`` of a JSON secret."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import Sensitive, register_secret
from shipyard.settings.refs import SecretRef, partition


class SecretsManager:
    example = "name"

    def check_name(self, name: str, where: str) -> None:
        """Any secret name or ARN."""

    def arn(self, ref: SecretRef, region: str, account: str) -> str:
        base = ref.name
        if not base.startswith("arn:"):
            base = f"arn:{partition(region)}:secretsmanager:{region}:{account}:secret:{ref.name}"
        # ECS syntax: secret-arn:json-key:version-stage:version-id (empty = current)
        return f"{base}:{ref.json_key}::" if ref.json_key else base

    def fetch(
        self, refs: list[SecretRef], environment: Mapping[str, Any]
    ) -> tuple[dict[SecretRef, Sensitive], dict[SecretRef, str]]:
        values: dict[SecretRef, Sensitive] = {}
        missing: dict[SecretRef, str] = {}
        for ref in refs:
            value, why = _value(ref, environment)
            if value is None:
                missing[ref] = why
            else:
                values[ref] = value
        return values, missing

    def create_hint(self, ref: SecretRef) -> str:
        return f"create it: aws secretsmanager create-secret --name {ref.name} --secret-string ..."


def _value(ref: SecretRef, environment: Mapping[str, Any]) -> tuple[Sensitive | None, str]:
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

    from shipyard.aws import aws_errors, env_client, error_code

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


BACKEND = SecretsManager()
