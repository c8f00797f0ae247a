"""The keys shipyard understands: the root table, each unit's table, each environment."""

from __future__ import annotations

import dataclasses

from shipyard.checks import CHECKS, PREFIX
from shipyard.core.schema import Field
from shipyard.dependencies import READERS
from shipyard.deploy.migrations import DEFAULT_TOOL, MIGRATION_TOOLS
from shipyard.images.builders import BUILDERS, DEFAULT_BUILDER

KINDS = ("service", "static", "lib")
SEVERITIES = ("low", "medium", "high", "critical")  # of a scan finding (shipyard.scan), lowest first
SCAN_FAIL_ON = "high"  # an environment's scan-fail-on when it sets none
DEFAULT_TARGETS = {"service": "local", "static": "static"}  # a deployed kind's target when `targets` has none
# (the targets themselves, their keys and capabilities: deploy/targets/__init__.py)

# How ECS rolls a service out, and its name there. None: not set here (a service's [environments.<env>.services.<name>]
# table wins over the unit's keys, which win over the environment's); the effective values
# and their checks are in deploy/targets/ecs_strategy.py.
# ECS's DeploymentLifecycleHook lifecycleStages (botocore's model; tests/deploy/targets/test_ecs_hooks.py compares)
HOOK_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)
HOOK_FIELDS: dict[str, Field] = {
    "lambda-arn": Field("str", "", doc="ARN of the Lambda function ECS invokes at each stage (required)"),
    "role-arn": Field("str", "", doc="IAM role ECS assumes to invoke it (required)"),
    "stages": Field("str-list", [], choices=HOOK_STAGES, doc="the stages it runs at (required)"),
}

STRATEGY_FIELDS: dict[str, Field] = {
    "strategy": Field(
        "str",
        None,
        choices=("rolling", "blue-green", "canary", "linear"),
        doc="ECS deployment strategy; unset: the service's own (rolling for a service shipyard creates)",
    ),
    "bake-time": Field(
        "int", None, doc="minutes both revisions run after the traffic shift (required for blue-green; not rolling)"
    ),
    "alarms": Field("str-list", None, doc="CloudWatch alarms that roll the deployment back"),
    "canary-percent": Field("int", None, doc="canary: percent of production traffic shifted first (ECS default 5)"),
    "canary-interval": Field("int", None, doc="canary: minutes before the rest of the traffic shifts (ECS default 10)"),
    "linear-percent": Field("int", None, doc="linear: percent of production traffic shifted per step (ECS default 10)"),
    "linear-interval": Field("int", None, doc="linear: minutes between steps (ECS default 6)"),
    "target-group": Field("str", None, doc="ARN of the target group serving production traffic"),
    "alternate-target-group": Field("str", None, doc="blue-green/canary/linear: ARN of the second target group"),
    "production-listener-rule": Field("str", None, doc="blue-green/canary/linear: production listener rule ARN"),
    "test-listener-rule": Field("str", None, doc="blue-green/canary/linear: test listener rule ARN (optional)"),
    "load-balancer-role": Field("str", None, doc="blue-green/canary/linear: role ECS uses to shift traffic"),
    "lifecycle-hooks": Field(
        "table",
        None,
        each=HOOK_FIELDS,
        doc="blue-green/canary/linear: named Lambda hooks ECS runs at lifecycle stages; a failing one rolls back",
    ),
    "service-name": Field("str", None, doc='ECS service name, a template of {service} and {env}; unset: "{service}"'),
    "task-definition": Field(
        "str",
        None,
        doc="task-definition JSON, from the repository root ({service}, {env} filled in), the base of every revision;"
        " unset: <unit>/.aws/task-definition.json or .aws/task-definition.json when present",
    ),
}

