"""ECR's image scan of a pushed image: wait for it, read its findings, judge them (``scan-ecr``).

Repositories shipyard creates scan on push (shipyard.images.ecr). With ``ecr-scan = true``, a
push to ECR is followed by a ``scan-ecr`` job for the pushed digest: it polls
``describe_image_scan_findings`` until ECR's scan is complete (at most ``ecr-scan-wait``
seconds, every 5 s as botocore's ``image_scan_complete`` waiter), and fails on a finding at
or above the environment's ``scan-fail-on``, as the other scanners do (shipyard.scan.run):
its output lists every finding, so the summary, the SARIF report and the GitHub annotations
show them. Basic scanning's ``findings`` and enhanced scanning's (Inspector)
``enhancedFindings`` are both read, every page.

An image ECR did not scan (no scan on push, an unsupported image type, ...) judged nothing:
a skip that says why, never a pass; a scan that failed, or did not complete in time, fails.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.images.ecr import AwsCall, call, in_region
from shipyard.images.registry import Registry
from shipyard.run.results import ERROR, FAILED, SKIPPED, Result
from shipyard.scan.base import SEVERITIES, Finding

TASK = "scan-ecr"
POLL = 5.0  # seconds between two looks, as botocore's image_scan_complete waiter
# ECR's severities in shipyard's; one ECR cannot rank (UNDEFINED, Inspector's UNTRIAGED) counts as medium
SEVERITY = {"INFORMATIONAL": "low", "LOW": "low", "MEDIUM": "medium", "HIGH": "high", "CRITICAL": "critical"}
WAITING = ("IN_PROGRESS", "PENDING")
DONE = ("COMPLETE", "ACTIVE")  # ACTIVE: enhanced (continuous) scanning, findings available


class NotScanned(Exception):
    """ECR has no findings for the image, and says why (the result is a skip)."""


class ScanFailed(Exception):
    """ECR's scan failed, or did not complete within the wait (the result is a failure)."""


@dataclass(frozen=True)
class ScanReport:
    """The findings of ECR's completed scan of one image."""

    digest: str
    findings: tuple[Finding, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)  # severity -> findings


def findings_call(repository: str, digest: str, token: str = "") -> AwsCall:
    params: dict[str, Any] = {"repositoryName": repository, "imageId": {"imageDigest": digest}}
    if token:
        params["nextToken"] = token
    return AwsCall("ecr", "describe_image_scan_findings", params)


