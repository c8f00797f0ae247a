"""The one AWS boundary: lazily created boto3 clients, and errors that name the fix.

boto3 is imported here, inside functions, so that listing tasks never pays for it.
The endpoint comes from boto3's own AWS_ENDPOINT_URL support (moto, LocalStack).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import Any

from shipyard.core.errors import ShipyardError

_EXPIRED = {
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_THROTTLING = {  # AWS saying "slower": reported as throttling once botocore's retries are spent
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
}
THROTTLED = _THROTTLING | {
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
    "503",
}

# botocore's "standard" retry mode retries throttling, 5xx and connection errors with
# jittered exponential backoff; a dozen throttled calls in a row (seen in a real incident:
# 12 DescribeServices in 3.5 s) are absorbed by this and by shipyard's own polls/retries.
MAX_ATTEMPTS = 8  # botocore's `max_attempts`: retries after the first try


# The oldest boto3/botocore with both S3 conditional writes the lock and the ledger use:
# PutObject IfNoneMatch came in botocore 1.35.2, DeleteObject IfMatch in 1.35.67 and
# PutObject IfMatch in 1.35.69 (botocore's CHANGELOG and data/s3/2006-03-01/service-2.json).
BOTO_FLOOR = "1.35.69"

# What else decides where a client talks and as whom: a changed endpoint or identity in
# the process environment must not reuse a client made for the old one.
_ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION")


# Test instrumentation: when set, the name of a file to which every session appends each AWS
# operation shipyard's code makes with its clients ("ecs.DescribeServices"), so that the test
# suite can check that shipyard.iam's table lists every one, also those of `invoke` run in a
# subprocess. A test's own set-up calls (create_bucket through the same clients) are left out.
RECORD_ENV = "SHIPYARD_RECORD_AWS_OPS"
_recorded: set[tuple[str, str]] = set()
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


@functools.cache
def _session(profile: str, region: str, environment: tuple[str, ...]) -> Any:
    import boto3

    with aws_errors("open an AWS session"):
        session = boto3.session.Session(profile_name=profile or None, region_name=region or None)
    if os.environ.get(RECORD_ENV):
        session.events.register("before-call.*.*", functools.partial(_record, os.environ[RECORD_ENV]))
    return session


def _record(path: str, model: Any, **_: Any) -> None:
    name = f"{model.service_model.service_name}.{model.name}"
    if (path, name) not in _recorded and _called_by_shipyard():
        _recorded.add((path, name))
        with open(path, "a", encoding="utf-8") as out:
            out.write(name + "\n")


def _called_by_shipyard() -> bool:
    """Whether the first caller outside boto3/botocore is shipyard's own code."""
    import sys

    import boto3
    import botocore

    libraries = tuple(os.path.dirname(m.__file__ or "") + os.sep for m in (boto3, botocore))
    frame: FrameType | None = sys._getframe(2)  # above _record and botocore's hook dispatch
    while frame is not None and frame.f_code.co_filename.startswith(libraries):
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith(_PACKAGE)


def client_config() -> Any:
    """The botocore Config of every client shipyard makes: standard retries."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS})


@functools.cache
def _client(service: str, profile: str, region: str, environment: tuple[str, ...]) -> Any:
    with aws_errors(f"create an AWS {service} client"):
        made = _session(profile, region, environment).client(service, config=client_config())
    made.meta.events.register("before-call", _before_call)
    return made


# Fences of AWS writes: each is called before every write of a FENCED service while it is
# installed (DeployLock.held installs its own), and raises to refuse the write.
_fences: list[Callable[[str], None]] = []
FENCED = frozenset({"ecs"})
_READS = ("Describe", "List", "Get")


def _before_call(model: Any, **_: Any) -> None:
    """botocore's before-call hook of every client shipyard makes: a write passes the fences."""
    service = model.service_model.service_name
    if service in FENCED and not model.name.startswith(_READS):
        for fence in list(_fences):
            fence(f"{service} {model.name}")


@contextmanager
def fenced(fence: Callable[[str], None]) -> Iterator[None]:
    """While the block runs, every ECS write first calls ``fence(operation)``, which may refuse it."""
    _fences.append(fence)
    try:
        yield
    finally:
        _fences.remove(fence)


def client(service: str, profile: str = "", region: str = "") -> Any:
    """A cached boto3 client for ``service`` with the environment's profile and region."""
    return _client(service, profile, region, tuple(os.environ.get(k, "") for k in _ENVIRONMENT))


