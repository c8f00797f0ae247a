"""The S3 cache's trust boundary: read-only off the main branch, and read-only roles.

A read-only role is a real IAM user on a moto server of this module's own that enforces
IAM. moto answers a missing key with 404 even when the caller lacks s3:ListBucket, where
S3 answers 403 AccessDenied; a proxy in front of moto gives S3's answer.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shipyard import aws as shipyard_aws
from shipyard.core.project import load_project
from shipyard.github import branch
from shipyard.run.cache import CacheConfig
from shipyard.run.results import PASSED
from tests.conftest import moto_process
from tests.deploy.test_faults import FaultProxy
from tests.helpers import git, write
from tests.run.test_cache import bucket_keys, lint, outside_actions, s3_repo  # noqa: F401 (an autouse fixture)

_ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
)


class S3WithoutListBucket(FaultProxy):
    """moto, answering as S3 does a caller without s3:ListBucket: a missing key is 403 AccessDenied."""

    def __init__(self, upstream: str, without_list_bucket: str) -> None:
        super().__init__(upstream)
        self.caller = f"Credential={without_list_bucket}/"  # the access key id in the SigV4 header
        self.missing_as_403 = 0

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        status, answer, payload = super().forward(method, path, headers, body)
        signed_by_caller = self.caller in headers.get("Authorization", "")
        if method == "GET" and status == 404 and b"NoSuchKey" in payload and signed_by_caller:
            self.missing_as_403 += 1
            return 403, [("Content-Type", "application/xml")], _ACCESS_DENIED
        return status, answer, payload


@dataclass(frozen=True)
class Keys:
    id: str
    secret: str


@dataclass(frozen=True)
class IamMoto:
    url: str
    admin: Keys
    reader: Keys  # s3:GetObject only: no s3:ListBucket, no s3:PutObject


def _user(iam: object, name: str, actions: list[str]) -> Keys:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.create_user(UserName=name)  # type: ignore[attr-defined]
    iam.put_user_policy(UserName=name, PolicyName="cache", PolicyDocument=json.dumps(policy))  # type: ignore[attr-defined]
    key = iam.create_access_key(UserName=name)["AccessKey"]  # type: ignore[attr-defined]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture(scope="module")
def iam_moto() -> Iterator[IamMoto]:
    """A moto server that enforces IAM, with an admin user and a read-only one."""
    import boto3

    for url in moto_process():
        iam = boto3.client(
            "iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        users = IamMoto(url, _user(iam, "admin", ["*"]), _user(iam, "ci-read", ["s3:GetObject"]))
        enforce = urllib.request.Request(
            f"{url}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(enforce).read()  # from now on every call is authenticated and authorized
        yield users


@pytest.fixture
def s3(iam_moto: IamMoto, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3WithoutListBucket]:
    """boto3 (as the admin user) pointed at S3-like answers from the IAM-enforcing moto."""
    proxy = S3WithoutListBucket(iam_moto.url, iam_moto.reader.id)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    be(monkeypatch, iam_moto.admin)
    yield proxy
    proxy.close()
    monkeypatch.undo()
    be_default()


def be_default() -> None:
    import boto3

    shipyard_aws.reset()
    boto3.setup_default_session()


def be(monkeypatch: pytest.MonkeyPatch, keys: Keys) -> None:
    """Act as ``keys``' user from now on: shipyard's clients and the tests' own boto3 clients."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret)
    shipyard_aws.reset()
    boto3.setup_default_session()  # the default session keeps the credentials it first found


def clone_on(repo: Path, where: Path, branch_name: str) -> Path:
    subprocess.run(["git", "clone", "-q", str(repo), str(where)], check=True)
    git(where, "checkout", "-q", "-b", branch_name)
    return where


def change(clone: Path, unit_file: str) -> None:
    write(clone / unit_file, 'VALUE = "changed"\n')


@pytest.mark.integration
def test_a_read_role_gets_403_for_a_missing_key_and_that_is_a_miss(
    repo: Path,
    tmp_path: Path,
    iam_moto: IamMoto,
    s3: S3WithoutListBucket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bucket = s3_repo(repo)
    lint(repo)  # main, as the admin: fills the cache
    before = bucket_keys(bucket)
    pull_request = clone_on(repo, tmp_path / "pr", "feature")
    change(pull_request, "services/b/src/b/__init__.py")
    be(monkeypatch, iam_moto.reader)
    capsys.readouterr()
    s3.missing_as_403, writes = 0, s3.seen["PutObject"]
    results = lint(pull_request)
    assert {u: (r.cached, r.details.get("cache")) for u, r in results.items()} == {
        "a": (True, "s3"),
        "b": (False, None),
        "core": (True, "s3"),
    }
    assert results["b"].status == PASSED
    assert s3.missing_as_403 == 2  # b's lookups (its lint result, its gate record) were answered 403 ...
    assert "warning" not in capsys.readouterr().err  # ... and the cache was not disabled
    assert s3.seen["PutObject"] == writes  # off main: b's new result stayed local
    be(monkeypatch, iam_moto.admin)
    assert bucket_keys(bucket) == before


@pytest.mark.integration
def test_the_cache_is_read_only_by_default_off_the_main_branch(
    repo: Path, tmp_path: Path, s3: S3WithoutListBucket
) -> None:
    bucket = s3_repo(repo)
    lint(repo)
    writes = s3.seen["PutObject"]
    assert writes == 6  # main writes by default: 3 lint results and their 3 gate records
    feature = clone_on(repo, tmp_path / "feature", "feature")
    change(feature, "services/b/src/b/__init__.py")
    results = lint(feature)  # the admin could write: nothing asks it to
    assert {u: r.cached for u, r in results.items()} == {"a": True, "b": False, "core": True}
    assert s3.seen["PutObject"] == writes
    assert len(bucket_keys(bucket, "lint/")) == 3


@pytest.mark.integration
def test_a_push_to_main_in_actions_writes_a_pull_request_does_not(
    repo: Path, tmp_path: Path, s3: S3WithoutListBucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_repo(repo)
    detached = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(repo), str(detached)], check=True)
    git(detached, "checkout", "-q", "--detach")  # what git says does not count inside Actions
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request_target")
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")  # the base branch's ref, the pull request's code
    lint(detached)
    assert s3.seen["PutObject"] == 0 and bucket_keys(bucket) == []
    (detached / ".shipyard" / "cache").rename(tmp_path / "pr-cache")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    lint(detached)
    assert s3.seen["PutObject"] == 6 and len(bucket_keys(bucket, "lint/")) == 3  # and 3 gate records


