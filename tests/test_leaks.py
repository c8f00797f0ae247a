"""The leak test: with known secret values configured everywhere a secret can come from,
every command that prints settings, plans or reports runs as a user would run it, and no
secret value may appear in its stdout, stderr, or any file it writes.

To cover a new command, add a ``Case`` to ``CASES`` (argv, and optionally a ``prepare``
step that changes the repository first, e.g. to reach an error path).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from shipyard.core.secrets import REDACTED, Sensitive, redact
from tests.deploy import ecs_example
from tests.deploy.ecs_example import ACCOUNT, Cloud, Endpoint
from tests.helpers import git, make_monorepo, python_unit, run_invoke, write

pytestmark = pytest.mark.integration

# the ECS example's fixtures (tests/deploy/ecs_example.py), for the deploy-to-ECS leak test
ecs_aws, ecs_database, ecs_moto = ecs_example.ecs_aws, ecs_example.ecs_database, ecs_example.ecs_moto
ecs_repo, slack_endpoint, smoke_endpoint = ecs_example.ecs_repo, ecs_example.slack_endpoint, ecs_example.smoke_endpoint

# Every value is unique and long enough to be redacted inside other text.
DOTENV_ROOT = "leak-root-dotenv-4f1a9c"
DOTENV_STAGING = "leak-staging-dotenv-8c2e51"
DOTENV_SERVICE = "leak-service-dotenv-19bd07"
DOTENV_SERVICE_STAGING = "leak-service-staging-77aa3f"
ENVIRON_URL_PASSWORD = "leak-environ-pw-5d3c88"
ENVIRON_SALT = "leak-environ-salt-3e9172"
CLI_SET = "leak-cli-set-0c4b6e"
SSM_SECURE = "leak-ssm-secure-6b0f21"
SM_JSON = "leak-sm-json-2a7d90"
SM_PLAIN = "leak-sm-plain-e4c5b3"
WEBHOOK_TOKEN = "leak-webhook-5e1f0a"  # the credential part of a Slack webhook URL
DOTENV_DB_PASSWORD = "leak-dotenv-dbpw-61c2ad"
SSM_DB_PASSWORD = "leak-ssm-dbpw-0d93e7"
DOTENV_TEST = "leak-test-dotenv-a93b2e"  # a test-layer secret (.env.test), given to the tests
SECRETS = (
    DOTENV_ROOT, DOTENV_STAGING, DOTENV_SERVICE, DOTENV_SERVICE_STAGING, ENVIRON_URL_PASSWORD,
    ENVIRON_SALT, CLI_SET, SSM_SECURE, SM_JSON, SM_PLAIN, WEBHOOK_TOKEN, DOTENV_DB_PASSWORD, SSM_DB_PASSWORD,
    DOTENV_TEST,
)  # fmt: skip
WEBHOOK = f"https://hooks.slack.com/services/T0LEAK/B0LEAK/{WEBHOOK_TOKEN}"
ENVIRON_DB_URL = f"postgresql://app:{ENVIRON_URL_PASSWORD}@db:5432/app"
DOTENV_DB_URL = f"postgresql://reporter:{DOTENV_DB_PASSWORD}@db:5432/reports"
SSM_DB_URL = f"postgresql://app:{SSM_DB_PASSWORD}@db:5432/b"
URLS = (WEBHOOK, ENVIRON_DB_URL, DOTENV_DB_URL, SSM_DB_URL)


def _base64(text: str) -> set[str]:
    data = text.encode()
    forms = {base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()}
    return forms | {f.rstrip("=") for f in forms}


def _forbidden() -> tuple[str, ...]:
    """Each secret as written (a password alone: so also inside a URL with another host or
    database), and base64 of each secret, each URL and each URL's ``user:password``."""
    derived: set[str] = set()
    for text in (*SECRETS, *URLS):
        derived |= _base64(text)
    for url in URLS:
        derived |= _base64(url.split("://", 1)[1].split("@", 1)[0])
    return (*SECRETS, *sorted(derived))


FORBIDDEN = _forbidden()

ENVIRONMENTS = """
[tool.shipyard.environments.staging]
region = "us-east-1"
slack-webhook = "SLACK_WEBHOOK_URL"

[tool.shipyard.environments.production]
targets = { service = "ecs" }
region = "us-east-1"
"""

