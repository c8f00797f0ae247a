"""ECR's image scan after a push (shipyard.images.ecr_scan).

moto's server models describe_image_scan_findings (its findings are set through moto's own API,
and it scans only on start_image_scan, not on push): the real calls run against it. What moto
does not model -- a scan still in progress, pages of findings, enhanced (Inspector) findings, a
failed or unsupported scan -- runs on botocore's Stubber, whose responses are checked against
ECR's service model."""

from __future__ import annotations

import datetime
import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shipyard.ci import gate
from shipyard.images import ecr, ecr_scan
from shipyard.images.registry import parse_registry
from shipyard.run.results import FAILED, PASSED
from shipyard.scan.base import Finding

REGISTRY = parse_registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/team")
DIGEST = "sha256:" + "ab" * 32
WHEN = datetime.datetime(2026, 12, 3, 5, 0, tzinfo=datetime.timezone.utc)
ENV = {"region": "us-east-1", "profile": "", "ecr-scan-wait": 60}


class Clock:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def basic(name: str, severity: str, package: str = "openssl", version: str = "3.0.2") -> dict[str, Any]:
    attributes = [{"key": "package_name", "value": package}, {"key": "package_version", "value": version}]
    return {"name": name, "description": f"{name} in {package}", "uri": f"https://cve/{name}", "severity": severity,
            "attributes": attributes}  # fmt: skip


def response(status: str, findings: list[dict[str, Any]] | None = None, **more: Any) -> dict[str, Any]:
    page: dict[str, Any] = {
        "registryId": "123456789012",
        "repositoryName": "team/api",
        "imageId": {"imageDigest": DIGEST},
        "imageScanStatus": {"status": status, "description": more.pop("description", "")},
    }
    if findings is not None or "enhanced" in more:
        counts: dict[str, int] = {}
        for f in findings or []:
            counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        page["imageScanFindings"] = {"imageScanCompletedAt": WHEN, "findingSeverityCounts": counts,
                                     "findings": findings or []}  # fmt: skip
        if "enhanced" in more:
            page["imageScanFindings"]["enhancedFindings"] = more.pop("enhanced")
    return {**page, **more}


