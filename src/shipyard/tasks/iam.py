"""Tasks: iam-policy — the least-privilege IAM policy of one environment."""

from __future__ import annotations

import json
import sys
from typing import Any

from invoke.tasks import task

from shipyard.cli.console import guarded
from shipyard.tasks.common import project

IAM_HELP = {"env": "environment (default: default-environment, usually `local`)"}


@task(help=IAM_HELP)
@guarded
def iam_policy(c: Any, env: str = "") -> None:
    """Print the least-privilege IAM policy (JSON) for the role that runs shipyard against an environment.

    Only the features the environment's configuration uses are in it; resources come from
    the configuration (buckets, repositories, cluster and services, distributions, roles,
    secret references). See docs/github-actions.md for every operation and why.
    """
    from shipyard.iam.policy import context, features, statements

    proj = project()
    ctx = context(proj, env or proj.settings["default-environment"])
    used = sorted(features(ctx))
    print(json.dumps({"Version": "2012-10-17", "Statement": statements(ctx)}, indent=2))
    print(f"features of {ctx.env!r}: {', '.join(used) or 'none (no AWS call needs a permission)'}", file=sys.stderr)


TOP_LEVEL = [iam_policy]
PER_SERVICE: list[Any] = []
