"""The CI gate: a protected environment deploys only content whose lint and tests passed.

End to end on the real Docker engine and registry: a container service (its own Dockerfile,
a lint and a test command) and a Python lib it uses, deployed with the local target to a
protected environment of the test's own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.targets.test_local import remove_environment
from tests.helpers import git, python_unit, run_invoke, write

PYPROJECT = """\
[tool.shipyard]
services = ["services/*"]
libs = ["libs/*"]
python = ["3.11"]

[tool.shipyard.environments.local]
targets = {{ service = "local" }}
registry = "{registry}/{prefix}"

[tool.shipyard.environments.{env}]
targets = {{ service = "local" }}
registry = "{registry}/{prefix}"
protected = true
deploy-timeout = 60
"""


@pytest.fixture
def gated_repo(tmp_path: Path, docker_engine: None, registry: str) -> Iterator[tuple[Path, str]]:
    from tests.images.example import delete_registry_repositories, remove_local_images

    tag = uuid.uuid4().hex[:8]
    env, prefix = f"gate{tag}", f"sytest-gate-{tag}"
    repo = tmp_path / "repo"
    write(repo / "pyproject.toml", PYPROJECT.format(registry=registry, prefix=prefix, env=env))
    write(repo / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    write(repo / "noxfile.py", "import nox\n\nfrom shipyard.sessions import register\n\nregister(nox)\n")
    web = repo / "services" / "web"
    write(
        web / "shipyard.toml",
        'kind = "service"\ndepends-on = ["core"]\nlint = ["python", "lint.py"]\ntest = ["python", "check.py"]\n',
    )
    write(web / "Dockerfile", 'FROM python:3.11-slim\nCOPY check.py /check.py\nCMD ["sleep", "infinity"]\n')
    write(web / "lint.py", "print('clean')\n")
    write(web / "check.py", "raise SystemExit(0)\n")
    python_unit(repo, "libs/core", "core", kind="lib")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "T")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    try:
        yield repo, env
    finally:
        remove_environment(env)
        remove_local_images([f"{prefix}/", f"{registry}/{prefix}"])
        delete_registry_repositories(registry, prefix)


def commit(repo: Path, path: str, text: str) -> None:
    write(repo / path, text)
    git(repo, "commit", "-qam", f"change {path}")


def ungated(repo: Path) -> Path:
    """The protected environment with require-ci = false (committed); returns the pyproject."""
    pyproject = repo / "pyproject.toml"
    commit(
        repo,
        "pyproject.toml",
        pyproject.read_text().replace("protected = true", "protected = true\nrequire-ci = false"),
    )
    return pyproject


def history(repo: Path, env: str) -> list[dict[str, object]]:
    done = run_invoke(repo, "history", "--env", env, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return list(json.loads(done.stdout))


@pytest.mark.integration
def test_a_protected_deploy_needs_passing_ci_for_the_same_content(gated_repo: tuple[Path, str]) -> None:
    repo, env = gated_repo
    # never tested: refused before anything is built or deployed, naming every missing pass
    done = run_invoke(repo, "deploy", "--env", env, "--yes")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert f"{env!r} requires passing CI" in out
    for missing in ("web lint", "web test", "core lint", "core test on Python 3.11"):
        assert missing in out
    assert "hint: run `invoke ci` on this commit" in out and "Traceback" not in out
    assert "web push" not in out and "web build" not in out  # old: built and pushed, then refused
    assert history(repo, env) == []

    # a lib whose test fails: ci fails, and the deploy is still refused for that test alone
    commit(repo, "libs/core/tests/test_core.py", "def test_it():\n    assert False\n")
    ci = run_invoke(repo, "ci")
    assert ci.returncode == 1, ci.stdout
    done = run_invoke(repo, "deploy", "--env", env, "--yes")
    assert done.returncode == 1
    assert "core test on Python 3.11" in done.stdout + done.stderr
    assert "web lint" not in done.stdout + done.stderr  # those passed for this very content

    # fixed and green: the same content deploys
    commit(repo, "libs/core/tests/test_core.py", "def test_it():\n    assert True\n")
    assert run_invoke(repo, "ci").returncode == 0
    done = run_invoke(repo, "deploy", "--env", env, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    (entry,) = history(repo, env)
    assert entry["service"] == "web" and entry["outcome"] == "succeeded" and entry["forced"] == ""


@pytest.mark.integration
def test_force_deploys_untested_content_and_the_ledger_says_so(gated_repo: tuple[Path, str]) -> None:
    repo, env = gated_repo
    commit(repo, "services/web/check.py", "raise SystemExit(1)\n")
    assert run_invoke(repo, "ci").returncode == 1
    plan = run_invoke(repo, "deploy", "--env", env, "--plan")
    assert plan.returncode == 0
    assert "without --force the deploy is refused: no passing CI for web test" in plan.stdout
    summary = repo.parent / "summary.md"
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": ""}
    done = run_invoke(repo, "deploy", "--env", env, "--yes", "--force", env=actions)
    assert done.returncode == 0, done.stdout + done.stderr
    text = summary.read_text()  # the step summary: the plan (with what was forced), its waves, the outcome
    assert f"### deploy to {env}" in text and "forced: no passing CI for web test" in text
    assert 'u_web["web<br/>succeeded"]:::passed' in text.split("```mermaid", 1)[1]
    (entry,) = history(repo, env)
    assert entry["outcome"] == "succeeded"
    assert entry["forced"] == "no passing CI for web test"


@pytest.mark.integration
def test_an_environment_may_turn_the_gate_off_or_on(gated_repo: tuple[Path, str]) -> None:
    repo, env = gated_repo
    pyproject = ungated(repo)
    done = run_invoke(repo, "deploy", "--env", env, "--yes", "--plan")
    assert done.returncode == 0 and "refused" not in done.stdout
    # the unprotected `local` environment has no gate, unless it asks for one
    text = pyproject.read_text().replace(
        "[tool.shipyard.environments.local]", "[tool.shipyard.environments.local]\nrequire-ci = true"
    )
    commit(repo, "pyproject.toml", text)
    done = run_invoke(repo, "deploy", "--plan")
    assert "without --force the deploy is refused" in done.stdout


@pytest.mark.integration
def test_a_typed_confirmation_must_name_the_environment(gated_repo: tuple[Path, str]) -> None:
    """What a workflow_dispatch `confirm` input passes: the environment's name, or nothing moves."""
    repo, env = gated_repo
    ungated(repo)
    for typed in ("prod", f"{env}x", " "):
        done = run_invoke(repo, "deploy", "--env", env, "--confirm", typed)
        out = done.stdout + done.stderr
        assert done.returncode == 1, out
        if typed.strip():
            assert f"error: the typed confirmation {typed!r} is not the environment's name {env!r}" in out
        else:  # blank is no confirmation at all: with no terminal, refused as without --yes
            assert f"{env} is protected: a deploy needs confirmation" in out
        assert "Traceback" not in out
    assert history(repo, env) == []
    for command in (("migrate",), ("rollback", "-s", "web")):
        done = run_invoke(repo, *command, "--env", env, "--confirm", "nope")
        assert done.returncode == 1 and "is not the environment's name" in done.stdout + done.stderr
    done = run_invoke(repo, "deploy", "--env", env, "--confirm", env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [e["outcome"] for e in history(repo, env)] == ["succeeded"]


SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"


def scan_gated(repo: Path, env: str) -> None:
    """``env`` requires scans (and not lint/tests, to keep to them); ``lax`` extends it with critical."""
    pyproject = repo / "pyproject.toml"
    gated = "protected = true\nrequire-ci = false\nrequire-scan = true"
    text = pyproject.read_text().replace("protected = true", gated)
    commit(repo, "pyproject.toml", text + '\n[tool.shipyard.environments.lax]\nextends = "' + env + '"\n'
           'scan-fail-on = "critical"\n')  # fmt: skip


def plan_refusal(repo: Path, env: str) -> str:
    done = run_invoke(repo, "deploy", "--env", env, "--plan")
    assert done.returncode == 0, done.stdout + done.stderr
    return "".join(line for line in done.stdout.splitlines() if "without --force the deploy is refused" in line)


@pytest.mark.integration
def test_require_scan_needs_the_scans_passed_at_the_environments_threshold(gated_repo: tuple[Path, str]) -> None:
    repo, env = gated_repo
    scan_gated(repo, env)
    assert run_invoke(repo, "ci").returncode == 0  # ci without --scan records no scan
    done = run_invoke(repo, "deploy", "--env", env, "--yes")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    for absent in ("web scan-hadolint at high", "web scan-detect-secrets at high", "core scan-bandit at high"):
        assert absent in out
    assert "web lint" not in out  # require-ci = false: only the scans
    assert f"hint: run `invoke ci --scan --env {env}` on this commit" in out and "Traceback" not in out

    # a high finding in the lib: a scan at lax's threshold (critical) passes, and satisfies lax only
    write(repo / "libs/core/src/core/run.py", SHELL)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "shell=True")
    scanned = run_invoke(repo, "scan", "--env", "lax")
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    assert plan_refusal(repo, "lax") == ""
    assert plan_refusal(repo, env).endswith("no passing CI for core scan-bandit at high")
    # the same through invoke ci --scan at the environment's own threshold: it fails, still refused
    ci = run_invoke(repo, "ci", "--scan", "--env", env)
    assert ci.returncode == 1 and "core scan-bandit" in ci.stdout
    assert plan_refusal(repo, env).endswith("no passing CI for core scan-bandit at high")

    # --force ships it, recorded
    done = run_invoke(repo, "deploy", "--env", env, "--yes", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    (entry,) = history(repo, env)
    assert entry["forced"] == "no passing CI for core scan-bandit at high"

    # fixed: ci --scan records the pass, and nothing is refused
    commit(repo, "libs/core/src/core/run.py", "def run() -> int:\n    return 0\n")
    ci = run_invoke(repo, "ci", "--scan", "--env", env)
    assert ci.returncode == 0, ci.stdout + ci.stderr
    assert plan_refusal(repo, env) == ""


@pytest.mark.integration
def test_with_ecr_scan_a_deploy_also_needs_ecrs_scan_of_each_image(gated_repo: tuple[Path, str], aws: str) -> None:
    """The registry is ECR (moto answers the lookups): ECR's scan of web's image is required too,
    recorded by a push (tests/images/test_ecr_scan.py shows the push recording it)."""
    repo, env = gated_repo
    pyproject = repo / "pyproject.toml"
    ecr = 'protected = true\nregistry-kind = "ecr"\nregion = "us-east-1"\nrequire-ci = false\nrequire-scan = true\n'
    commit(repo, "pyproject.toml", pyproject.read_text().replace("protected = true\n", ecr + "ecr-scan = true\n"))
    assert run_invoke(repo, "scan", "--env", env).returncode == 0
    refused = plan_refusal(repo, env)
    assert refused.endswith("without --force the deploy is refused: no passing CI for web scan-ecr at high"), refused
    done = run_invoke(repo, "deploy", "--env", env, "--yes")
    out = done.stdout + done.stderr
    assert done.returncode == 1 and "this content has none for: web scan-ecr at high" in out, out
    assert f"hint: run `invoke ci --scan --push --env {env}` on this commit" in out
    # without ecr-scan, the scans of the tree are all it needs
    commit(repo, "pyproject.toml", pyproject.read_text().replace("ecr-scan = true\n", ""))
    assert run_invoke(repo, "scan", "--env", env).returncode == 0
    assert plan_refusal(repo, env) == ""