# The keys of every environment; its targets' and notifiers' own keys come from their registries
# (environments.environment_fields() puts them together)
ENVIRONMENT_FIELDS: dict[str, Field] = {
    "extends": Field(
        "str",
        "",
        doc="another environment whose keys this one takes where it sets none (tables whole; chains allowed);"
        " its .env.<env> settings files are not inherited",
    ),
    "targets": Field("str-table", {}, doc='deploy target per unit kind, e.g. {service = "ecs"}'),
    "registry": Field("str", "", doc="image registry host[/prefix]; ECR when it is *.amazonaws.com"),
    "registry-kind": Field("str", "", choices=("", "oci", "ecr"), doc="ecr or oci; default: from the host"),
    "region": Field("str", "", doc="AWS region"),
    "profile": Field("str", "", doc="AWS profile name"),
    "account-id": Field("str", "", doc="refuse to act when the caller's AWS account differs"),
    "protected": Field("bool", False, doc="deploys ask for confirmation (or --yes)"),
    "scan-fail-on": Field(
        "str",
        SCAN_FAIL_ON,
        choices=SEVERITIES,
        doc="invoke scan --env E: findings at or above this severity fail (lower ones are reported)",
    ),
    "require-ci": Field(
        "bool", None, doc="deploy only content whose lint and tests passed in invoke ci; unset: true when protected"
    ),
    "require-scan": Field(
        "bool",
        False,
        doc="deploy only content whose security scans (invoke scan, invoke ci --scan) passed at this"
        " environment's scan-fail-on, for every scanner that applies (and ECR's, with ecr-scan)",
    ),
    "promote-from": Field("str", "", doc="only deploy digests verified in this environment"),
    "urls": Field("str-table", {}, doc="health/smoke-check base URL per service"),
    "ecr-scan": Field(
        "bool",
        False,
        doc="after a push to ECR, wait for ECR's image scan of the pushed digest and judge its findings at"
        " scan-fail-on (the scan-ecr result)",
    ),
    "ecr-scan-wait": Field("int", 300, doc="seconds a push waits for ECR's image scan to complete (ecr-scan)"),
    "ecr-prune-keep": Field(
        "int",
        0,
        doc="after a push to ECR, delete the repository's images beyond the newest N, sparing every digest"
        " among the unit's last N releases in any environment's ledger; 0: never delete",
    ),
    "extra-tags": Field(
        "str-list",
        [],
        doc='tags also put on each pushed image, e.g. ["latest", "{git-tag}"] ({git-tag}: HEAD\'s exact git tag)',
    ),
    "deploy-timeout": Field("int", 900, doc="seconds to wait for a roll-out"),
    "migrate-via": Field(
        "str", "docker", choices=("docker", "ecs"), doc="migrations in a local container, or a one-off ECS task"
    ),
    "smoke-attempts": Field("int", 10, doc="smoke check: GET attempts on urls.<service> + health-path"),
    "smoke-interval": Field("int", 3, doc="smoke check: seconds between attempts"),
    "notify": Field(
        "str-list",
        [],
        doc="notifiers of deploys, rollbacks and migrations (see below); unset: each notifier whose keys are set",
    ),
}

# The keys of the ecs and static targets (their registry lines in deploy/targets/__init__.py)
ECS_FIELDS: dict[str, Field] = {
    "cluster": Field("str", "", doc="ECS cluster name; {env} is replaced by the environment's name"),
    "subnets": Field("str-list", [], doc="ECS awsvpc subnets"),
    "security-groups": Field("str-list", [], doc="ECS awsvpc security groups"),
    "execution-role-arn": Field("str", "", doc="ECS task execution role"),
    "task-role-arn": Field("str", "", doc="ECS task role"),
    **STRATEGY_FIELDS,
    "services": Field("table", {}, each=STRATEGY_FIELDS, doc="per-service strategy keys in this environment"),
}

STATIC_FIELDS: dict[str, Field] = {
    "static-bucket": Field("str", "", doc="S3 bucket for static sites"),
    "distribution-id": Field(
        "str", "", doc="CloudFront distribution of the environment's one static unit (others set their own)"
    ),
}

CACHE_FIELDS: dict[str, Field] = {
    "dir": Field("str", ".shipyard/cache", doc="local result cache"),
    "s3-bucket": Field("str", "", doc="shared result cache bucket"),
    "s3-prefix": Field("str", "shipyard-cache", doc="key prefix in s3-bucket"),
    "s3-mode": Field(
        "str",
        "auto",
        choices=("auto", "read-write", "read-only", "off"),
        doc="auto: read-write on main-branch, read-only elsewhere (pull requests, other branches, tags)",
    ),
    "main-branch": Field("str", "main", doc="the branch whose runs write the S3 cache when s3-mode is auto"),
}