A_TABLE = 'required-env = ["DATABASE_URL", "PAYMENT_KEY"]\nsecret-env = ["DATABASE_URL", "SIGNING_SALT"]'
B_TABLE = 'secret-env = ["DATABASE_URL"]'
# b's test prints its DATABASE_URL and fails: the value reaches the console and the reports.
# a's test prints its SIGNING_SALT and passes (-rP shows it): the value reaches the result cache.
# It also prints the URL's derived forms: the password alone, the same credentials with another
# database name, and base64 (what an HTTP Basic header or a docker auth file would show).
B_TEST = (
    "import base64, os, urllib.parse; url = os.environ.get('DATABASE_URL', ''); "
    "parts = urllib.parse.urlsplit(url); "
    "print('url is', url, 'password is', parts.password, 'other db', url.rsplit('/', 1)[0] + '/other'); "
    "print('b64', base64.b64encode(url.encode()).decode(), base64.urlsafe_b64encode(url.encode()).decode()); "
    "print('basic', base64.b64encode(f'{parts.username}:{parts.password}'.encode()).decode()); "
    "assert False, url"
)
A_TEST = 'import os; print("salt is", os.environ.get("SIGNING_SALT"))'


@dataclass(frozen=True)
class Case:
    """One command: ``argv`` after ``invoke``, an optional ``prepare`` step on the repository,
    the exit code and error line it must reach (so an error path is really taken), and
    whether its output must show [REDACTED] (so the secrets really were loaded)."""

    id: str
    argv: tuple[str, ...]
    prepare: Callable[[Path], None] | None = None
    code: int = 0
    error: str = ""
    redacts: bool = False


def _track_secret_env(root: Path) -> None:
    git(root, "add", "-f", "services/a/.env")


def _break_env_file(root: Path) -> None:
    write(root / ".env.staging", f'LOG_LEVEL=debug\nDB_PASSWORD="{DOTENV_STAGING}\n')


def _test_layer_secret(root: Path) -> None:
    """b's tests get a secret from .env.test (tracked: test-only layers may be), print it and fail."""
    write(root / "services/b/.env.test", f"TEST_TOKEN={DOTENV_TEST}\n")
    write(
        root / "services/b/tests/test_b.py", "import os\n\ndef test_it():\n    assert False, os.environ['TEST_TOKEN']\n"
    )
    git(root, "add", "-f", "services/b/.env.test", "services/b/tests/test_b.py")


CASES = [
    Case("config-test-layer", ("config", "--env", "test"), prepare=_test_layer_secret, redacts=True),
    Case("test-layer-secret", ("test", "-s", "b"), prepare=_test_layer_secret, code=1, redacts=True),
    Case("config", ("config", "--env", "staging"), redacts=True),
    Case("config-json", ("config", "--env", "staging", "--json", "--set", f"EXTRA_TOKEN={CLI_SET}"), redacts=True),
    Case("service-config", ("a.config", "-e", "staging", "--set", f"EXTRA_TOKEN={CLI_SET}"), redacts=True),
    Case("config-local", ("config",), redacts=True),
    Case(
        "config-check-missing",
        ("config", "--check", "--env", "production", "--set", f"X_TOKEN={CLI_SET}"),
        code=1,
        error="error: missing required settings for environment 'production': a: PAYMENT_KEY",
    ),
    Case("config-check-ok", ("config", "--check", "--env", "staging")),
    Case("services-json", ("services", "--json")),
    Case(
        "ci-reports",
        ("ci", "-s", "a", "-s", "b", "--report", "out/report.json", "--report", "out/junit.xml"),
        code=1,  # b's test fails on purpose
        redacts=True,
    ),
    Case("unknown-env", ("config", "--env", "stagin"), code=1, error="error: unknown environment 'stagin'"),
    Case("bare-secret-as-set", ("config", "--set", CLI_SET), code=1, error="error: --set: expected KEY=VALUE"),
    Case(
        "tracked-env-file",
        ("config", "--env", "staging"),
        prepare=_track_secret_env,
        code=1,
        error="error: services/a/.env is tracked by git and holds a value for the secret API_TOKEN",
    ),
    Case(
        "malformed-env-file",
        ("config", "--env", "staging"),
        prepare=_break_env_file,
        code=1,
        error="error: .env.staging: line 2: cannot parse the value of DB_PASSWORD",
    ),
]


