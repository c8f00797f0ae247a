"""The generated workflows, run: each job's `run:` steps in order, with its env and the GitHub
files, in a throwaway repository with a container service and a lib (see tests/github/actions_runner.py
for what the stand-in runner does and skips). Deploys go to the local Docker engine through the
local registry; production's lock and ledger are in S3 on moto.

- a push to `develop`: ci.yml runs (matrix, a cell, images, lint with actionlint) and deploy.yml
  deploys staging only;
- a `v1.0.0` tag: ci.yml is not triggered; deploy.yml deploys production only (protected and
  require-ci: its `ci` job's passing records are what lets the deploy through);
- a tag on a commit whose test fails: the deploy job is skipped (it needs the ci job), and its
  deploy step run alone is refused by require-ci;
- a `workflow_dispatch` with the environment's name typed deploys; with a wrong name or nothing
  typed the deploy step fails with invoke's refusal and nothing is deployed;
- migrate.yml dispatched: `check` runs only the --check step; otherwise the typed name is
  checked by `invoke migrate --confirm` (this service has no migrations: the point is the
  step chosen and the refusal).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.test_init import shipyard
from tests.github.actions_runner import Event, evaluate, run_workflow, substitute, triggered
from tests.github.actions_runner import load as load_workflow
from tests.helpers import git, python_unit, run_invoke, write

ZEROS = "0" * 40
PYPROJECT = """\
[tool.shipyard]
services = ["services/*"]
libs = ["libs/*"]
python = ["3.11"]
deploy-on = {{ {staging} = "branch:develop", {production} = "tag:v*" }}

[tool.shipyard.environments.{staging}]
targets = {{ service = "local" }}
registry = "{registry}/{prefix}"
deploy-timeout = 60
require-ci = true