IMAGE_FIELDS: dict[str, Field] = {
    "base-image": Field("str", "python:3.11-slim", doc="FROM image passed as BASE_IMAGE"),
    "platform": Field("str", "linux/amd64", doc="platform wheels and images are built for"),
    "local-prefix": Field("str", "", doc="local image names are <local-prefix><service>"),
    "builder": Field("str", DEFAULT_BUILDER, choices=BUILDERS.names(), doc="what builds the images"),
    **BUILDERS.fields(),  # each image builder's own keys (images/builders/)
}

INTEGRATION_FIELDS: dict[str, Field] = {
    "service": Field("str", "", doc="the compose service that runs the tests (`run --rm`); set this or command"),
    "command": Field(
        "str-list",
        [],
        doc="the host command that runs the tests once the stack is healthy, from the repository root"
        " (COMPOSE_FILE and COMPOSE_PROJECT_NAME set to the stack's); set this or service",
    ),
    "compose-files": Field("str-list", [], doc="compose files, in order; default: the root compose file"),
    "services": Field("str-list", [], doc="the services started and waited on; default: all but the test service"),
    "tests": Field(
        "str-list",
        [],
        doc="files and folders the tests read (their contents enter the cache key); default: the test service's"
        " build context and bind-mounted paths, else (a command) every file outside the units",
    ),
}

ROOT_FIELDS: dict[str, Field] = {
    "services": Field("str-list", ["services/*"], doc="globs of service directories"),
    "libs": Field("str-list", ["libs/*"], doc="globs of library directories"),
    "python": Field("str-list", ["3.10", "3.11", "3.12", "3.13"], doc="Python versions to test"),
    "strict-python": Field("bool", False, doc="a missing interpreter is an error"),
    "default-environment": Field("str", "local"),
    "jobs": Field("int", 0, doc="parallel jobs; 0 means the core count"),
    "cache": Field("table", {}, fields=CACHE_FIELDS),
    "image": Field("table", {}, fields=IMAGE_FIELDS),
    "integration": Field("table", {}, fields=INTEGRATION_FIELDS, doc="`invoke integration` (see below)"),
    "environments": Field("table", {}, doc="one table per environment (validated in environments.py)"),
    "deploy-on": Field(
        "str-table",
        {},
        doc="the pushes that deploy each environment in the workflows `shipyard init --github` writes, e.g."
        ' { staging = "branch:develop", production = "tag:v*" } (a name, or a name ending in *);'
        " unset: deploy.yml is a template",
    ),
}

# ``kinds``/``python`` say which units a key does anything in; elsewhere it is a config error
SERVICE = ("service",)
DEPLOYED = ("service", "static")
STATIC = ("static",)