@pytest.mark.integration
def test_a_denied_write_turns_the_cache_read_only_with_one_warning(
    repo: Path,
    tmp_path: Path,
    iam_moto: IamMoto,
    s3: S3WithoutListBucket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bucket = s3_repo(repo)
    lint(repo)
    before, writes = bucket_keys(bucket), s3.seen["PutObject"]
    main = tmp_path / "main"
    subprocess.run(["git", "clone", "-q", str(repo), str(main)], check=True)
    change(main, "services/a/src/a/__init__.py")
    change(main, "services/b/src/b/__init__.py")  # two results to write
    be(monkeypatch, iam_moto.reader)  # main, with a role that cannot write
    capsys.readouterr()
    results = lint(main)
    assert {u: r.cached for u, r in results.items()} == {"a": False, "b": False, "core": True}
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "warning: S3 result cache is read-only for the rest of this run: s3:PutObject on s3://" in err
    assert s3.seen["PutObject"] == writes + 1  # the second result was not even tried
    be(monkeypatch, iam_moto.admin)
    assert bucket_keys(bucket) == before


@pytest.mark.integration
def test_credentials_that_do_not_exist_are_not_mistaken_for_a_miss(
    repo: Path,
    tmp_path: Path,
    s3: S3WithoutListBucket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """S3 answers an unknown access key with 403 too (InvalidAccessKeyId): that is one warning."""
    s3_repo(repo)
    lint(repo)
    clone = clone_on(repo, tmp_path / "pr", "feature")
    be(monkeypatch, Keys("AKIAUNKNOWNUNKNOWN00", "not-a-secret"))
    capsys.readouterr()
    results = lint(clone)
    assert all(not r.cached and r.status == PASSED for r in results.values())
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "warning: S3 result cache disabled for this run" in err
    assert "InvalidAccessKeyId" in err


# -- which branch, without S3 -------------------------------------------------------------------


def test_auto_mode_follows_the_configured_main_branch(repo: Path) -> None:
    bucket = f"results-{uuid.uuid4().hex[:12]}"
    table = f'\n[tool.shipyard.cache]\ns3-bucket = "{bucket}"\nmain-branch = "trunk"\n'
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text() + table)
    project = load_project(repo)
    assert CacheConfig.of(project, {}).mode == "read-only"  # on main, which is not the main branch here
    git(repo, "checkout", "-q", "-b", "trunk")
    assert CacheConfig.of(project, {}).mode == "read-write"
    assert CacheConfig.of(project, {"SHIPYARD_CACHE_S3_MODE": "read-only"}).mode == "read-only"  # the override


def test_an_explicit_s3_mode_is_kept_on_any_branch(repo: Path) -> None:
    table = '\n[tool.shipyard.cache]\ns3-bucket = "results"\ns3-mode = "read-write"\n'
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text() + table)
    git(repo, "checkout", "-q", "-b", "feature")
    assert CacheConfig.of(load_project(repo), {}).mode == "read-write"


QUEUE = "gh-readonly-queue/main/pr-7"  # a merge-queue branch: never "main"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main"}, "main"),
        ({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge"}, ""),
        ({"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_REF": "refs/heads/main"}, ""),
        ({"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1.2.0"}, ""),
        (
            {"GITHUB_EVENT_NAME": "merge_group", "GITHUB_REF": "refs/heads/gh-readonly-queue/main/pr-7-abc"},
            "gh-readonly-queue/main/pr-7-abc",
        ),
        ({"GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_REF": "refs/heads/release/2"}, "release/2"),
        ({"GITHUB_EVENT_NAME": "schedule"}, ""),
    ],
)
def test_the_branch_in_github_actions(env: dict[str, str], expected: str, tmp_path: Path) -> None:
    assert branch.current(tmp_path, {"GITHUB_ACTIONS": "true", **env}).branch == expected


def test_the_branch_from_git(repo: Path, tmp_path: Path) -> None:
    assert branch.current(repo, {}) == branch.Checkout("main", "git rev-parse --abbrev-ref HEAD")
    git(repo, "checkout", "-q", "--detach")
    assert branch.current(repo, {}).branch == ""
    assert branch.current(tmp_path, {}).branch == ""  # not a repository
