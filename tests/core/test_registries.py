"""Every registry is real: its plugins' keys are in the generated configuration reference, and
validation refuses a key of a plugin the environment does not use, naming the plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shipyard.checks import CHECK_REGISTRY, CHECKS, check_named
from shipyard.checks.base import CAN_FIX, FOLLOWS_IMPORTS
from shipyard.core.configdoc import reference
from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.project import load_project
from shipyard.core.registry import Plugin, Registry
from shipyard.core.schema import Field
from shipyard.dependencies import SOURCES, WORKSPACE
from shipyard.deploy.migrations import MIGRATION_TOOLS
from shipyard.deploy.notify import NOTIFIERS
from shipyard.deploy.stores import SHARED, STATE_STORES, store_name
from shipyard.deploy.targets import TARGETS
from shipyard.images.builders import BUILDERS, HERMETIC, OWN_DOCKERFILE
from shipyard.runners import JUNIT_XML, REPORTS_NO_TESTS, TEST_RUNNERS
from shipyard.scan import SCANNERS
from shipyard.settings.backends import BACKENDS, JSON_KEYS
from tests.helpers import ROOT_PYPROJECT, make_monorepo, python_unit, write

REGISTRIES: tuple[Registry[Any], ...] = (TARGETS, NOTIFIERS)  # whose keys are refused unless selected
# every Registry: each one's plugins load, with declared capabilities and a doc line
ALL_REGISTRIES: tuple[Registry[Any], ...] = (
    *REGISTRIES,
    STATE_STORES,
    CHECK_REGISTRY,
    BACKENDS,
    MIGRATION_TOOLS,
    TEST_RUNNERS,
    BUILDERS,
    SCANNERS,
    SOURCES,
)


def plugin_keys() -> list[tuple[str, str, str]]:
    """(registry kind, plugin, key) for every key a plugin declares."""
    return [(r.kind, p.name, key) for r in REGISTRIES for p in r for key in p.fields]


# -- the shape ----------------------------------------------------------------------------------------


def test_every_registry_in_the_code_is_walked_here() -> None:
    """A new Registry anywhere in the package is one these tests cover (so none is missed)."""
    import importlib
    import pkgutil

    import shipyard

    found = set()
    for module in pkgutil.walk_packages(shipyard.__path__, "shipyard."):
        if module.name.endswith("__main__"):
            continue
        values = vars(importlib.import_module(module.name)).values()
        found |= {id(v) for v in values if isinstance(v, Registry)}
    assert found == {id(r) for r in ALL_REGISTRIES}


def test_the_dependency_sources_are_a_registry_with_the_workspace_capability() -> None:
    assert SOURCES.having(WORKSPACE) == ("uv.lock",)
    assert SOURCES.names() == ("uv.lock", "poetry.lock", "requirements.lock", "requirements.txt")
    with pytest.raises(ConfigError, match=r"did you mean 'poetry\.lock'"):
        SOURCES.get("poetry.lok")


def test_an_unknown_name_is_a_config_error_with_a_did_you_mean() -> None:
    with pytest.raises(ConfigError) as info:
        NOTIFIERS.get("webhok", "pyproject.toml: tool.shipyard.environments.staging.notify")
    assert info.value.message == (
        "pyproject.toml: tool.shipyard.environments.staging.notify: unknown notifier 'webhok' (did you mean 'webhook'?)"
    )
    assert info.value.hint == "notifiers: slack, webhook"


def test_capabilities_are_a_declared_vocabulary() -> None:
    registry: Registry[str] = Registry("thing", [Plugin("a", "x", capabilities=frozenset({"fly"}))], {"swim": "..."})
    with pytest.raises(ValueError, match="undeclared capabilities"):
        registry.names()
    assert TARGETS.having("run-once") == ("ecs",)
    assert set(TARGETS.having("needs-aws")) == {"ecs", "static"}
    with pytest.raises(ValueError, match="no capability"):
        TARGETS.can("ecs", "run_once")  # a typo in generic code fails loudly, never quietly False


def test_a_registry_line_naming_a_module_is_imported_on_first_use_only(tmp_path: Path) -> None:
    registry: Registry[str] = Registry("thing", ["tests.no_such_module"])
    with pytest.raises(ModuleNotFoundError):  # at first use, not when the registry was made
        registry.get("x")


def test_target_implementations_load_and_name_themselves() -> None:
    for plugin in TARGETS:
        assert isinstance(plugin.implementation, str)  # lazily: listing tasks never imports them
        assert plugin.load().name == plugin.name  # type: ignore[attr-defined]


# -- the reference and validation derived from the registries ------------------------------------------


def test_every_plugin_key_is_in_the_configuration_reference() -> None:
    full = reference()
    start = full.index("### `[tool.shipyard.environments.<name>]`")
    text = full[start : full.index("\n### ", start + 1)]  # an environment's table
    missing = [f"{kind} {name}: {key}" for kind, name, key in plugin_keys() if f"| `{key}` |" not in text]
    assert not missing
    for registry in REGISTRIES:
        for plugin in registry:
            for key in plugin.fields:
                assert f"[{plugin.name} {registry.kind}]" in _row(text, key), (plugin.name, key)
    checks_row = _row(full, "checks")
    assert all(name in checks_row for name in CHECKS)  # the check registry gives `checks` its choices
    notify_row = _row(text, "notify")
    assert all(name in notify_row for name in NOTIFIERS.names())


def _row(text: str, key: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| `{key}` |"))


def _example(spec: Field) -> str:
    if spec.choices:
        return f'"{spec.choices[-1]}"'
    return {"str": '"x"', "int": "1", "bool": "true", "str-list": '["x"]', "str-table": "{}", "table": "{}"}[spec.type]


def _repo(tmp_path: Path, environment: str) -> Path:
    root = make_monorepo(tmp_path / "repo", commit=False)
    write(root / "pyproject.toml", ROOT_PYPROJECT + "\n[tool.shipyard.environments.staging]\n" + environment)
    return root


def _other(registry: Registry[Any], name: str) -> str:
    """What an environment selects to use another plugin of ``registry`` than ``name``."""
    if registry is TARGETS:
        assert not TARGETS.get("local").fields  # the local target has no keys of its own
        return 'targets = { service = "local", static = "local" }\n'
    other = next(p.name for p in NOTIFIERS if p.name != name)
    return f'notify = ["{other}"]\n'


@pytest.mark.parametrize(("kind", "name", "key"), plugin_keys())
def test_a_key_of_another_plugin_is_refused_naming_it(tmp_path: Path, kind: str, name: str, key: str) -> None:
    registry = next(r for r in REGISTRIES if r.kind == kind)
    spec = registry.get(name).fields[key]
    root = _repo(tmp_path, _other(registry, name) + f"{key} = {_example(spec)}\n")
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert info.value.message.startswith(
        f"pyproject.toml: tool.shipyard.environments.staging.{key}: a key of the {name} {kind},"
    ), info.value.message


def test_an_ecs_key_in_a_local_environment_is_refused(tmp_path: Path) -> None:
    root = _repo(tmp_path, 'targets = { service = "local", static = "local" }\ncluster = "prod"\n')
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert info.value.message == (
        "pyproject.toml: tool.shipyard.environments.staging.cluster: a key of the ecs deploy target, "
        "which this environment does not use"
    )
    assert info.value.hint == "deploy targets here: local; remove the key or select ecs"


def test_a_key_of_another_plugin_gets_a_did_you_mean(tmp_path: Path) -> None:
    """static-bucket belongs to the static target; here static units run locally: state-bucket was meant."""
    root = _repo(tmp_path, 'targets = { service = "local", static = "local" }\nstatic-bucket = "state"\n')
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert info.value.message == (
        "pyproject.toml: tool.shipyard.environments.staging.static-bucket: a key of the static deploy target, "
        "which this environment does not use (did you mean 'state-bucket'?)"
    )


def test_a_notifier_key_needs_its_notifier_selected(tmp_path: Path) -> None:
    root = _repo(tmp_path, 'notify = ["slack"]\nwebhook-url = "HOOK"\n')
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert "webhook-url: a key of the webhook notifier" in info.value.message
    assert info.value.hint == "notifiers here: slack; remove the key or select webhook"


def test_keys_of_the_plugins_in_use_are_accepted(tmp_path: Path) -> None:
    """slack-webhook alone still turns Slack on (as before notifiers were a registry)."""
    root = _repo(tmp_path, 'targets = { service = "ecs" }\ncluster = "prod"\nslack-webhook = "HOOK"\n')
    staging = load_project(root).environment("staging")
    assert (staging["cluster"], staging["slack-webhook"], staging["notify"]) == ("prod", "HOOK", [])
    from shipyard.deploy.notify import selected

    assert selected(staging) == ["slack"]


# -- every registry: its plugins load, their keys are documented ---------------------------------------


@pytest.mark.parametrize("registry", ALL_REGISTRIES, ids=lambda r: r.kind)
def test_every_plugin_loads_with_declared_capabilities(registry: Registry[Any]) -> None:
    assert len(registry) >= (1 if registry in (MIGRATION_TOOLS, BUILDERS) else 2)
    for plugin in registry:
        assert plugin.capabilities <= set(registry.capabilities), plugin.name
        assert plugin.load() is not None
        assert plugin.doc, f"{registry.kind} {plugin.name}: no doc line"


def test_every_environment_key_of_a_registry_is_in_the_reference() -> None:
    full = reference()
    start = full.index("### `[tool.shipyard.environments.<name>]`")
    text = full[start : full.index("\n### ", start + 1)]
    for registry in (*REGISTRIES, STATE_STORES):
        for plugin in registry:
            for key in plugin.fields:
                assert f"[{' / '.join(registry.owners(key))} {registry.kind}]" in _row(text, key), (plugin.name, key)
    assert "[s3 state store] S3 bucket" in _row(text, "state-bucket")


# -- checks --------------------------------------------------------------------------------------------


def test_check_capabilities_come_from_each_check() -> None:
    assert set(CHECK_REGISTRY.having(CAN_FIX)) == {"ruff", "black", "isort"}
    assert set(CHECK_REGISTRY.having(FOLLOWS_IMPORTS)) == {"mypy", "pylint"}
    assert CHECK_REGISTRY.having("types") == ("mypy",)
    assert set(CHECK_REGISTRY.having("format")) == {"black", "isort"}
    assert list(CHECKS) == list(CHECK_REGISTRY.names())  # CHECKS is a view of the registry, no second list
    for plugin in CHECK_REGISTRY:
        check = CHECKS[plugin.name]
        assert plugin.can(CAN_FIX) == check.can_fix and plugin.can(check.kind)
    with pytest.raises(KeyError):
        CHECKS["flake9"]


def test_an_unknown_check_name_is_a_config_error_with_a_did_you_mean() -> None:
    with pytest.raises(ConfigError) as info:
        check_named("flake9", "services/b/pyproject.toml: tool.shipyard")
    assert info.value.message == (
        "services/b/pyproject.toml: tool.shipyard: checks: unknown check 'flake9' (did you mean 'flake8'?)"
    )
    assert check_named("flake8", "x") is CHECKS["flake8"]
    assert check_named("command:make lint", "x").name == "command:make lint"


# -- state stores ----------------------------------------------------------------------------------------


def test_the_state_store_is_selected_by_its_own_key(tmp_path: Path) -> None:
    from shipyard.deploy.session import open_store
    from shipyard.deploy.store import LocalStore

    root = _repo(tmp_path, 'targets = { service = "local", static = "local" }\n')
    project = load_project(root)
    staging = project.environment("staging")
    assert store_name(staging) == "local" and not STATE_STORES.can("local", SHARED)
    store = open_store(project, "staging", staging)
    assert isinstance(store, LocalStore) and store.root == root / ".shipyard" / "state" / "staging"
    etag = store.put("probe", b"1", if_absent=True)
    assert store.get("probe") is not None and store.get("probe").etag == etag  # type: ignore[union-attr]
    assert store_name({"state-bucket": "b"}) == "s3" and STATE_STORES.can("s3", SHARED)


@pytest.mark.integration
def test_the_s3_state_store_opens_from_the_registry(tmp_path: Path, aws: str) -> None:
    """state-bucket selects the s3 plugin; its factory writes under state-prefix/<env> (moto over HTTP)."""
    import uuid

    from shipyard import aws as shipyard_aws
    from shipyard.deploy.session import open_store
    from shipyard.deploy.store import S3Store

    shipyard_aws.reset()
    bucket = f"state-{uuid.uuid4().hex[:12]}"
    shipyard_aws.client("s3", "", "us-east-1").create_bucket(Bucket=bucket)
    env = f'targets = {{ service = "local", static = "local" }}\nstate-bucket = "{bucket}"\nstate-prefix = "team"\n'
    project = load_project(_repo(tmp_path, env))
    store = open_store(project, "staging", project.environment("staging"))
    assert isinstance(store, S3Store) and store.describe() == f"s3://{bucket}/team/staging"
    store.put("probe", b"1", if_absent=True)
    listed = shipyard_aws.client("s3", "", "us-east-1").list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["team/staging/probe"]


def test_an_aws_environment_needs_a_shared_store(tmp_path: Path) -> None:
    from shipyard.core.errors import ShipyardError
    from shipyard.deploy.session import open_store

    project = load_project(_repo(tmp_path, 'targets = { service = "ecs" }\ncluster = "prod"\n'))
    with pytest.raises(ShipyardError) as info:
        open_store(project, "staging", project.environment("staging"))
    assert "has no state-bucket for its lock and release ledger" in info.value.message


# -- secret backends ----------------------------------------------------------------------------------


def test_a_reference_prefix_is_a_secret_backend_and_asks_its_capabilities() -> None:
    from shipyard.settings.refs import is_reference, parse_reference

    assert [f"{name}:" for name in BACKENDS.names()] == ["ssm:", "secretsmanager:"]
    assert all(is_reference(f"{name}:x") for name in BACKENDS.names()) and not is_reference("vault:x")
    assert BACKENDS.having(JSON_KEYS) == ("secretsmanager",)
    assert parse_reference("secretsmanager:db#password", "K").json_key == "password"
    with pytest.raises(ShipyardError) as info:
        parse_reference("ssm:/db#password", ".env: K")
    assert info.value.message == ".env: K: '#password': JSON keys work with secretsmanager: references only"
    with pytest.raises(ShipyardError) as info:
        parse_reference("ssm:", ".env: K")
    assert info.value.hint == "write ssm:/path/name"


def test_each_backend_names_its_arn_and_how_to_create_a_secret() -> None:
    from shipyard.settings.refs import parse_reference

    ssm = parse_reference("ssm:/stg/db", "K")
    keyed = parse_reference("secretsmanager:stg/db#password", "K")
    assert ssm.arn("eu-west-1", "123456789012") == "arn:aws:ssm:eu-west-1:123456789012:parameter/stg/db"
    assert keyed.arn("cn-north-1", "1") == "arn:aws-cn:secretsmanager:cn-north-1:1:secret:stg/db:password::"
    assert "aws ssm put-parameter" in BACKENDS.load("ssm").create_hint(ssm)
    assert "aws secretsmanager create-secret" in BACKENDS.load("secretsmanager").create_hint(keyed)


# -- migration tools ------------------------------------------------------------------------------------


def test_a_unit_names_its_migration_tool_from_the_registry(tmp_path: Path) -> None:
    """`migration-tool` takes its choices from the registry; the commands come from the tool."""
    from shipyard.deploy.migrate import alembic_argv, migration_for, status_argv

    root = make_monorepo(tmp_path / "repo", commit=False)
    python_unit(root, "services/db", "db", extra_table='migrations = "alembic.ini"\nmigration-tool = "alembic"')
    unit = load_project(root).unit("db")
    m = migration_for(unit, "reg/db@sha256:" + "1" * 64, {}, "staging")
    assert m is not None and m.tool == "alembic" and m.upgrade_label == "alembic upgrade head"
    tool = MIGRATION_TOOLS.load("alembic")
    assert status_argv(m, upgrade=True) == tool.status_argv("/app/alembic.ini", upgrade=True)
    assert status_argv(m)[:2] == ("python", "-c") and status_argv(m, upgrade=True)[-1] == "upgrade"
    assert alembic_argv(m, "current") == ("alembic", "-c", "/app/alembic.ini", "current")
    assert "| `migration-tool` | str (alembic) |" in reference()


def test_an_unknown_migration_tool_is_refused_with_a_did_you_mean(tmp_path: Path) -> None:
    root = make_monorepo(tmp_path / "repo", commit=False)
    python_unit(root, "services/db", "db", extra_table='migrations = "alembic.ini"\nmigration-tool = "alembik"')
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert 'tool.shipyard.migration-tool: expected one of alembic, got "alembik"' in info.value.message
    assert "did you mean 'alembic'" in info.value.message


# -- test runners ---------------------------------------------------------------------------------------


def test_a_test_command_gets_its_runner_and_only_its_capabilities(tmp_path: Path) -> None:
    """pytest (the default command) writes JUnit XML and reports "no tests"; another command does neither."""
    from shipyard.ci.sessions import collected_nothing, junit_path, test_session
    from shipyard.runners import junit_args, no_tests_status, runner_of

    assert (runner_of(["pytest", "-q"]), runner_of([".venv/bin/python", "-m", "pytest"])) == ("pytest", "pytest")
    assert runner_of(["make", "test"]) == "command"
    assert TEST_RUNNERS.having(JUNIT_XML) == TEST_RUNNERS.having(REPORTS_NO_TESTS) == ("pytest",)
    assert junit_args(["make", "test"], tmp_path / "x.xml") == () and no_tests_status(["make", "test"]) is None
    assert junit_args(["pytest", "--junitxml=mine.xml"], tmp_path / "x.xml") == ()
    assert collected_nothing(["pytest"], 5) and not collected_nothing(["make", "test"], 5)
    assert not collected_nothing(["make", "test"], None)
    root = make_monorepo(tmp_path / "repo", commit=False)
    python_unit(root, "services/mk", "mk", extra_table='test = ["make", "test"]')
    project = load_project(root)
    assert test_session(project, project.unit("mk"), "3.12").argv == ("make", "test")
    plain = test_session(project, project.unit("b"), "3.12")
    assert plain.argv == ("pytest", f"--junitxml={junit_path(project, project.unit('b'), '3.12')}")


# -- image builders -------------------------------------------------------------------------------------


def test_an_image_builders_keys_are_in_the_image_table_and_its_reference(tmp_path: Path) -> None:
    from shipyard.images.settings import ImageSettings

    full = reference()
    start = full.index("### `[tool.shipyard.image]`")
    text = full[start : full.index("\n### ", start + 1)]
    for key in BUILDERS.get("docker").fields:
        assert "[docker image builder]" in _row(text, key)
    assert "| `builder` | str (docker) |" in text
    root = make_monorepo(tmp_path / "repo", commit=False)
    write(root / "pyproject.toml", ROOT_PYPROJECT + '\n[tool.shipyard.image]\nbuilder = "docker"\ncache-to = "r/c"\n')
    project = load_project(root)
    settings = ImageSettings.of(project, project.unit("b"))
    assert (settings.builder, settings.cache_to) == ("docker", "r/c")
    write(root / "pyproject.toml", ROOT_PYPROJECT + '\n[tool.shipyard.image]\nbuilder = "dokcer"\n')
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert "did you mean 'docker'" in info.value.message


def test_a_builder_that_cannot_build_a_mode_is_refused_before_building(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generic build asks the builder's capability for the unit's mode."""
    from types import SimpleNamespace

    from shipyard.images import build

    assert set(BUILDERS.having(HERMETIC)) == set(BUILDERS.having(OWN_DOCKERFILE)) == {"docker"}
    hermetic_only: Registry[Any] = Registry(
        "image builder", [Plugin("kaniko", "x:y", capabilities=frozenset({HERMETIC}))], BUILDERS.capabilities
    )
    monkeypatch.setattr(build, "BUILDERS", hermetic_only)
    target = SimpleNamespace(settings=SimpleNamespace(builder="kaniko"), unit=SimpleNamespace(name="api"))
    build._check_can(target, HERMETIC)  # type: ignore[arg-type]
    with pytest.raises(ShipyardError) as info:
        build._check_can(target, OWN_DOCKERFILE)  # type: ignore[arg-type]
    assert info.value.message == "api: the kaniko image builder cannot build own-dockerfile images"
