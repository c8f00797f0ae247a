"""The ``ssm`` secret backend: ``ssm:/path/name`` (or a parameter ARN), SecureString decrypted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.secrets import Sensitive
from shipyard.settings.refs import SecretRef, partition

_BATCH = 10  # GetParameters takes at most 10 names


class Ssm:
    example = "/path/name"

    def check_name(self, name: str, where: str) -> None:
        if "/" in name and not name.startswith(("/", "arn:")):
            raise ShipyardError(f"{where}: ssm:{name}: a parameter path must start with /", hint=f"write ssm:/{name}")

    def arn(self, ref: SecretRef, region: str, account: str) -> str:
        if ref.name.startswith("arn:"):
            return ref.name
        return f"arn:{partition(region)}:ssm:{region}:{account}:parameter/{ref.name.lstrip('/')}"

    def fetch(
        self, refs: list[SecretRef], environment: Mapping[str, Any]
    ) -> tuple[dict[SecretRef, Sensitive], dict[SecretRef, str]]:
        found = _values(sorted({r.name for r in refs}), environment)
        values = {ref: found[ref.name] for ref in refs if ref.name in found}
        return values, {ref: "not found" for ref in refs if ref.name not in found}

    def create_hint(self, ref: SecretRef) -> str:
        return f"create it: aws ssm put-parameter --type SecureString --name {ref.name} --value ..."


def _values(names: list[str], environment: Mapping[str, Any]) -> dict[str, Sensitive]:
    from shipyard.aws import aws_errors, env_client

    client = env_client("ssm", environment)
    found: dict[str, Sensitive] = {}
    for start in range(0, len(names), _BATCH):
        batch = names[start : start + _BATCH]
        with aws_errors("read SSM parameters " + ", ".join(batch), environment.get("profile", "")):
            response = client.get_parameters(Names=batch, WithDecryption=True)
        for param in response.get("Parameters", []):
            value = Sensitive(param["Value"])
            found[param["Name"]] = value
            if param.get("ARN"):
                found[param["ARN"]] = value  # when the reference is an ARN
    return found


BACKEND = Ssm()
