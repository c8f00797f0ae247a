"""The keys shipyard understands: the root table, each unit's table, each environment."""

from __future__ import annotations

import dataclasses

from shipyard.checks import CHECKS, PREFIX
from shipyard.schema import Field

KINDS = ("service", "static", "lib")
TARGETS = ("local", "ecs", "static")
DEFAULT_TARGETS = {"service": "local", "static": "static"}  # a deployed kind's target when `targets` has none

# How ECS rolls a service out, and its name there. None: not set here (a service's [environments.<env>.services.<name>]
# table wins over the unit's keys, which win over the environment's); the effective values
# and their checks are in deploy/targets/ecs_strategy.py.
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
    "service-name": Field("str", None, doc='ECS service name, a template of {service} and {env}; unset: "{service}"'),
}

ENVIRONMENT_FIELDS: dict[str, Field] = {
    "targets": Field("str-table", {}, doc='deploy target per unit kind, e.g. {service = "ecs"}'),
    "registry": Field("str", "", doc="image registry host[/prefix]; ECR when it is *.amazonaws.com"),
    "registry-kind": Field("str", "", choices=("", "oci", "ecr"), doc="ecr or oci; default: from the host"),
    "region": Field("str", "", doc="AWS region"),
    "profile": Field("str", "", doc="AWS profile name"),
    "account-id": Field("str", "", doc="refuse to act when the caller's AWS account differs"),
    "cluster": Field("str", "", doc="ECS cluster name; {env} is replaced by the environment's name"),
    "protected": Field("bool", False, doc="deploys ask for confirmation (or --yes)"),
    "state-bucket": Field("str", "", doc="S3 bucket for the deploy lock and release ledger"),
    "state-prefix": Field("str", "shipyard", doc="key prefix inside state-bucket"),
    "promote-from": Field("str", "", doc="only deploy digests verified in this environment"),
    "slack-webhook": Field("str", "", doc="setting key holding a Slack incoming-webhook URL"),
    "static-bucket": Field("str", "", doc="S3 bucket for static sites"),
    "distribution-id": Field(
        "str", "", doc="CloudFront distribution of the environment's one static unit (others set their own)"
    ),
    "subnets": Field("str-list", [], doc="ECS awsvpc subnets"),
    "security-groups": Field("str-list", [], doc="ECS awsvpc security groups"),
    "execution-role-arn": Field("str", "", doc="ECS task execution role"),
    "task-role-arn": Field("str", "", doc="ECS task role"),
    "urls": Field("str-table", {}, doc="health/smoke-check base URL per service"),
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
    **STRATEGY_FIELDS,
    "services": Field("table", {}, each=STRATEGY_FIELDS, doc="per-service strategy keys in this environment"),
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
    "cache-from": Field("str", "", doc="BuildKit registry cache to read"),
    "cache-to": Field("str", "", doc="BuildKit registry cache to write"),
    "local-prefix": Field("str", "", doc="local image names are <local-prefix><service>"),
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
    "environments": Field("table", {}, each=ENVIRONMENT_FIELDS),
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
    "migrations": Field("str", "", doc="alembic.ini of the service's migrations", kinds=SERVICE),
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
    "distribution-id": Field(
        "str-table",
        {},
        doc='CloudFront distribution of this site per environment, e.g. {staging = "E2ABC"}; '
        "default: the environment's distribution-id",
        kinds=STATIC,
    ),
    "test": Field("str-list", [], doc="test command (a Python unit's default: pytest)"),
    "no-tests": Field(
        "str",
        "skip",
        choices=("skip", "fail"),
        doc="a test run that collects no test (pytest exit 5): skipped, or a failure",
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
    **{key: dataclasses.replace(spec, kinds=SERVICE) for key, spec in STRATEGY_FIELDS.items()},
}
