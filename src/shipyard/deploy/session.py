"""One environment, ready to deploy to: its table, state store, ledger, lock and targets.

Opening a session touches AWS only when the environment uses it (ECS or static
targets, an S3 state bucket, an ECR registry), and then first checks that the
credentials belong to the environment's account — before any side effect.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project
from shipyard.core.secrets import Sensitive
from shipyard.deploy.ledger import Ledger
from shipyard.deploy.lock import DEFAULT_LEASE, DeployLock
from shipyard.deploy.notify import Notifications, NotifierContext, open_notifications
from shipyard.deploy.store import StateStore
from shipyard.deploy.stores import NEEDS_AWS as STORE_NEEDS_AWS
from shipyard.deploy.stores import SHARED, STATE_STORES, StoreContext, store_name
from shipyard.deploy.target import TargetContext, Targets
from shipyard.deploy.targets import NEEDS_AWS, TARGETS


def uses_aws(environment: Mapping[str, Any]) -> bool:
    """Whether acting on the environment means AWS calls."""
    targets = set(environment.get("targets", {}).values()) & set(TARGETS.having(NEEDS_AWS))
    registry = str(environment.get("registry", ""))
    store = STATE_STORES.can(store_name(environment), STORE_NEEDS_AWS)
    return bool(targets or store or ".amazonaws.com" in registry)


def has_shared_store(environment: Mapping[str, Any]) -> bool:
    """Whether the environment's state store is one every deploying machine sees."""
    return STATE_STORES.can(store_name(environment), SHARED)


def open_store(project: Project, env: str, environment: Mapping[str, Any]) -> StateStore:
    """The environment's state store (deploy/stores.py): S3 (``state-bucket``/``state-prefix``/<env>)
    when configured, else .shipyard/state/<env>; one that is not shared, for an AWS environment, is an error."""
    name = store_name(environment)
    if uses_aws(environment) and not STATE_STORES.can(name, SHARED):
        raise ShipyardError(
            f"environment {env!r} deploys to AWS but has no state-bucket for its lock and release ledger",
            hint=f'set state-bucket = "..." in [tool.shipyard.environments.{env}]',
        )
    return STATE_STORES.load(name)(StoreContext(Path(project.root), env, environment))


@dataclass
class Session:
    """Everything the deploy commands need about one environment."""

    project: Project
    env: str
    environment: Mapping[str, Any]
    store: StateStore
    account: str
    targets: Targets
    say: Callable[[str], None] = print
    locks: list[DeployLock] = field(default_factory=list)  # handed out by lock(): they fence the ledger

    @classmethod
    def open(cls, project: Project, env: str, *, say: Callable[[str], None] = print) -> Session:
        environment = project.environment(env)
        account = ""
        if uses_aws(environment):
            from shipyard.aws import check_account

            account = check_account(environment, env)
        store = open_store(project, env, environment)
        targets = Targets(TargetContext(project, env, environment, account))
        return cls(project, env, environment, store, account, targets, say)

    @property
    def ledger(self) -> Ledger:
        """The release ledger; its writes refuse once a lock of this session is lost."""
        return Ledger(self.store, self.env, fence=self._fence)

    def _fence(self) -> None:
        for lock in self.locks:
            lock.fence("a ledger write", record=True)

    @property
    def protected(self) -> bool:
        return bool(self.environment.get("protected"))

    def lock(self, lease: float = DEFAULT_LEASE) -> DeployLock:
        lock = DeployLock(self.store, self.env, lease=lease, say=self.say)
        self.locks.append(lock)
        return lock

    def other(self, env: str) -> Session:
        """Another environment, to read its ledger (promotion). No account check: it may live in
        another AWS account whose state bucket these credentials can read."""
        environment = self.project.environment(env)
        store = open_store(self.project, env, environment)
        return Session(
            self.project, env, environment, store, "", Targets(TargetContext(self.project, env, environment)), self.say
        )

    def notifier(self) -> Notifications:
        """The environment's notifiers (``notify``), each configured from its own keys."""
        secret = functools.partial(setting_secret, self.project, self.env, self.environment)
        return open_notifications(NotifierContext(self.env, self.environment, secret, self.say))


def setting_secret(project: Project, env: str, environment: Mapping[str, Any], key_field: str) -> Sensitive | None:
    """The value of the setting named by the environment's ``key_field`` (``slack-webhook``,
    ``webhook-url``): from the process environment or the root ``.env.<env>``/``.env``, an
    ssm:/secretsmanager: reference resolved. None when the key or its setting is unset."""
    import os

    from shipyard.settings.files import read_env_file
    from shipyard.settings.refs import is_reference, parse_reference
    from shipyard.settings.resolve import fetch

    key = str(environment.get(key_field) or "")
    if not key:
        return None
    value = os.environ.get(key)
    for name in (f".env.{env}", ".env"):
        path = project.root / name
        if value is None and path.is_file():
            value = read_env_file(path, name).get(key)
    if not value:
        return None
    if is_reference(value):
        ref = parse_reference(value, f"{key_field}: {key}")
        found, missing = fetch([ref], environment)
        if missing:
            raise ShipyardError(f"{key_field}: {key}: {ref} {missing[ref]}", hint=f"create it or unset {key_field}")
        return found[ref]
    return Sensitive(value)