UNIT_FIELDS: dict[str, Field] = {
    "kind": Field("str", "service", choices=KINDS),
    "name": Field("str", "", doc="defaults to the directory name"),
    "depends-on": Field("str-list", [], doc="libs this unit uses"),
    "port": Field("int", 0, doc="port the service listens on", kinds=SERVICE),
    "health-path": Field("str", "", doc="HTTP health endpoint (also the smoke check of a static site)", kinds=DEPLOYED),
    "dockerfile": Field("str", "Dockerfile", kinds=SERVICE),
    "build-mode": Field(
        "str",
        "",
        choices=("", "hermetic", "dockerfile"),
        doc="hermetic (shipyard's wheel context, no network) or dockerfile (your Dockerfile as docker build runs it);"
        " default: hermetic when the Dockerfile copies deps/ or app/, else dockerfile",
        kinds=SERVICE,
    ),
    "context": Field(
        "str",
        "",
        doc='dockerfile mode: the build context, from the repository root ("." for the root); default: the unit',
        kinds=SERVICE,
    ),
    "target": Field("str", "", doc="dockerfile mode: the stage to build (--target)", kinds=SERVICE),
    "build-args": Field(
        "str-table", {}, doc="dockerfile mode: --build-arg values (declared ARGs only; no secrets)", kinds=SERVICE
    ),
    "repository": Field(
        "str", "", doc="repository name in the registry (default: <registry prefix>/<name>)", kinds=SERVICE
    ),
    "python": Field("str", "3.11", doc="Python version inside the image (the matrix version of a non-Python unit)"),
    "base-image": Field(
        "str", "", doc="this unit's FROM image (BASE_IMAGE); unset: [tool.shipyard.image] base-image", kinds=SERVICE
    ),
    "migrations": Field("str", "", doc="alembic.ini of the service's migrations", kinds=SERVICE),
    "migration-tool": Field(
        "str", DEFAULT_TOOL, choices=MIGRATION_TOOLS.names(), doc="the tool that runs `migrations`", kinds=SERVICE
    ),
    "deploy-after": Field("str-list", [], doc="services that must be deployed before this one", kinds=DEPLOYED),
    "required-env": Field("str-list", [], doc="settings that must be set to deploy"),
    "secret-env": Field("str-list", [], doc="settings that are secret"),
    "env": Field("str-table", {}, doc="default settings"),
    "cpu": Field("int", 256, kinds=SERVICE),
    "memory": Field("int", 512, kinds=SERVICE),
    "command": Field("str-list", [], doc="container command", kinds=SERVICE),
    "build": Field("str-list", [], doc="build command of a static unit", kinds=STATIC),
    "output": Field("str", "dist", doc="build output directory of a static unit", kinds=STATIC),
    "publish-exclude": Field(
        "str-list", [], doc="output files not to publish (globs), e.g. a build manifest", kinds=STATIC
    ),
    "runtime-config": Field(
        "str",
        "",
        doc="file written into the site at deploy from the environment's public settings (the unit's env and"
        ' required-env keys), e.g. "config.js" (window.__CONFIG__ = {...};) or "config.json"; not part of the release',
        kinds=STATIC,
    ),
    "runtime-config-global": Field(
        "str", "__CONFIG__", doc="the window property a config.js runtime-config sets", kinds=STATIC
    ),
    "build-env": Field(
        "str-list",
        [],
        doc='settings passed to the build command (values baked in at build time, e.g. ["VITE_API_URL"]): the build'
        " is per environment; promotion still requires the source fingerprint the promote-from environment verified",
        kinds=STATIC,
    ),
    "distribution-id": Field(
        "str-table",
        {},
        doc='CloudFront distribution of this site per environment, e.g. {staging = "E2ABC"}; '
        "default: the environment's distribution-id",
        kinds=STATIC,
    ),
    "test": Field("str-list", [], doc="test command (a Python unit's default: pytest)"),
    "outputs": Field(
        "str-list",
        [],
        doc="files and folders the unit's tests write (relative to the unit, e.g. coverage.xml, htmlcov/): "
        "kept with a cached test result and restored on a hit; never inputs",
    ),
    "no-tests": Field(
        "str",
        "skip",
        choices=("skip", "fail"),
        doc="a test run that collects no test (pytest exit 5): skipped, or a failure",
    ),
    "test-env": Field(
        "str-table", {}, doc="settings for tests, over `env` (the `test` layer: .env.test files override them)"
    ),
    "test-setup": Field(
        "str-list",
        [],
        doc='commands run before the tests, in the test venv with the test settings, e.g. ["alembic upgrade head"]',
    ),
    "test-services": Field(
        "str-list",
        [],
        doc="services of the root docker-compose.yml started healthy before the tests and removed after"
        " (none when SHIPYARD_TEST_SERVICES=external)",
    ),
    "checks": Field(
        "str-list",
        ["ruff"],
        choices=tuple(CHECKS),
        prefixes=(PREFIX,),
        doc="the lint/format/type-check tools a Python unit is checked with, run by `invoke lint`, in order;"
        ' `command:<argv>` runs a command of its own from the unit\'s directory, e.g. "command:make lint"',
        python=True,
    ),
    "lint": Field("str-list", [], doc="lint command (Python units use `checks`)", python=False),
    "dependencies": Field(
        "str",
        "",
        doc="the lock the unit's pins come from: "
        + ", ".join(dict.fromkeys(p for reader in READERS.values() for p in reader.patterns))
        + "; default: the one it has (several must agree)",
        python=True,
    ),
    **{key: dataclasses.replace(spec, kinds=SERVICE) for key, spec in STRATEGY_FIELDS.items()},
}
