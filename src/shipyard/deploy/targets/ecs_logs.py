"""What a one-off ECS task printed: its container's CloudWatch log stream (the awslogs driver).

The task definition's ``logConfiguration`` names the log group and stream prefix; the
awslogs driver writes each task's output to ``<prefix>/<container>/<task id>``. Without
an awslogs configuration (or a stream prefix, which Fargate requires) there is no way to
read the output back, and ``stream_of`` says so by returning None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.aws import aws_errors, env_client

EMPTY_TRIES = 3  # CloudWatch may show a stopped task's last lines a moment later: read again


@dataclass(frozen=True)
class LogStream:
    group: str
    stream: str
    region: str = ""


def stream_of(container: Mapping[str, Any], task_arn: str) -> LogStream | None:
    """The log stream of ``container`` (a container definition) in task ``task_arn``, or None."""
    logging = container.get("logConfiguration") or {}
    options = logging.get("options") or {}
    group, prefix = options.get("awslogs-group", ""), options.get("awslogs-stream-prefix", "")
    if logging.get("logDriver") != "awslogs" or not group or not prefix:
        return None
    task_id = task_arn.rsplit("/", 1)[-1]
    stream = f"{prefix}/{container.get('name', '')}/{task_id}"
    return LogStream(str(group), stream, str(options.get("awslogs-region", "")))


def read(environment: Mapping[str, Any], where: LogStream, *, sleep: Callable[[float], None], poll: float = 2.0) -> str:
    """Every line of the stream, oldest first (logs:GetLogEvents, paged)."""
    env = {**environment, "region": where.region} if where.region else environment
    client = env_client("logs", env)
    for attempt in range(EMPTY_TRIES):
        lines = _events(client, where, env.get("profile", ""))
        if lines or attempt + 1 == EMPTY_TRIES:
            return "\n".join(lines)
        sleep(poll)
    return ""


def _events(client: Any, where: LogStream, profile: str) -> list[str]:
    from botocore.exceptions import ClientError

    lines: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": where.group, "logStreamName": where.stream, "startFromHead": True}
    with aws_errors(f"read the log stream {where.stream} of {where.group}", profile):
        while True:
            try:
                page = client.get_log_events(**kwargs)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    return lines  # no stream (yet): the task printed nothing, or it is still being written
                raise
            lines.extend(str(e.get("message", "")).rstrip("\n") for e in page.get("events", []))
            token = page.get("nextForwardToken")
            if not token or token == kwargs.get("nextToken"):
                return lines
            kwargs["nextToken"] = token