def read_findings(
    environment: Mapping[str, Any],
    registry: Registry,
    unit: str,
    digest: str,
    *,
    where: str = "",
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ScanReport:
    """ECR's findings for ``unit@digest`` once its scan is complete (``where``: the file a finding
    is reported on, the unit's Dockerfile). NotScanned / ScanFailed when there are none to judge."""
    env, name = in_region(environment, registry), registry.repository(unit)
    from shipyard.core.config import ENVIRONMENT_FIELDS

    default_wait = ENVIRONMENT_FIELDS["ecr-scan-wait"].default
    wait, start = float(environment.get("ecr-scan-wait", default_wait)), clock()
    while True:
        page = _page(env, name, digest, "")
        status = page.get("imageScanStatus", {})
        state, why = str(status.get("status", "")), str(status.get("description", ""))
        if state in DONE:
            return ScanReport(digest, tuple(_all_findings(env, name, digest, page, where)), _counts(page))
        if state not in WAITING:
            _not_done(name, digest, state, why)
        if clock() - start + POLL > wait:
            raise ScanFailed(f"ECR's scan of {name}@{digest[:19]} did not complete within {wait:.0f} s ({state})")
        sleep(POLL)


def _page(env: Mapping[str, Any], name: str, digest: str, token: str) -> dict[str, Any]:
    found = call(
        env,
        findings_call(name, digest, token),
        f"read ECR's image scan of {name}@{digest[:19]}",
        tolerate=("ScanNotFoundException",),
    )
    if found is None:
        raise NotScanned(f"ECR has no scan of {name}@{digest[:19]}: the repository does not scan on push")
    return found


def _not_done(name: str, digest: str, state: str, why: str) -> None:
    text = f"ECR's scan of {name}@{digest[:19]}: {state}" + (f" ({why})" if why else "")
    raise ScanFailed(text) if state == "FAILED" else NotScanned(text)


def _all_findings(env: Mapping[str, Any], name: str, digest: str, page: Mapping[str, Any], where: str) -> list[Finding]:
    found = parse_findings(page, where)
    while page.get("nextToken"):
        page = _page(env, name, digest, str(page["nextToken"]))
        found += parse_findings(page, where)
    return found


def _counts(page: Mapping[str, Any]) -> dict[str, int]:
    raw = page.get("imageScanFindings", {}).get("findingSeverityCounts", {})
    return {str(k): int(v) for k, v in raw.items()}


def severity(ecr: str) -> str:
    return SEVERITY.get(ecr.upper(), "medium")


def parse_findings(page: Mapping[str, Any], where: str = "") -> list[Finding]:
    """One page's basic (``findings``) and enhanced (``enhancedFindings``) findings."""
    scan = page.get("imageScanFindings", {})
    found = [_basic(f, where) for f in scan.get("findings", [])]
    return found + [_enhanced(f, where) for f in scan.get("enhancedFindings", [])]


def _basic(f: Mapping[str, Any], where: str) -> Finding:
    attrs = {a.get("key"): a.get("value", "") for a in f.get("attributes", [])}
    package = " ".join(v for v in (attrs.get("package_name", ""), attrs.get("package_version", "")) if v)
    text = _one_line(f.get("description", "") or f.get("uri", ""))
    return Finding("ecr", severity(str(f.get("severity", ""))), str(f.get("name", "?")), _joined(package, text), where)


def _enhanced(f: Mapping[str, Any], where: str) -> Finding:
    details = f.get("packageVulnerabilityDetails", {})
    packages = [f"{p.get('name', '')} {p.get('version', '')}".strip() for p in details.get("vulnerablePackages", [])]
    rule = str(details.get("vulnerabilityId") or f.get("title") or "?")
    text = _one_line(f.get("title", "") or f.get("description", ""))
    return Finding("ecr", severity(str(f.get("severity", ""))), rule, _joined(", ".join(packages), text), where)


def _joined(package: str, text: str) -> str:
    return f"{package}: {text}" if package and text else package or text or "a finding"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


def counted(findings: Sequence[Finding]) -> str:
    """``critical 1, high 2``: the findings by severity, worst first."""
    counts = Counter(f.severity for f in findings)
    return ", ".join(f"{s} {counts[s]}" for s in reversed(SEVERITIES) if counts[s])


def judged(unit: Unit, report: ScanReport, threshold: str, elapsed: float) -> Result:
    """The scan-ecr Result, as every scanner's (failed on a finding at or above ``threshold``),
    with the findings by severity in its note and ECR's counts in its details."""
    from shipyard.scan.run import verdict

    result = verdict(unit, TASK, report.findings, threshold, elapsed)
    by = counted(report.findings)
    reason = f"{result.reason} ({by})" if by and result.reason else result.reason
    details = {"digest": report.digest, "severity_counts": dict(report.counts)}
    return replace(result, reason=reason, details={**result.details, **details})


def unjudged(unit: str, exc: Exception, elapsed: float) -> Result:
    """The scan-ecr Result of a scan with nothing to judge: a skip (NotScanned) or a failure."""
    status = SKIPPED if isinstance(exc, NotScanned) else FAILED
    return Result(unit, TASK, status, elapsed, str(exc))


@dataclass
class Handoff:
    """A push job's result, for the scan-ecr job chained after it (see push_jobs)."""

    result: Result | None = None

    def keep(self, action: Callable[[], Result]) -> Result:
        self.result = action()
        return self.result


def scan_pushed(unit: Unit, environment: Mapping[str, Any], registry: Registry, handoff: Handoff) -> Result:
    """ECR's scan of the image the push job (run just before, in the same chain) reported."""
    pushed, start = handoff.result, time.monotonic()
    digest = str(pushed.details.get("digest", "")) if pushed is not None and pushed.ok else ""
    if not digest.startswith("sha256:"):
        return Result(unit.name, TASK, SKIPPED, 0.0, "not scanned: the push did not end with an image digest")
    where = f"{unit.path}/{unit.settings['dockerfile']}"
    try:
        report = read_findings(environment, registry, unit.name, digest, where=where)
    except (NotScanned, ScanFailed) as exc:
        return unjudged(unit.name, exc, time.monotonic() - start)
    except ShipyardError as exc:
        reason = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
        return Result(unit.name, TASK, ERROR, time.monotonic() - start, reason)
    from shipyard.scan.base import fail_on

    threshold = fail_on(environment)
    return judged(unit, report, threshold, time.monotonic() - start)
