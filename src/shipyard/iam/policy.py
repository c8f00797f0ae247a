"""The least-privilege IAM policy of one environment, built from the operation table.

What an environment uses decides which features' rows go in (no ECS actions for an
environment whose services run on the local target, cache writes only with
``s3-mode = "read-write"``, SSM/Secrets Manager/KMS only for references the runner itself
resolves), and its configuration fills in each row's resource (bucket and prefix, ECR
repositories, cluster and services, distributions, parameters, secrets, roles).
Placeholders that the configuration cannot give (an account id or region that is not
set) are ``*``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.core.environments import distribution_id
from shipyard.core.project import Project, Unit
from shipyard.iam.table import TABLE
from shipyard.settings.refs import SECRETS_MANAGER, SSM, SecretRef, partition

ROLLING = ("", "rolling")


@dataclass(frozen=True)
class Scope:
    """What a statement applies to: resource ARNs and an optional IAM condition."""

    resources: tuple[str, ...]
    condition: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Context:
    """One environment's configuration, as the policy needs it."""

    project: Project
    env: str
    environment: Mapping[str, Any]
    region: str  # "*" when unknown
    account: str  # "*" when unknown
    refs: tuple[SecretRef, ...]  # references the runner resolves

    @property
    def partition(self) -> str:
        return partition("" if self.region == "*" else self.region)

    def arn(self, service: str, rest: str, *, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{rest}"

    def units(self, target: str) -> list[Unit]:
        """The deployed units (not libs) whose kind this environment deploys with ``target``."""
        from shipyard.deploy.target import TargetContext, target_name

        ctx = TargetContext(self.project, self.env, self.environment)
        return [u for u in self.project.services if target_name(ctx, u) == target]


def context(project: Project, env: str) -> Context:
    """The policy context of ``env`` (an unknown name is the usual did-you-mean error)."""
    environment = project.environment(env)
    registry = _registry(environment, env)
    region = environment.get("region") or (registry.region if registry else "") or "*"
    account = environment.get("account-id") or (_registry_account(registry.host) if registry else "") or "*"
    partial = Context(project, env, environment, region, account, ())
    return Context(project, env, environment, region, account, runner_refs(partial))


def _registry(environment: Mapping[str, Any], env: str) -> Any:
    from shipyard.images.registry import environment_registry

    if not environment.get("registry"):
        return None
    registry = environment_registry(environment, env)
    return registry if registry.is_ecr else None


def _registry_account(host: str) -> str:
    head = host.split(".", 1)[0]
    return head if head.isdigit() and len(head) == 12 else ""


# -- which features the environment uses ----------------------------------------------------


def features(ctx: Context) -> set[str]:
    """The FEATURES keys whose rows this environment's policy needs."""
    from shipyard.deploy.session import uses_aws

    env = ctx.environment
    checks = {
        "account": uses_aws(env),
        "cache-read": _cache_mode(ctx) in ("read-only", "read-write"),
        "cache-write": _cache_mode(ctx) == "read-write",
        "state": bool(env.get("state-bucket")),
        "promote": bool(env.get("promote-from")),
        "ecr": _ecr(ctx) and bool(_image_units(ctx)),
        "ecr-scan": _ecr(ctx) and bool(_image_units(ctx)) and bool(env.get("ecr-scan")),
        "ecr-pull": _ecr(ctx) and _docker_migrations(ctx),
        "ecs": bool(ctx.units("ecs")),
        "ecs-strategy": bool(ctx.units("ecs")) and _strategies(ctx),
        "migrate-ecs": env.get("migrate-via") == "ecs" and any(u.settings.get("migrations") for u in ctx.units("ecs")),
        "static": bool(ctx.units("static")) and bool(env.get("static-bucket")),
        "secrets": bool(ctx.refs),
    }
    return {name for name, on in checks.items() if on}


def _cache_mode(ctx: Context) -> str:
    from shipyard.run.cache import CacheConfig

    config = CacheConfig.of(ctx.project, environ={})  # the configured mode, not this shell's
    return config.mode if config.bucket else "off"


def _ecr(ctx: Context) -> bool:
    return _registry(ctx.environment, ctx.env) is not None


def _image_units(ctx: Context) -> list[Unit]:
    return [u for u in ctx.project.services if u.has_image]


def _docker_migrations(ctx: Context) -> bool:
    via = ctx.environment.get("migrate-via", "docker")
    return via == "docker" and any(u.settings.get("migrations") for u in _image_units(ctx))


def _strategies(ctx: Context) -> bool:
    from shipyard.deploy.targets.ecs_strategy import strategy_for

    chosen = [strategy_for(ctx.env, ctx.environment, u).strategy for u in ctx.units("ecs")]
    return any(s not in ROLLING for s in chosen)


# -- the references the runner resolves -----------------------------------------------------


def runner_refs(ctx: Context) -> tuple[SecretRef, ...]:
    """References read on the runner: every one of a service on a target that gets values,
    DATABASE_URL of docker-run migrations, and the Slack webhook's."""
    from shipyard.deploy.migrate import URL_KEY
    from shipyard.settings import load_all

    # the configuration's files, not this shell's variables: the same policy on a laptop and in CI
    loaded = load_all(ctx.project, ctx.env, ctx.project.services, environ={})
    docker_migrations = ctx.environment.get("migrate-via", "docker") == "docker"
    found: list[SecretRef] = []
    from shipyard.deploy.targets import RESOLVES_SECRETS, TARGETS

    # targets that resolve references themselves (ECS: its execution role, at task start) are
    # left out: any other target gets values, so the runner reads the parameters and secrets
    for target in {_target(ctx, u) for u in ctx.project.services} - set(TARGETS.having(RESOLVES_SECRETS)):
        found += [s.value for u in ctx.units(target) for s in loaded[u.name] if isinstance(s.value, SecretRef)]
    for unit in ctx.project.services:
        url = loaded[unit.name].get(URL_KEY)
        if docker_migrations and unit.settings.get("migrations") and url and isinstance(url.value, SecretRef):
            found.append(url.value)
    return tuple(dict.fromkeys([*found, *_webhook_refs(ctx)]))


def _target(ctx: Context, unit: Unit) -> str:
    from shipyard.deploy.target import TargetContext, target_name

    return target_name(TargetContext(ctx.project, ctx.env, ctx.environment), unit)


def _webhook_refs(ctx: Context) -> list[SecretRef]:
    """The references the notifiers' URL settings (``slack-webhook``, ``webhook-url``) hold in
    the root .env files."""
    from shipyard.deploy.notify import secret_keys
    from shipyard.settings.files import read_env_file
    from shipyard.settings.refs import is_reference, parse_reference

    found = []
    for key in sorted(secret_keys(ctx.environment)):
        for name in (f".env.{ctx.env}", ".env"):
            path = ctx.project.root / name
            value = read_env_file(path, name).get(key) if path.is_file() else None
            if value:
                found += [parse_reference(value, f"notifier setting {key}")] if is_reference(value) else []
                break
    return found


# -- what each resource kind is in this environment ------------------------------------------


def _bucket(ctx: Context, bucket: str) -> Scope | None:
    return Scope((f"arn:{ctx.partition}:s3:::{bucket}",)) if bucket else None


def _objects(ctx: Context, bucket: str, prefix: str = "") -> Scope | None:
    path = f"{prefix.strip('/')}/*" if prefix.strip("/") else "*"
    return Scope((f"arn:{ctx.partition}:s3:::{bucket}/{path}",)) if bucket else None


def _cache(ctx: Context) -> tuple[str, str]:
    from shipyard.run.cache import CacheConfig

    config = CacheConfig.of(ctx.project, environ={})
    return config.bucket, config.prefix


def _state_prefix(environment: Mapping[str, Any], env: str) -> str:
    return "/".join(p for p in (str(environment.get("state-prefix", "shipyard")).strip("/"), env) if p)


def _source(ctx: Context) -> tuple[str, Mapping[str, Any]]:
    name = ctx.environment.get("promote-from", "")
    return name, (ctx.project.environment(name) if name else {})


def _source_state(ctx: Context, objects: bool) -> Scope | None:
    name, source = _source(ctx)
    bucket = source.get("state-bucket", "")
    return _objects(ctx, bucket, _state_prefix(source, name)) if objects else _bucket(ctx, bucket)


def _source_static(ctx: Context, objects: bool) -> Scope | None:
    bucket = _source(ctx)[1].get("static-bucket", "")
    return _objects(ctx, bucket) if objects else _bucket(ctx, bucket)


def _repositories(ctx: Context) -> Scope | None:
    registry = _registry(ctx.environment, ctx.env)
    if registry is None:
        return None
    names = [registry.repository(u.settings.get("repository") or u.name) for u in _image_units(ctx)]
    return Scope(tuple(ctx.arn("ecr", f"repository/{n}") for n in names)) if names else None


def _ecs(ctx: Context, rest: Callable[[str, Unit], str]) -> Scope | None:
    cluster = _cluster(ctx)
    arns = [ctx.arn("ecs", rest(cluster, u)) for u in ctx.units("ecs")]
    return Scope(tuple(dict.fromkeys(arns))) if cluster and arns else None


def _cluster(ctx: Context) -> str:
    """The environment's cluster as deploys name it (``{env}`` filled in)."""
    from shipyard.deploy.targets.ecs_strategy import ecs_cluster

    template = ctx.environment.get("cluster", "")
    return ecs_cluster(template, ctx.env) if template else ""


def _service(ctx: Context, unit: Unit) -> str:
    """The unit's ECS service name as deploys name it (its ``service-name`` template filled in)."""
    from shipyard.deploy.targets.ecs_strategy import ecs_service, strategy_for

    return ecs_service(strategy_for(ctx.env, ctx.environment, unit), unit, ctx.env)


def _cluster_scoped(ctx: Context) -> Scope | None:
    cluster = _cluster(ctx)
    condition = {"ArnEquals": {"ecs:cluster": ctx.arn("ecs", f"cluster/{cluster}")}}
    return Scope(("*",), condition) if cluster else None


def _roles(ctx: Context) -> Scope | None:
    """The task roles: the environment's, and those of the units' task-definition files."""
    from shipyard.deploy.targets.ecs_strategy import strategy_for, task_definition_file

    roles = [ctx.environment.get(k, "") for k in ("execution-role-arn", "task-role-arn")]
    for unit in ctx.units("ecs"):
        file = task_definition_file(ctx.project, ctx.env, unit, strategy_for(ctx.env, ctx.environment, unit))
        roles += [str(file.content.get(k) or "") for k in ("executionRoleArn", "taskRoleArn")] if file else []
    condition = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    found = tuple(dict.fromkeys(r for r in roles if r))
    return Scope(found, condition) if found else None


def _service_roles(ctx: Context) -> Scope | None:
    """The roles ECS itself assumes in a blue/green, canary or linear deployment (listener rules, hooks)."""
    from shipyard.deploy.targets.ecs_strategy import strategy_for

    roles: list[str] = []
    for unit in ctx.units("ecs"):
        strategy = strategy_for(ctx.env, ctx.environment, unit)
        roles += [strategy.load_balancer_role, *(h.role_arn for h in strategy.lifecycle_hooks)]
    condition = {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}
    found = tuple(dict.fromkeys(r for r in roles if r))
    return Scope(found, condition) if found else None


def _distributions(ctx: Context) -> Scope | None:
    ids = [ctx.environment.get("distribution-id", "")]
    ids += [distribution_id(u, ctx.env, ctx.environment) for u in ctx.units("static")]
    arns = [ctx.arn("cloudfront", f"distribution/{i}", region=False) for i in dict.fromkeys(ids) if i]
    return Scope(tuple(arns)) if arns else None


def _parameters(ctx: Context) -> Scope | None:
    names = [r.name for r in ctx.refs if r.store == SSM]
    arns = [n if n.startswith("arn:") else ctx.arn("ssm", f"parameter/{n.lstrip('/')}") for n in names]
    return Scope(tuple(arns)) if arns else None


def _secrets(ctx: Context) -> Scope | None:
    # a secret's ARN ends in "-" and 6 random characters that a name does not know
    names = [r.name for r in ctx.refs if r.store == SECRETS_MANAGER]
    arns = [n if n.startswith("arn:") else ctx.arn("secretsmanager", f"secret:{n}-??????") for n in names]
    return Scope(tuple(dict.fromkeys(arns))) if arns else None


def _kms(ctx: Context) -> Scope | None:
    stores = sorted({r.store for r in ctx.refs})
    via = [f"{store}.{ctx.region}.amazonaws.com" for store in stores]
    return Scope(("*",), {"StringLike": {"kms:ViaService": via}}) if via else None


SCOPES: dict[str, Callable[[Context], Scope | None]] = {
    "*": lambda ctx: Scope(("*",)),
    "cache-bucket": lambda ctx: _bucket(ctx, _cache(ctx)[0]),
    "cache-objects": lambda ctx: _objects(ctx, *_cache(ctx)),
    "state-bucket": lambda ctx: _bucket(ctx, ctx.environment.get("state-bucket", "")),
    "state-objects": lambda ctx: _objects(
        ctx, ctx.environment.get("state-bucket", ""), _state_prefix(ctx.environment, ctx.env)
    ),
    "source-state-bucket": lambda ctx: _source_state(ctx, False),
    "source-state-objects": lambda ctx: _source_state(ctx, True),
    "static-bucket": lambda ctx: _bucket(ctx, ctx.environment.get("static-bucket", "")),
    "static-objects": lambda ctx: _objects(ctx, ctx.environment.get("static-bucket", "")),
    "source-static-bucket": lambda ctx: _source_static(ctx, False),
    "source-static-objects": lambda ctx: _source_static(ctx, True),
    "distribution": _distributions,
    "repository": _repositories,
    "ecs-service": lambda ctx: _ecs(ctx, lambda cluster, u: f"service/{cluster}/{_service(ctx, u)}"),
    "ecs-deployment": lambda ctx: _ecs(ctx, lambda cluster, u: f"service-deployment/{cluster}/{_service(ctx, u)}/*"),
    "ecs-taskdef": lambda ctx: _ecs(ctx, lambda cluster, u: f"task-definition/{u.name}-{ctx.env}:*"),
    "ecs-task": lambda ctx: _ecs(ctx, lambda cluster, u: f"task/{cluster}/*"),
    "ecs-cluster-scoped": _cluster_scoped,
    "pass-role": _roles,
    "pass-role-ecs": _service_roles,
    "log-group": lambda ctx: Scope((ctx.arn("logs", "log-group:*"),)),
    "parameters": _parameters,
    "secrets": _secrets,
    "kms-via": _kms,
}


# -- the policy -------------------------------------------------------------------------------


def statements(ctx: Context) -> list[dict[str, Any]]:
    """One statement per resource kind the environment's features use, actions merged."""
    used = features(ctx)
    actions: dict[str, set[str]] = {}
    for op in TABLE:
        if op.feature in used and op.actions:
            actions.setdefault(op.resource, set()).update(op.actions)
    result = []
    for kind, names in actions.items():
        scope = SCOPES[kind](ctx)
        if scope is None:
            continue
        statement: dict[str, Any] = {
            "Sid": "".join(part.capitalize() for part in kind.replace("*", "any").split("-")),
            "Effect": "Allow",
            "Action": sorted(names),
            "Resource": list(scope.resources) if len(scope.resources) > 1 else scope.resources[0],
        }
        if scope.condition:
            statement["Condition"] = dict(scope.condition)
        result.append(statement)
    return result


def policy(project: Project, env: str) -> dict[str, Any]:
    """The IAM policy document for the role that runs shipyard against ``env``."""
    return {"Version": "2012-10-17", "Statement": statements(context(project, env))}
