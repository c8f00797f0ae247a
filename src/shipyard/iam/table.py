"""Every AWS operation shipyard makes, with the IAM action(s) it needs, in one table.

A row is one operation in one feature: the same S3 GetObject reads the cache, the
ledger and a static site's manifest, each on its own resource. ``invoke iam-policy``
builds an environment's least-privilege policy from these rows (policy.py), the
IAM section of docs/github-actions.md is rendered from them (``python -m shipyard.iam``),
and the test suite records every operation its runs make and fails on one not listed
here (tests/conftest.py, SHIPYARD_RECORD_AWS_OPS in shipyard.aws).

Rows whose ``service`` is ``docker`` are registry API calls that the docker CLI makes
(push and pull against ECR); botocore never sees them, so no recording covers them.
Rows with ``pending`` name calls that are planned but not in the code yet (none today).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    """One AWS API operation shipyard calls, and what IAM must allow for it."""

    service: str  # botocore's service name ("ecs", "s3", "elbv2"), or "docker"
    name: str  # the API operation, as botocore names it ("DescribeServices")
    actions: tuple[str, ...]  # IAM actions; () when AWS needs no permission
    feature: str  # a key of FEATURES
    resource: str  # a key of RESOURCES: what the actions apply to
    where: str  # the call site
    pending: str = ""  # the issue-#14 branch that adds the call, when it is not in the code yet


FEATURES: dict[str, str] = {
    "account": "the account check before any AWS side effect",
    "cache-read": "reading the shared result cache (`[tool.shipyard.cache] s3-bucket`)",
    "cache-write": 'writing the shared result cache (`s3-mode = "read-write"`)',
    "state": "the deploy lock and release ledger (`state-bucket`)",
    "promote": "reading the `promote-from` environment: its ledger and static releases",
    "ecr": "ECR repositories, image lookups and pushes (an ECR `registry`)",
    "ecr-scan": "reading ECR's image scan of each pushed image (`ecr-scan = true`)",
    "ecr-pull": "pulling from ECR on the runner (migrations in a local container)",
    "ecs": 'ECS deploys (`targets = {service = "ecs"}`)',
    "ecs-strategy": "blue/green, canary and linear ECS deployments",
    "migrate-ecs": 'migrations as one-off ECS tasks (`migrate-via = "ecs"`)',
    "static": "static sites: S3 `static-bucket` and the CloudFront distributions",
    "secrets": "settings read on the runner: SSM parameters, Secrets Manager secrets, KMS",
}

RESOURCES: dict[str, str] = {
    "*": "`*` (the action has no resource-level permissions)",
    "cache-bucket": "`arn:aws:s3:::<cache s3-bucket>`",
    "cache-objects": "`arn:aws:s3:::<cache s3-bucket>/<s3-prefix>/*`",
    "state-bucket": "`arn:aws:s3:::<state-bucket>`",
    "state-objects": "`arn:aws:s3:::<state-bucket>/<state-prefix>/<env>/*`",
    "source-state-bucket": "the promote-from environment's `state-bucket`",
    "source-state-objects": "the promote-from environment's `<state-bucket>/<state-prefix>/<env>/*`",
    "static-bucket": "`arn:aws:s3:::<static-bucket>`",
    "static-objects": "`arn:aws:s3:::<static-bucket>/*`",
    "source-static-bucket": "the promote-from environment's `static-bucket`",
    "source-static-objects": "the promote-from environment's `<static-bucket>/*`",
    "distribution": "`arn:aws:cloudfront::<account>:distribution/<distribution-id>`",
    "repository": "`arn:aws:ecr:<region>:<account>:repository/<prefix>/<service>`, each service",
    "ecs-service": "`arn:aws:ecs:<region>:<account>:service/<cluster>/<service>`, each ECS service",
    "ecs-deployment": "`arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/*`",
    "ecs-taskdef": "`arn:aws:ecs:<region>:<account>:task-definition/<service>-<env>:*`",
    "ecs-task": "`arn:aws:ecs:<region>:<account>:task/<cluster>/*`",
    "ecs-cluster-scoped": "`*`, with the condition `ecs:cluster` = the cluster's ARN",
    "pass-role": "`execution-role-arn` and `task-role-arn` (and a task-definition file's roles), passed to "
    "`ecs-tasks.amazonaws.com` only",
    "pass-role-ecs": "`load-balancer-role` and the `lifecycle-hooks` roles, passed to `ecs.amazonaws.com` only",
    "log-group": "`arn:aws:logs:<region>:<account>:log-group:*` (the task definition's awslogs group)",
    "parameters": "`arn:aws:ssm:<region>:<account>:parameter/<name>`, each `ssm:` reference read on the runner",
    "secrets": "`arn:aws:secretsmanager:<region>:<account>:secret:<name>-??????`, each reference read on the runner",
    "kms-via": "`*`, with the condition `kms:ViaService` = SSM / Secrets Manager in the region",
}

_S3_STATE = "deploy/store.py (S3Store)"
_STATIC = "deploy/targets/static.py"
_ECS = "deploy/targets/ecs.py"
_ECR = "images/ecr.py"
_PUSH = "docker push (images/jobs.py)"
_PULL = "docker pull/run (deploy/migrate.py)"

TABLE: tuple[Operation, ...] = (
    Operation("sts", "GetCallerIdentity", (), "account", "*", "aws.py check_account (always allowed)"),
    # the shared result cache
    Operation("s3", "GetObject", ("s3:GetObject",), "cache-read", "cache-objects", "cache.py S3Reader"),
    # without ListBucket, S3 answers a GET of a missing key with 403 instead of NoSuchKey
    Operation("s3", "GetObject", ("s3:ListBucket",), "cache-read", "cache-bucket", "cache.py (a miss: 404, not 403)"),
    Operation("s3", "PutObject", ("s3:PutObject",), "cache-write", "cache-objects", "cache.py S3Store"),
    # the lock and the ledger
    Operation("s3", "GetObject", ("s3:GetObject",), "state", "state-objects", _S3_STATE),
    Operation("s3", "PutObject", ("s3:PutObject",), "state", "state-objects", _S3_STATE),
    Operation("s3", "DeleteObject", ("s3:DeleteObject",), "state", "state-objects", _S3_STATE),
    Operation("s3", "ListObjectsV2", ("s3:ListBucket",), "state", "state-bucket", _S3_STATE),
    # promotion: the other environment's ledger and static releases
    Operation("s3", "GetObject", ("s3:GetObject",), "promote", "source-state-objects", "deploy/session.py other"),
    Operation("s3", "ListObjectsV2", ("s3:ListBucket",), "promote", "source-state-bucket", "deploy/session.py other"),
    Operation("s3", "GetObject", ("s3:GetObject",), "promote", "source-static-objects", _STATIC + " (source)"),
    Operation("s3", "GetObject", ("s3:ListBucket",), "promote", "source-static-bucket", _STATIC + " (a miss: 404)"),
    Operation("s3", "CopyObject", ("s3:GetObject",), "promote", "source-static-objects", _STATIC + " _transfer"),
    # ECR
    Operation("ecr", "GetAuthorizationToken", ("ecr:GetAuthorizationToken",), "ecr", "*", _ECR + " login"),
    Operation("ecr", "CreateRepository", ("ecr:CreateRepository",), "ecr", "repository", _ECR + " ensure_repository"),
    Operation("ecr", "PutLifecyclePolicy", ("ecr:PutLifecyclePolicy",), "ecr", "repository", _ECR),
    Operation("ecr", "PutImageTagMutability", ("ecr:PutImageTagMutability",), "ecr", "repository", _ECR),
    Operation(
        "ecr", "PutImageScanningConfiguration", ("ecr:PutImageScanningConfiguration",), "ecr", "repository", _ECR
    ),
    Operation("ecr", "DescribeImages", ("ecr:DescribeImages",), "ecr", "repository", _ECR + " find_image"),
    Operation("ecr", "BatchGetImage", ("ecr:BatchGetImage",), "ecr", "repository", _ECR + " copy_tag"),
    Operation("ecr", "PutImage", ("ecr:PutImage",), "ecr", "repository", _ECR + " copy_tag"),
    Operation("ecr", "DescribeRepositories", ("ecr:DescribeRepositories",), "ecr", "repository", _ECR),
    Operation("ecr", "BatchDeleteImage", ("ecr:BatchDeleteImage",), "ecr", "repository", _ECR + " prune"),
    Operation(
        "ecr",
        "DescribeImageScanFindings",
        ("ecr:DescribeImageScanFindings",),
        "ecr-scan",
        "repository",
        "images/ecr_scan.py read_findings",
    ),
    Operation(
        "docker", "BatchCheckLayerAvailability", ("ecr:BatchCheckLayerAvailability",), "ecr", "repository", _PUSH
    ),
    Operation("docker", "InitiateLayerUpload", ("ecr:InitiateLayerUpload",), "ecr", "repository", _PUSH),
    Operation("docker", "UploadLayerPart", ("ecr:UploadLayerPart",), "ecr", "repository", _PUSH),
    Operation("docker", "CompleteLayerUpload", ("ecr:CompleteLayerUpload",), "ecr", "repository", _PUSH),
    Operation("docker", "PutImage", ("ecr:PutImage",), "ecr", "repository", _PUSH),
    Operation("docker", "BatchGetImage", ("ecr:BatchGetImage",), "ecr", "repository", "registry lookups, docker pull"),
    Operation("docker", "GetDownloadUrlForLayer", ("ecr:GetDownloadUrlForLayer",), "ecr", "repository", "docker pull"),
    Operation("ecr", "GetAuthorizationToken", ("ecr:GetAuthorizationToken",), "ecr-pull", "*", _PULL + " login"),
    Operation("docker", "BatchGetImage", ("ecr:BatchGetImage",), "ecr-pull", "repository", _PULL),
    Operation("docker", "GetDownloadUrlForLayer", ("ecr:GetDownloadUrlForLayer",), "ecr-pull", "repository", _PULL),
    # ECS
    Operation("ecs", "DescribeServices", ("ecs:DescribeServices",), "ecs", "ecs-service", _ECS + ", ecs_wait.py"),
    Operation("ecs", "DescribeTaskDefinition", ("ecs:DescribeTaskDefinition",), "ecs", "*", _ECS),
    Operation("ecs", "RegisterTaskDefinition", ("ecs:RegisterTaskDefinition",), "ecs", "*", _ECS + " register"),
    # tags on register_task_definition need TagResource on the new revision (tag-on-create)
    Operation("ecs", "RegisterTaskDefinition", ("ecs:TagResource",), "ecs", "ecs-taskdef", _ECS + " (its tags)"),
    Operation("ecs", "CreateService", ("ecs:CreateService",), "ecs", "ecs-service", _ECS + " _create"),
    Operation("ecs", "UpdateService", ("ecs:UpdateService",), "ecs", "ecs-service", _ECS + " _update"),
    Operation("ecs", "TagResource", ("ecs:TagResource",), "ecs", "ecs-service", _ECS + " undo_first_deploy"),
    Operation("ecs", "UntagResource", ("ecs:UntagResource",), "ecs", "ecs-service", _ECS + " _update"),
    Operation("ecs", "ListTasks", ("ecs:ListTasks",), "ecs", "ecs-cluster-scoped", "deploy/targets/ecs_wait.py"),
    Operation("ecs", "DescribeTasks", ("ecs:DescribeTasks",), "ecs", "ecs-task", "deploy/targets/ecs_wait.py"),
    Operation("iam", "PassRole", ("iam:PassRole",), "ecs", "pass-role", "register/create/update with the roles"),
    Operation("iam", "PassRole", ("iam:PassRole",), "ecs-strategy", "pass-role-ecs", _ECS + " _create/_update"),
    Operation(
        "ecs",
        "DescribeServiceDeployments",
        ("ecs:DescribeServiceDeployments",),
        "ecs",
        "ecs-deployment",
        "deploy/targets/ecs_wait.py verdicts",
    ),
    Operation(
        "ecs",
        "ListServiceDeployments",
        ("ecs:ListServiceDeployments",),
        "ecs",
        "ecs-service",
        "deploy/targets/ecs_wait.py verdicts",
    ),
    # migrations as one-off tasks
    Operation("ecs", "DescribeTaskDefinition", ("ecs:DescribeTaskDefinition",), "migrate-ecs", "*", _ECS + " run_once"),
    Operation("ecs", "RunTask", ("ecs:RunTask",), "migrate-ecs", "ecs-taskdef", _ECS + " run_once"),
    Operation("ecs", "DescribeTasks", ("ecs:DescribeTasks",), "migrate-ecs", "ecs-task", _ECS + " _wait_stopped"),
    Operation("iam", "PassRole", ("iam:PassRole",), "migrate-ecs", "pass-role", _ECS + " run_once"),
    Operation("logs", "GetLogEvents", ("logs:GetLogEvents",), "migrate-ecs", "log-group", "alembic output"),
    # static sites
    Operation("s3", "GetObject", ("s3:GetObject",), "static", "static-objects", _STATIC + " manifests, pointer"),
    Operation("s3", "ListObjectsV2", ("s3:ListBucket",), "static", "static-bucket", _STATIC + " _keys"),
    Operation("s3", "PutObject", ("s3:PutObject",), "static", "static-objects", _STATIC + " uploads, pointer"),
    Operation("s3", "CopyObject", ("s3:GetObject", "s3:PutObject"), "static", "static-objects", _STATIC),
    Operation("s3", "DeleteObject", ("s3:DeleteObject",), "static", "static-objects", _STATIC + " undo_first_deploy"),
    Operation(
        "cloudfront", "GetDistributionConfig", ("cloudfront:GetDistributionConfig",), "static", "distribution", _STATIC
    ),
    Operation(
        "cloudfront", "UpdateDistribution", ("cloudfront:UpdateDistribution",), "static", "distribution", _STATIC
    ),
    Operation("cloudfront", "GetDistribution", ("cloudfront:GetDistribution",), "static", "distribution", _STATIC),
    Operation(
        "cloudfront", "CreateInvalidation", ("cloudfront:CreateInvalidation",), "static", "distribution", _STATIC
    ),
    Operation("cloudfront", "GetInvalidation", ("cloudfront:GetInvalidation",), "static", "distribution", _STATIC),
    # settings and secrets resolved on the runner (local target, docker migrations, the webhook)
    Operation("ssm", "GetParameters", ("ssm:GetParameters",), "secrets", "parameters", "settings/resolve.py"),
    Operation("ssm", "GetParameters", ("kms:Decrypt",), "secrets", "kms-via", "settings/resolve.py (SecureString)"),
    Operation(
        "secretsmanager",
        "GetSecretValue",
        ("secretsmanager:GetSecretValue",),
        "secrets",
        "secrets",
        "settings/resolve.py",
    ),
    Operation("secretsmanager", "GetSecretValue", ("kms:Decrypt",), "secrets", "kms-via", "settings/resolve.py"),
)


def operation_names() -> frozenset[str]:
    """``service.Operation`` of every row botocore can see (not the docker CLI's)."""
    return frozenset(f"{o.service}.{o.name}" for o in TABLE if o.service != "docker")


def missing(recorded: set[str] | frozenset[str]) -> list[str]:
    """The recorded ``service.Operation`` names that no row of the table covers."""
    return sorted(set(recorded) - operation_names())
