"""`invoke scan` with the real tools (bandit, detect-secrets, hadolint, pip-audit) in a throwaway
monorepo: clean passes, each seeded issue fails with where it is, thresholds, annotations, SARIF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import git, run_invoke, write

SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"


def commit(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")


def scan(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[tuple[str, str], dict[str, object]], str]:
    report = repo.parent / "scan.json"
    done = run_invoke(repo, "scan", "--report", str(report), *args, env=env)
    rows = {(r["unit"], r["task"]): r for r in json.loads(report.read_text())["results"]} if report.exists() else {}
    return done.returncode, rows, done.stdout + done.stderr


def test_a_clean_repository_passes_every_scanner_that_applies(repo: Path) -> None:
    code, rows, out = scan(repo)
    assert code == 0, out
    assert {task for (unit, task) in rows if unit == "a"} == {"scan-bandit", "scan-detect-secrets"}
    assert all(r["status"] == "passed" for r in rows.values())


def test_a_seeded_issue_fails_with_where_it_is(repo: Path, tmp_path: Path) -> None:
    write(repo / "services" / "a" / "src" / "a" / "run.py", SHELL)
    write(repo / "services" / "b" / "src" / "b" / "keys.py", 'KEY = "AKIAIOSFODNN7EXAMPLE"\n')
    write(repo / "services" / "b" / "Dockerfile", "FROM python:3.11-slim\nWORKDIR app\n")
    commit(repo)
    summary = tmp_path / "summary.md"
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": ""}
    code, rows, out = scan(repo, "--report", str(tmp_path / "scan.sarif"), env=actions)
    assert code == 1
    bandit = rows[("a", "scan-bandit")]
    assert bandit["status"] == "failed" and bandit["reason"] == "1 finding(s) at or above high (and 1 below)"
    assert "services/a/src/a/run.py:5: [bandit B602 high]" in str(bandit["output"])
    assert rows[("b", "scan-detect-secrets")]["status"] == "failed"
    assert "services/b/src/b/keys.py:1: [detect-secrets aws-access-key high]" in str(
        rows[("b", "scan-detect-secrets")]["output"]
    )
    assert "services/b/Dockerfile:2: [hadolint DL3000 high] Use absolute WORKDIR" in str(
        rows[("b", "scan-hadolint")]["output"]
    )
    assert "::error file=services/a/src/a/run.py,line=5::a scan-bandit: [bandit B602 high]" in out
    assert "AKIAIOSFODNN7EXAMPLE" not in out  # a scan names a committed secret, never prints it
    sarif = json.loads((tmp_path / "scan.sarif").read_text())
    rules = {r["ruleId"] for run in sarif["runs"] for r in run["results"]}
    assert {"B602", "B404", "aws-access-key", "DL3000"} <= rules
    low = next(r for run in sarif["runs"] for r in run["results"] if r["ruleId"] == "B404")
    assert low["level"] == "note" and low["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_the_environments_threshold_decides(repo: Path) -> None:
    write(repo / "services" / "a" / "src" / "a" / "run.py", SHELL)
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.shipyard.environments.prod]\nscan-fail-on = "critical"\n')
    commit(repo)
    code, rows, out = scan(repo, "--env", "prod", "-s", "a")
    assert code == 0, out
    assert rows[("a", "scan-bandit")]["reason"] == "2 finding(s) below critical"
    code, _, _ = scan(repo, "-s", "a")  # local: the default threshold, high
    assert code == 1


def test_a_second_scan_of_the_same_content_is_cached(repo: Path) -> None:
    scan(repo)
    code, rows, _ = scan(repo)
    assert code == 0
    assert all(r["cached"] for r in rows.values())


def test_pip_audit_says_when_it_cannot_reach_its_service(repo: Path) -> None:
    write(repo / "services" / "b" / "requirements.lock", "requests==2.19.0\n")
    commit(repo)
    code, rows, out = scan(repo, "-s", "b")
    audit = rows[("b", "scan-pip-audit")]
    if audit["status"] == "skipped":  # no route to the vulnerability service (this machine)
        assert "pip-audit cannot reach its vulnerability service" in str(audit["reason"]) and code == 0
        code, rows, out = scan(repo, "-s", "b", "--strict")
        assert code == 1 and rows[("b", "scan-pip-audit")]["status"] == "failed"
    else:  # it answered: requests 2.19.0 has published vulnerabilities
        assert audit["status"] == "failed" and "[pip-audit" in str(audit["output"]), out


@pytest.mark.parametrize("env", ["nowhere"])
def test_an_unknown_environment_is_one_error(repo: Path, env: str) -> None:
    done = run_invoke(repo, "scan", "--env", env)
    assert done.returncode == 1 and "unknown environment 'nowhere'" in done.stderr and "Traceback" not in done.stderr


def test_the_gate_reads_a_scans_worst_severity_from_its_verdict_not_its_text() -> None:
    """A finding whose line the output parser cannot read (a space in the path or the rule)
    must not turn a `high` finding into a pass at every threshold (old: parsed from the text)."""
    from shipyard.ci import gate
    from shipyard.core.project import Unit
    from shipyard.scan.base import Finding
    from shipyard.scan.run import verdict

    unit = Unit("api", "service", "services/api", "services/api/pyproject.toml", {}, ">=3.11", True)
    found = Finding("bandit", "high", "B602", "shell=True", "services/api/my tool.py", 3)
    passed = verdict(unit, "scan-bandit", [found], "critical")
    assert gate.passed_thresholds(passed) == ["critical"]
    assert gate.passed_thresholds(verdict(unit, "scan-bandit", [], "high")) == ["low", "medium", "high", "critical"]