[tool.shipyard.environments.{production}]
extends = "{staging}"
protected = true
region = "us-east-1"
state-bucket = "{bucket}"
"""


def test_the_evaluator_reads_the_generators_expressions() -> None:
    context = {
        "github": {"event_name": "push", "base_ref": "", "event": {"before": "abc"}, "ref_name": "v1.2"},
        "inputs": {"confirm": ""},
        "needs": {"matrix": {"outputs": {"matrix": '{"include": []}'}}},
    }
    since = "github.event_name == 'pull_request' && format('origin/{0}', github.base_ref) || github.event.before"
    assert evaluate(since, context) == "abc"
    assert evaluate(since, {**context, "github": {"event_name": "pull_request", "base_ref": "main"}}) == "origin/main"
    cells = "needs.matrix.outputs.matrix != '' && fromJSON(needs.matrix.outputs.matrix).include[0] != null"
    assert evaluate(cells, context) is False
    confirm = "github.event_name == 'workflow_dispatch' && (inputs.confirm || 'nothing typed') || 'staging'"
    assert evaluate(confirm, context) == "staging"
    dispatch = {**context, "github": {"event_name": "workflow_dispatch"}}
    assert evaluate(confirm, dispatch) == "nothing typed"
    assert evaluate(confirm, {**dispatch, "inputs": {"confirm": "prod"}}) == "prod"
    assert evaluate("startsWith(github.ref_name, 'v') && !inputs.check", context) is True
    assert substitute("a ${{ github.event.before }} b", context) == "a abc b"
    with pytest.raises(ValueError):
        evaluate("contains(github.ref, 'x')", context)


@dataclass(frozen=True)
class Repo:
    root: Path
    staging: str
    production: str

    def workflow(self, name: str) -> Path:
        return self.root / ".github" / "workflows" / name

    def history(self, env: str) -> list[dict[str, object]]:
        done = run_invoke(self.root, "history", "--env", env, "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        return list(json.loads(done.stdout))

    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD").strip()


@pytest.fixture
def team_repo(tmp_path: Path, docker_engine: None, registry: str, aws: str) -> Iterator[Repo]:
    from shipyard import aws as shipyard_aws
    from tests.deploy.targets.test_local import remove_environment
    from tests.images.example import delete_registry_repositories, remove_local_images

    tag = uuid.uuid4().hex[:8]
    staging, production, prefix, bucket = f"stg{tag}", f"prd{tag}", f"sytest-wf-{tag}", f"state-{tag}"
    shipyard_aws.reset()
    shipyard_aws.client("s3", "", "us-east-1").create_bucket(Bucket=bucket)
    repo = tmp_path / "repo"
    text = PYPROJECT.format(staging=staging, production=production, registry=registry, prefix=prefix, bucket=bucket)
    write(repo / "pyproject.toml", text)
    write(repo / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    write(repo / "noxfile.py", "import nox\n\nfrom shipyard.sessions import register\n\nregister(nox)\n")
    write(repo / ".gitignore", ".shipyard/\n.nox/\nreports/\n")
    web = repo / "services" / "web"
    write(web / "shipyard.toml", 'kind = "service"\ndepends-on = ["core"]\nlint = ["python", "lint.py"]\n'
          'test = ["python", "check.py"]\n')  # fmt: skip
    write(web / "Dockerfile", 'FROM python:3.11-slim\nCOPY check.py /check.py\nCMD ["sleep", "infinity"]\n')
    write(web / "lint.py", "print('clean')\n")
    write(web / "check.py", "raise SystemExit(0)\n")
    python_unit(repo, "libs/core", "core", kind="lib")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "T")
    done = shipyard(repo, "init", "--github")
    assert done.returncode == 0, done.stdout + done.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    try:
        yield Repo(repo, staging, production)
    finally:
        for env in (staging, production):
            remove_environment(env)
        remove_local_images([f"{prefix}/", f"{registry}/{prefix}"])
        delete_registry_repositories(registry, prefix)


def results(runs: dict[str, object]) -> dict[str, str]:
    return {name: run.result for name, run in runs.items()}  # type: ignore[attr-defined]


def logs(runs: dict[str, object]) -> str:
    return "\n".join(run.log() for run in runs.values())  # type: ignore[attr-defined]


def deploy(repo: Repo, event: Event) -> dict[str, object]:
    workflow = repo.workflow("deploy.yml")
    assert triggered(load_workflow(workflow), event)
    return run_workflow(workflow, event, repo.root, {})  # type: ignore[return-value]


@pytest.mark.integration
def test_the_generated_workflows_run_for_pushes_tags_and_dispatches(team_repo: Repo) -> None:
    repo = team_repo
    staging, production = f"deploy-{repo.staging}", f"deploy-{repo.production}"
    main = repo.head()
    git(repo.root, "checkout", "-qb", "develop")
    write(repo.root / "services/web/lint.py", "print('still clean')\n")
    git(repo.root, "commit", "-qam", "web: a change")

    # a push to develop: ci.yml (one cell, one image build, lint with actionlint), then staging
    push = Event("push", "refs/heads/develop", repo.head(), before=main)
    assert triggered(load_workflow(repo.workflow("ci.yml")), push)
    ci = run_workflow(repo.workflow("ci.yml"), push, repo.root, {})
    assert results(ci) == {"matrix": "success", "ci": "success", "images": "success", "lint": "success"}, logs(ci)
    assert [cell["service"] for cell in ci["ci"].cells] == ["web"]  # core's cell too, when it changed
    assert [s.status for s in ci["matrix"].steps] == ["skipped (uses:)", "skipped (uses:)", "ran"]
    assert "✓ workflows lint passed" in ci["lint"].log() and "actionlint -no-color" in ci["lint"].log()
    for report in ("ci.json", "junit.xml", "build.json", "lint.json"):  # what upload-artifact uploads
        assert (repo.root / "reports" / report).is_file(), report
    assert "web" in ci["ci"].summary  # the step summary, written through GITHUB_STEP_SUMMARY
    pushed = deploy(repo, push)
    assert results(pushed) == {"ci": "success", staging: "success", production: "skipped"}, logs(pushed)
    assert [e["outcome"] for e in repo.history(repo.staging)] == ["succeeded"]
    assert repo.history(repo.production) == []

    # a v1.0.0 tag: production (protected, require-ci), not staging; ci.yml is not triggered
    git(repo.root, "tag", "v1.0.0")
    tagged = Event("push", "refs/tags/v1.0.0", repo.head(), before=ZEROS)
    assert not triggered(load_workflow(repo.workflow("ci.yml")), tagged)
    released = deploy(repo, tagged)
    assert results(released) == {"ci": "success", staging: "skipped", production: "success"}, logs(released)
    assert [e["outcome"] for e in repo.history(repo.production)] == ["succeeded"]
    assert len(repo.history(repo.staging)) == 1

    # a dispatch to staging of a new commit: the right name typed deploys it
    write(repo.root / "services/web/check.py", "raise SystemExit(0)  # a new release\n")
    git(repo.root, "commit", "-qam", "web: another change")
    inputs = {"environment": repo.staging, "confirm": repo.staging}
    dispatched = deploy(repo, Event("workflow_dispatch", "refs/heads/develop", repo.head(), inputs=inputs))
    assert results(dispatched) == {"ci": "success", staging: "success", production: "skipped"}, logs(dispatched)
    assert [e["outcome"] for e in repo.history(repo.staging)] == ["succeeded", "succeeded"]

    # a wrong name, or nothing typed: invoke refuses in the deploy step, nothing is deployed
    write(repo.root / "services/web/check.py", "raise SystemExit(0)  # not deployed\n")
    git(repo.root, "commit", "-qam", "web: a change nobody confirmed")
    for typed, shown in ((repo.production, repo.production), ("", "nothing typed")):
        inputs = {"environment": repo.staging, "confirm": typed}
        refused = deploy(repo, Event("workflow_dispatch", "refs/heads/develop", repo.head(), inputs=inputs))
        assert results(refused) == {"ci": "success", staging: "failure", production: "skipped"}, logs(refused)
        last = refused[staging].steps[-1]
        assert last.status == "failed"
        assert f"error: the typed confirmation {shown!r} is not the environment's name {repo.staging!r}" in last.output
        assert "Traceback" not in last.output
    assert len(repo.history(repo.staging)) == 2 and len(repo.history(repo.production)) == 1

    # a tag on a commit whose tests fail: the deploy job needs a green ci job, and is skipped
    write(repo.root / "services/web/check.py", "raise SystemExit(1)\n")
    git(repo.root, "commit", "-qam", "web: broken")
    git(repo.root, "tag", "v1.0.1")
    broken = deploy(repo, Event("push", "refs/tags/v1.0.1", repo.head(), before=ZEROS))
    assert results(broken) == {"ci": "failure", staging: "skipped", production: "skipped"}, logs(broken)
    assert "✗ web test failed" in broken["ci"].log()
    assert len(repo.history(repo.production)) == 1
    # and the deploy step itself, run without the ci job: require-ci finds no passing record
    alone = run_workflow(repo.workflow("deploy.yml"), Event("push", "refs/tags/v1.0.1", repo.head(), before=ZEROS),
                         repo.root, {}, only=(production,))  # fmt: skip
    assert results(alone) == {production: "failure"}
    assert f"error: {repo.production!r} requires passing CI" in alone[production].steps[-1].output
    assert len(repo.history(repo.production)) == 1


@pytest.mark.integration
def test_since_is_right_on_a_new_branchs_first_push_and_after_a_force_push(team_repo: Repo) -> None:
    """GitHub's `before` is all zeros on a branch's first push, and after a force-push a commit
    the clone lacks: the matrix job still selects what changed since the merge base."""
    repo = team_repo
    origin = repo.root.parent / "origin.git"
    git(repo.root.parent, "clone", "-q", "--bare", str(repo.root), str(origin))
    git(repo.root, "remote", "add", "origin", str(origin))
    git(repo.root, "fetch", "-q", "origin")
    git(repo.root, "remote", "set-head", "origin", "main")
    git(repo.root, "checkout", "-qb", "develop")
    write(repo.root / "services/web/lint.py", "print('changed on develop')\n")
    git(repo.root, "commit", "-qam", "web: a change")
    for before in (ZEROS, "1234567" * 5 + "12345"):
        push = Event("push", "refs/heads/develop", repo.head(), before=before)
        runs = run_workflow(repo.workflow("ci.yml"), push, repo.root, {}, only=("matrix",))
        assert runs["matrix"].result == "success", runs["matrix"].log()
        assert json.loads(runs["matrix"].outputs["matrix"]) == {"include": [{"service": "web", "python": "3.11"}]}
        assert "merge base" in runs["matrix"].log(), runs["matrix"].log()


@pytest.mark.integration
def test_the_generated_migrate_workflow_checks_and_asks_for_the_name(team_repo: Repo) -> None:
    repo = team_repo
    workflow = repo.workflow("migrate.yml")
    ref, sha = "refs/heads/main", repo.head()
    cases = [
        ({"environment": repo.production, "check": True, "confirm": ""}, "success", ""),
        ({"environment": repo.production, "check": False, "confirm": repo.production}, "success", ""),
        ({"environment": repo.production, "check": False, "confirm": repo.staging}, "failure", repo.staging),
        ({"environment": repo.production, "check": False, "confirm": ""}, "failure", "nothing typed"),
    ]
    for inputs, result, refused in cases:
        event = Event("workflow_dispatch", ref, sha, inputs=inputs)
        assert triggered(load_workflow(workflow), event)
        runs = run_workflow(workflow, event, repo.root, {})
        assert results(runs) == {"migrate": result}, logs(runs)
        ran = [s for s in runs["migrate"].steps if s.status in ("ran", "failed")]
        assert len(ran) == 1 and ("--check" in ran[0].name) == inputs["check"]
        if refused:
            assert f"the typed confirmation {refused!r} is not the environment's name" in ran[0].output
