"""Deploy targets, by name: the target registry. A target is a module; adding one is one line.

Each line names the target, its factory as ``"module:factory"`` (imported on first use, so
listing tasks never imports boto3 or docker), its own environment keys and its capabilities.
Generic code asks for a capability (``TARGETS.can(name, RUN_ONCE)``), never for a name.
A factory takes a TargetContext and returns a Target (deploy/target.py: the protocol, and
``Targets``, which makes each environment's targets). This module imports no target: the
configuration is validated against the registry without loading docker or boto3 helpers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.core.config import ECS_FIELDS, STATIC_FIELDS
from shipyard.core.registry import Plugin, Registry

if TYPE_CHECKING:
    from shipyard.deploy.target import TargetFactory

NEEDS_AWS = "needs-aws"
RUN_ONCE = "run-once"
RESOLVES_SECRETS = "resolves-secrets"

CAPABILITIES = {
    NEEDS_AWS: "acting on it means AWS calls (the account is checked first; a state-bucket is required)",
    RUN_ONCE: 'runs a one-off task of a release (migrate-via = "ecs" runs the migrations in one)',
    RESOLVES_SECRETS: "resolves ssm:/secretsmanager: references itself (shipyard never reads the values)",
}

TARGETS: Registry[TargetFactory] = Registry(
    "deploy target",
    (
        Plugin(
            "ecs",
            "shipyard.deploy.targets.ecs:EcsTarget",
            ECS_FIELDS,
            frozenset({NEEDS_AWS, RUN_ONCE, RESOLVES_SECRETS}),
            "an ECS service per unit, rolled out by ECS",
        ),
        Plugin("local", "shipyard.deploy.targets.local:LocalTarget", doc="containers on this Docker engine"),
        Plugin(
            "static",
            "shipyard.deploy.targets.static:StaticTarget",
            STATIC_FIELDS,
            frozenset({NEEDS_AWS, RESOLVES_SECRETS}),
            "a static site in S3 behind CloudFront",
        ),
    ),
    CAPABILITIES,
)