@pytest.fixture
def leaky(tmp_path: Path, aws: str) -> Path:
    """A monorepo with a secret in every layer, and secrets in moto's SSM and Secrets Manager."""
    root = make_monorepo(tmp_path / "repo")
    with (root / "pyproject.toml").open("a") as f:
        f.write(ENVIRONMENTS)
    python_unit(root, "services/a", "a", depends_on=["core"], extra_table=A_TABLE, test_body=A_TEST)
    write(root / "services/a/pytest.ini", "[pytest]\naddopts = -rP\n")
    python_unit(root, "services/b", "b", extra_table=B_TABLE, test_body=B_TEST)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "leaky services")
    write(root / ".env", f"SESSION_SECRET={DOTENV_ROOT}\nLOG_LEVEL=info\nREPORTS_URL={DOTENV_DB_URL}\n")
    # the webhook where the docs put it: shipyard's own setting, never a service's
    write(root / ".env.staging", f"DB_PASSWORD={DOTENV_STAGING}\nSLACK_WEBHOOK_URL={WEBHOOK}\n")
    write(root / "services/b/.env.staging", "DATABASE_URL=ssm:/leak/b/database-url\n")
    write(root / "services/a/.env", f"API_TOKEN={DOTENV_SERVICE}\n")
    write(root / "services/a/.env.staging", (
        f"STRIPE_KEY={DOTENV_SERVICE_STAGING}\nPAYMENT_KEY=ssm:/leak/a/payment\n"
        "CREDS=secretsmanager:leak/a/creds#password\nPLAIN=secretsmanager:leak/a/plain\n"
    ))  # fmt: skip
    ssm, sm = boto3.client("ssm"), boto3.client("secretsmanager")
    ssm.put_parameter(Name="/leak/a/payment", Value=SSM_SECURE, Type="SecureString", Overwrite=True)
    ssm.put_parameter(Name="/leak/b/database-url", Value=SSM_DB_URL, Type="SecureString", Overwrite=True)
    for name, value in (("leak/a/creds", json.dumps({"password": SM_JSON})), ("leak/a/plain", SM_PLAIN)):
        try:
            sm.create_secret(Name=name, SecretString=value)
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=name, SecretString=value)
    return root


def _environ() -> dict[str, str]:
    return {
        "DATABASE_URL": ENVIRON_DB_URL,
        "SIGNING_SALT": ENVIRON_SALT,
        "GITHUB_ACTIONS": "",  # ::add-mask:: lines carry values on purpose; test the plain console
        "SHIPYARD_DEBUG": "",
    }


def _files(root: Path) -> dict[Path, float]:
    skip = {".git", ".nox"}
    return {p: p.stat().st_mtime for p in root.rglob("*") if p.is_file() and not skip & set(p.relative_to(root).parts)}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_no_secret_leaks(leaky: Path, case: Case) -> None:
    if case.prepare:
        case.prepare(leaky)
    before = _files(leaky)
    out = run_invoke(leaky, *case.argv, env=_environ(), timeout=300)
    written = [p for p, mtime in _files(leaky).items() if before.get(p) != mtime]
    streams = {"stdout": out.stdout, "stderr": out.stderr}
    streams.update({str(p.relative_to(leaky)): p.read_bytes().decode(errors="replace") for p in written})
    for where, text in streams.items():
        leaked = [s for s in FORBIDDEN if s in text]
        assert not leaked, f"{case.id}: {where} shows {leaked}:\n{text}"
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == case.code, out.stdout + out.stderr
    assert case.error in out.stderr, out.stderr
    if case.redacts:
        assert REDACTED in out.stdout, out.stdout + out.stderr
    if case.id == "ci-reports":
        assert {p.name for p in written} >= {"report.json", "junit.xml"}
        assert any(".shipyard" in p.parts for p in written), "a's passed results were not cached"