def reset() -> None:
    """Forget every cached session and client."""
    _client.cache_clear()
    _session.cache_clear()


def env_client(service: str, environment: Mapping[str, Any]) -> Any:
    """The client for ``service`` configured by an environment table (profile, region)."""
    return client(service, environment.get("profile", ""), environment.get("region", ""))


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` is AWS saying "not now" (throttling, 5xx) or a dropped connection:
    worth trying again later, once botocore's own retries are spent."""
    from botocore import exceptions as bx

    if isinstance(exc, (bx.ConnectionError, bx.HTTPClientError)):
        return True
    if not isinstance(exc, bx.ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(exc) in THROTTLED or int(status or 0) >= 500


@contextmanager
def aws_errors(action: str, profile: str = "") -> Iterator[None]:
    """Translate boto3/botocore failures while doing ``action`` into ShipyardError."""
    from botocore import exceptions as bx

    login = f"aws sso login --profile {profile}" if profile else "aws sso login (or export AWS_ACCESS_KEY_ID/..)"
    try:
        yield
    except bx.ProfileNotFound as exc:
        raise ShipyardError(
            f"cannot {action}: {exc}", hint="check `profile` in the environment or ~/.aws/config"
        ) from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise ShipyardError(f"cannot {action}: no AWS credentials found", hint=f"run `{login}`") from None
    except bx.NoRegionError:
        raise ShipyardError(
            f"cannot {action}: no AWS region", hint="set `region` in the environment or AWS_REGION"
        ) from None
    except (bx.ConnectionError, bx.HTTPClientError) as exc:  # refused, reset, closed, TLS, timeouts
        raise ShipyardError(
            f"cannot {action}: AWS is unreachable ({exc})", hint="check the network or AWS_ENDPOINT_URL"
        ) from None
    except bx.ParamValidationError as exc:  # e.g. IfMatch on PutObject, unknown to an old botocore
        raise outdated_botocore(action, exc) from None
    except bx.TokenRetrievalError:
        raise ShipyardError(f"cannot {action}: the AWS SSO session has expired", hint=f"run `{login}`") from None
    except bx.ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or code
        if code in _EXPIRED:
            raise ShipyardError(
                f"cannot {action}: AWS credentials are expired or invalid", hint=f"run `{login}`"
            ) from None
        if code in _THROTTLING:
            raise throttled(action, exc) from None
        if code in _DENIED:
            raise ShipyardError(
                f"cannot {action}: access denied ({message})", hint="the role needs the permission named above"
            ) from None
        raise ShipyardError(f"cannot {action}: {code}: {message}") from None


def throttled(action: str, exc: Any) -> ShipyardError:
    """AWS throttled ``action`` through all of botocore's retries: said as such, with what to do."""
    tries = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0) + 1
    message = exc.response.get("Error", {}).get("Message", "")
    return ShipyardError(
        f"cannot {action}: AWS is throttling the requests ({error_code(exc)}: {message}; "
        f"{tries} {'try' if tries == 1 else 'tries'})",
        hint="try again in a few minutes; when it persists, fewer concurrent deploys or a higher AWS quota",
    )


def outdated_botocore(action: str, exc: BaseException) -> ShipyardError:
    """botocore refused a request's parameters: almost always a botocore older than the floor."""
    import botocore
    from packaging.version import Version

    installed = botocore.__version__
    report = " ".join(str(getattr(exc, "kwargs", {}).get("report", exc)).split())
    if Version(installed) < Version(BOTO_FLOOR):
        hint = f"shipyard needs boto3>={BOTO_FLOOR} (S3 conditional writes): pip install 'boto3>={BOTO_FLOOR}'"
    else:
        hint = f"botocore {installed} meets shipyard's floor (boto3>={BOTO_FLOOR}): a shipyard bug, please report it"
    return ShipyardError(f"cannot {action}: botocore {installed} rejected the request ({report})", hint=hint)


def check_account(environment: Mapping[str, Any], name: str) -> str:
    """The caller's account id; refuse when the environment expects another account."""
    with aws_errors("identify the AWS caller", environment.get("profile", "")):
        account = str(env_client("sts", environment).get_caller_identity()["Account"])
    expected = environment.get("account-id", "")
    if expected and account != expected:
        raise ShipyardError(
            f"environment {name!r} expects AWS account {expected}, but the credentials are for {account}",
            hint="switch profile/credentials to the right account",
        )
    return account