def params(token: str = "") -> dict[str, Any]:
    return ecr_scan.findings_call("team/api", DIGEST, token).params  # type: ignore[return-value]


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client(
        "ecr",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        endpoint_url="https://api.ecr.us-east-1.amazonaws.com",
    )
    monkeypatch.setattr(ecr, "env_client", lambda service, environment: client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def read(clock: Clock, environment: dict[str, Any] = ENV) -> ecr_scan.ScanReport:
    return ecr_scan.read_findings(
        environment, REGISTRY, "api", DIGEST, where="services/api/Dockerfile", sleep=clock.sleep, clock=clock
    )


def test_waits_for_the_scan_then_reads_every_page(stubbed: Stubber) -> None:
    stubbed.add_response("describe_image_scan_findings", response("IN_PROGRESS"), params())
    stubbed.add_response("describe_image_scan_findings", response("PENDING"), params())
    first = response("COMPLETE", [basic("CVE-2026-1", "CRITICAL"), basic("CVE-2026-2", "MEDIUM")], nextToken="page2")
    stubbed.add_response("describe_image_scan_findings", first, params())
    stubbed.add_response("describe_image_scan_findings", response("COMPLETE", [basic("CVE-2026-3", "LOW")]),
                         params("page2"))  # fmt: skip
    clock = Clock()
    report = read(clock)
    assert clock.slept == [5.0, 5.0]
    assert report.findings == (
        Finding("ecr", "critical", "CVE-2026-1", "openssl 3.0.2: CVE-2026-1 in openssl", "services/api/Dockerfile"),
        Finding("ecr", "medium", "CVE-2026-2", "openssl 3.0.2: CVE-2026-2 in openssl", "services/api/Dockerfile"),
        Finding("ecr", "low", "CVE-2026-3", "openssl 3.0.2: CVE-2026-3 in openssl", "services/api/Dockerfile"),
    )
    assert report.counts == {"CRITICAL": 1, "MEDIUM": 1}  # the first page's counts: ECR's own for the image


def test_enhanced_findings_and_severities_ecr_cannot_rank(stubbed: Stubber) -> None:
    enhanced = [
        {
            "awsAccountId": "123456789012",
            "findingArn": "arn:aws:inspector2:us-east-1:123456789012:finding/1",
            "title": "CVE-2026-9 - urllib3",
            "severity": "HIGH",
            "status": "ACTIVE",
            "type": "PACKAGE_VULNERABILITY",
            "packageVulnerabilityDetails": {
                "vulnerabilityId": "CVE-2026-9",
                "vulnerablePackages": [{"name": "urllib3", "version": "1.26.0"}],
            },
        },
        {"title": "something Inspector has not triaged", "severity": "UNTRIAGED", "status": "ACTIVE"},
    ]
    stubbed.add_response("describe_image_scan_findings", response("ACTIVE", [basic("CVE-2026-8", "INFORMATIONAL")],
                         enhanced=enhanced), params())  # fmt: skip
    report = read(Clock())
    assert [(f.rule, f.severity, f.message) for f in report.findings] == [
        ("CVE-2026-8", "low", "openssl 3.0.2: CVE-2026-8 in openssl"),
        ("CVE-2026-9", "high", "urllib3 1.26.0: CVE-2026-9 - urllib3"),
        ("something Inspector has not triaged", "medium", "something Inspector has not triaged"),
    ]


@pytest.mark.parametrize(
    ("status", "description", "error", "text"),
    [
        ("UNSUPPORTED_IMAGE", "The operating system is not supported.", ecr_scan.NotScanned,
         "ECR's scan of team/api@sha256:abababababab: UNSUPPORTED_IMAGE (The operating system is not supported.)"),
        ("FAILED", "internal", ecr_scan.ScanFailed, "ECR's scan of team/api@sha256:abababababab: FAILED (internal)"),
        ("SCAN_ELIGIBILITY_EXPIRED", "", ecr_scan.NotScanned,
         "ECR's scan of team/api@sha256:abababababab: SCAN_ELIGIBILITY_EXPIRED"),
    ],
)  # fmt: skip
def test_a_scan_that_judged_nothing_says_why(
    stubbed: Stubber, status: str, description: str, error: type[Exception], text: str
) -> None:
    stubbed.add_response("describe_image_scan_findings", response(status, description=description), params())
    with pytest.raises(error) as caught:
        read(Clock())
    assert str(caught.value) == text


def test_no_scan_at_all_and_a_scan_that_never_completes(stubbed: Stubber) -> None:
    stubbed.add_client_error("describe_image_scan_findings", "ScanNotFoundException", "no scan", 400, params())
    with pytest.raises(ecr_scan.NotScanned, match="the repository does not scan on push"):
        read(Clock())
    for _ in range(3):  # looks at 0, 5 and 10 s
        stubbed.add_response("describe_image_scan_findings", response("IN_PROGRESS"), params())
    clock = Clock()
    with pytest.raises(ecr_scan.ScanFailed, match=r"did not complete within 10 s \(IN_PROGRESS\)"):
        read(clock, {**ENV, "ecr-scan-wait": 10})
    assert clock.slept == [5.0, 5.0]  # bounded: no sleep past the wait, no look after it


def test_the_threshold_decides_and_the_note_counts_by_severity() -> None:
    from shipyard.core.project import Unit

    unit = Unit.__new__(Unit)
    object.__setattr__(unit, "name", "api")
    found = tuple(Finding("ecr", s, f"CVE-{i}", "x", "services/api/Dockerfile") for i, s in
                  enumerate(("critical", "high", "medium")))  # fmt: skip
    report = ecr_scan.ScanReport(DIGEST, found, {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1})
    strict = ecr_scan.judged(unit, report, "high", 0.0)
    assert strict.status == FAILED and strict.task == "scan-ecr"
    assert strict.reason == "2 finding(s) at or above high (and 1 below) (critical 1, high 1, medium 1)"
    assert strict.details["severity_counts"] == {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1}
    assert "services/api/Dockerfile:1: [ecr CVE-0 critical] x" in strict.output
    low = ecr_scan.judged(unit, ecr_scan.ScanReport(DIGEST, found[2:]), "high", 0.0)
    assert low.status == PASSED and low.reason == "1 finding(s) below high (medium 1)"
    assert gate.passed_thresholds(low) == ["high", "critical"]  # what the gate records of it


def moto_findings(endpoint: str, repository: str, findings: list[dict[str, Any]]) -> None:
    """Tell moto's server what ECR's scan of ``repository``'s next image found (moto's own API)."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    result = {
        "repositoryName": repository,
        "imageId": {},
        "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
        "imageScanFindings": {"findings": findings, "findingSeverityCounts": counts},
    }
    body = json.dumps({"results": [result], "region": "us-east-1"}).encode()
    request = urllib.request.Request(f"{endpoint}/moto-api/static/ecr/scan-finding-results", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answered:
        assert answered.status in (200, 201)


MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": DIGEST},
    "layers": [],
})  # fmt: skip


@pytest.mark.integration
def test_findings_from_moto_over_the_wire(aws: str) -> None:
    from shipyard import aws as shipyard_aws

    shipyard_aws.reset()
    registry = parse_registry(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/scan-{uuid.uuid4().hex[:8]}")
    repository = ecr.ensure_repository(ENV, registry, "api")
    client = boto3.client("ecr")
    digest = client.put_image(repositoryName=repository.name, imageManifest=MANIFEST, imageTag="v1")["image"][
        "imageId"
    ]["imageDigest"]
    # moto does not scan on push: ECR's answer for an image it never scanned
    with pytest.raises(ecr_scan.NotScanned, match=f"ECR has no scan of {repository.name}@"):
        ecr_scan.read_findings(ENV, registry, "api", digest)
    client.start_image_scan(repositoryName=repository.name, imageId={"imageDigest": digest})
    moto_findings(aws, repository.name, [basic("CVE-2026-5", "HIGH", "zlib", "1.2.11"), basic("CVE-2026-6", "LOW")])
    report = ecr_scan.read_findings(ENV, registry, "api", digest, where="services/api/Dockerfile")
    assert [(f.rule, f.severity, f.message) for f in report.findings] == [
        ("CVE-2026-5", "high", "zlib 1.2.11: CVE-2026-5 in zlib"),
        ("CVE-2026-6", "low", "openssl 3.0.2: CVE-2026-6 in openssl"),
    ]
    assert report.counts == {"HIGH": 1, "LOW": 1}


SCAN_ENV = """
[tool.shipyard.environments.ecrscan]
registry = "{registry}/{prefix}-ecrscan"
registry-kind = "ecr"
region = "us-east-1"
ecr-scan = true
ecr-scan-wait = 30
scan-fail-on = "high"
require-scan = true
"""


@pytest.mark.integration
def test_a_push_is_followed_by_ecrs_scan_of_the_pushed_digest(
    fresh_aws: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make_example: Callable[[Path], Path],
    wheel_cache: Path,
    registry: str,
    images_prefix: str,
) -> None:
    from shipyard.ci.pipeline import RunOptions, execute
    from shipyard.core.project import load_project
    from shipyard.images.build import BuildOptions
    from shipyard.images.jobs import push_jobs
    from shipyard.run.cache import ResultCache
    from shipyard.run.keys import Inputs
    from tests.helpers import git
    from tests.images.test_ecr_push import manifest

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    root = make_example(tmp_path / "repo")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + SCAN_ENV.format(registry=registry, prefix=images_prefix))
    for unit, package in (("api", "example_api"), ("worker", "example_worker")):  # images of their own
        init = root / "services" / unit / "src" / package / "__init__.py"
        init.write_text(init.read_text() + "# scanned by ECR: an image of its own, whatever ran before\n")
    git(root, "commit", "-qam", "an environment that reads ECR's scans")
    project = load_project(root)
    services = [project.unit("api"), project.unit("worker")]

    def push(*reports: Path) -> dict[tuple[str, str], Any]:
        jobs = push_jobs(project, services, "ecrscan", BuildOptions(wheel_cache=wheel_cache))
        results = execute(project, jobs, RunOptions(jobs=2, reports=reports), Inputs.read(project))
        return {(r.unit, r.task): r for r in results}

    # moto has no registry behind it: the image it is asked about right after the push is unknown there
    first = push()
    assert [k for k in first] == [("api", "push"), ("api", "scan-ecr"), ("worker", "push"), ("worker", "scan-ecr")]
    assert first[("api", "push")].status == PASSED, first[("api", "push")].reason
    scan = first[("api", "scan-ecr")]
    assert scan.status == "error" and "read ECR's image scan of" in scan.reason, scan.reason
    assert "ImageNotFoundException" in scan.reason

    # as ECR would: it has the pushed images and scanned them on push
    client = boto3.client("ecr")
    for unit, found in (("api", [basic("CVE-2026-7", "CRITICAL"), basic("CVE-2026-8", "LOW")]),
                        ("worker", [basic("CVE-2026-9", "LOW", "zlib", "1.2.11")])):  # fmt: skip
        name, pushed = f"{images_prefix}-ecrscan/{unit}", first[(unit, "push")].details
        tag = pushed["fingerprint"][:16]
        client.put_image(repositoryName=name, imageManifest=manifest(registry, name, tag), imageTag=tag,
                         imageDigest=pushed["digest"])  # fmt: skip
        client.start_image_scan(repositoryName=name, imageId={"imageDigest": pushed["digest"]})
        moto_findings(fresh_aws, name, found)

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", "")
    capsys.readouterr()
    report, sarif = tmp_path / "push.json", tmp_path / "push.sarif"
    second = push(report, sarif)
    out = capsys.readouterr().out
    api, worker = second[("api", "scan-ecr")], second[("worker", "scan-ecr")]
    assert api.status == FAILED and api.details["digest"] == first[("api", "push")].details["digest"]
    assert api.reason == "1 finding(s) at or above high (and 1 below) (critical 1, low 1)"
    assert worker.status == PASSED and worker.reason == "1 finding(s) below high (low 1)"
    assert "::error file=services/api/Dockerfile,line=1::api scan-ecr: [ecr CVE-2026-7 critical]" in out
    rows = {(r["unit"], r["task"]): r for r in json.loads(report.read_text())["results"]}
    assert rows[("api", "scan-ecr")]["details"]["severity_counts"] == {"CRITICAL": 1, "LOW": 1}
    runs = {run["tool"]["driver"]["name"]: run for run in json.loads(sarif.read_text())["runs"]}
    assert {r["ruleId"]: r["level"] for r in runs["ecr"]["results"]} == {
        "CVE-2026-7": "error", "CVE-2026-8": "note", "CVE-2026-9": "note"}  # fmt: skip

    # the gate: worker's scan passed at high, api's did not
    inputs, cache = Inputs.read(project), ResultCache.of(project)
    absent = gate.missing(project, services, inputs, cache, ci=False, scan="high", ecr_scan=True)
    assert [r.label for r in absent if r.task == "scan-ecr"] == ["api scan-ecr at high"]