def test_resolved_values_are_registered(leaky: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a local deploy resolves from moto is Sensitive and redacted from any later text."""
    from shipyard.core.project import load_project
    from shipyard.settings import load_settings, resolve

    project = load_project(leaky)
    settings = load_settings(project, "staging", project.units["a"], environ=_environ())
    values = resolve(settings, {"region": "us-east-1"})
    assert values["PAYMENT_KEY"] == Sensitive(SSM_SECURE)
    assert values["CREDS"] == Sensitive(SM_JSON)
    plan_line = " ".join(v.reveal() if isinstance(v, Sensitive) else v for v in values.values())
    assert not [s for s in FORBIDDEN if s in redact(plan_line)]


@pytest.fixture
def ecs_leaky(
    ecs_repo: Path,
    ecs_aws: str,
    ecs_database: str,
    smoke_endpoint: Endpoint,
    slack_endpoint: Endpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Path, str]]:
    """The ECS example with the webhook in the root .env.staging and secrets in SSM and
    Secrets Manager referenced from .env and .env.staging; yields (repository, webhook URL)."""
    smoke_endpoint.status = 200
    Cloud("staging", ecs_database).create()
    webhook = f"{slack_endpoint.url}/services/T0LEAK/B0LEAK/{WEBHOOK_TOKEN}"
    monkeypatch.delenv("SLACK_WEBHOOK_URL")  # from .env.staging only, where the docs put it
    staging = ecs_repo / ".env.staging"
    original = staging.read_text()
    # ECS refuses literal secrets (tests/settings/test_refs.py): here .env holds a reference
    write(ecs_repo / ".env", "API_TOKEN=secretsmanager:leak/api-token\nLOG_FORMAT=json\n")
    write(staging, f"{original}SLACK_WEBHOOK_URL={webhook}\nREPORTS_URL=ssm:/leak/reports-url\n")
    boto3.client("ssm").put_parameter(Name="/leak/reports-url", Value=SSM_DB_URL, Type="SecureString")
    boto3.client("secretsmanager").create_secret(Name="leak/api-token", SecretString=SM_PLAIN)
    yield ecs_repo, webhook
    staging.write_text(original)
    (ecs_repo / ".env").unlink()


def _task_definitions() -> dict[str, str]:
    ecs = boto3.client("ecs")
    arns = ecs.list_task_definitions()["taskDefinitionArns"]
    return {arn: json.dumps(ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]) for arn in arns}


def test_no_secret_leaks_to_ecs(ecs_leaky: tuple[Path, str], slack_endpoint: Endpoint) -> None:
    """config, deploy --plan and a real deploy to ECS (moto): the webhook is no service's setting,
    and no secret, derived or base64 form reaches the console or a task definition."""
    root, webhook = ecs_leaky
    forbidden = (*FORBIDDEN, *sorted(_base64(webhook)))
    posts = len(slack_endpoint.posts)
    outputs = {}
    for argv in (("config", "--env", "staging"), ("config", "--env", "staging", "--json")):
        outputs[argv] = run_invoke(root, *argv, env=_environ_for_ecs(), timeout=300)
    outputs[("plan",)] = run_invoke(root, "deploy", "--env", "staging", "--plan", env=_environ_for_ecs(), timeout=600)
    outputs[("deploy",)] = run_invoke(root, "deploy", "--env", "staging", env=_environ_for_ecs(), timeout=900)
    for argv, out in outputs.items():
        assert out.returncode == 0, f"{argv}: {out.stdout}{out.stderr}"
        for where, text in (("stdout", out.stdout), ("stderr", out.stderr)):
            assert not [s for s in forbidden if s in text], f"{argv}: {where}:\n{text}"
    # the environment's own keys come first (its slack-webhook names the setting); no service has the setting
    environment_keys, services = outputs[("config", "--env", "staging")].stdout.split("\n\n", 1)
    assert '"SLACK_WEBHOOK_URL"' in environment_keys and "SLACK_WEBHOOK_URL" not in services
    assert "REPORTS_URL" in outputs[("config", "--env", "staging")].stdout  # the planted settings were loaded
    definitions = _task_definitions()
    assert len(definitions) >= 4  # the placeholders and the deploy's new revisions of api and worker
    for arn, text in definitions.items():
        assert "SLACK_WEBHOOK_URL" not in text, arn
        assert not [s for s in forbidden if s in text], f"{arn}:\n{text}"
    deployed = [json.loads(t)["containerDefinitions"][0] for t in definitions.values() if "secrets" in t]
    assert deployed and all(
        {"name": "REPORTS_URL", "valueFrom": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/leak/reports-url"}
        in c["secrets"]
        for c in deployed
    )
    assert len(slack_endpoint.posts) > posts  # the webhook from .env.staging was used, not printed


def _environ_for_ecs() -> dict[str, str]:
    return {"GITHUB_ACTIONS": "", "SHIPYARD_DEBUG": ""}


def test_plan_blames_the_shell_not_the_env_file(ecs_leaky: tuple[Path, str]) -> None:
    """The issue: with DATABASE_URL exported, `deploy --plan` told the user to fix .env.staging,
    which holds an ssm: reference; the error names the layer the value came from instead."""
    root, _ = ecs_leaky
    environ = {**_environ_for_ecs(), "DATABASE_URL": ENVIRON_DB_URL}
    out = run_invoke(root, "deploy", "--env", "staging", "--plan", env=environ, timeout=600)
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.splitlines() == [
        "error: api: secret DATABASE_URL has a literal value from process environment (overrides .env.staging) "
        "in 'staging'; ECS receives references only",
        "hint: unset DATABASE_URL in the shell (it overrides .env.staging), or export an ssm:/<path> reference instead",
    ]
    assert not [s for s in FORBIDDEN if s in out.stdout + out.stderr]
