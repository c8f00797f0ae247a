"""Adding a deploy target is one module and one registry line: a target defined here (state
in a JSON file) is registered with one ``Plugin`` line, and then validation, the configuration
reference, the plan, the transaction and the ledger work with it — nothing else names it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.errors import ConfigError
from shipyard.core.project import Unit, load_project
from shipyard.core.registry import Plugin
from shipyard.core.schema import Field
from shipyard.deploy.target import Change, Progress, Release, Running, TargetContext
from shipyard.deploy.targets import TARGETS
from tests.helpers import make_monorepo


class MemoryTarget:
    """Keeps what "runs" in .shipyard/memory/<env>.json; ``memory-slots`` is its own key."""

    name = "memory"

    def __init__(self, ctx: TargetContext) -> None:
        self.path = ctx.project.root / ".shipyard" / "memory" / f"{ctx.env}.json"
        self.slots = int(ctx.environment["memory-slots"])

    def _state(self) -> dict[str, Any]:
        return json.loads(self.path.read_text()) if self.path.is_file() else {}

    def _save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(state))

    def current(self, unit: Unit) -> Running | None:
        found = self._state().get(unit.name)
        return Running(unit.name, found["revision"], found["artifact"], found["fingerprint"]) if found else None

    def diff(self, unit: Unit, release: Release, settings: Any) -> list[Change]:
        return []

    def deploy(self, unit: Unit, release: Release, settings: Any, progress: Progress) -> Running:
        state = self._state()
        revision = f"{unit.name}-{len(state) + 1}-of-{self.slots}"
        progress.pointed(revision)
        state[unit.name] = {"revision": revision, "artifact": release.artifact, "fingerprint": release.fingerprint}
        self._save(state)
        return Running(unit.name, revision, release.artifact, release.fingerprint)

    def rollback(self, unit: Unit, previous: Running, progress: Progress) -> Running:
        state = self._state()
        state[unit.name] = {"revision": previous.revision, "artifact": previous.artifact, "fingerprint": ""}
        self._save(state)
        return previous

    def undo_first_deploy(self, unit: Unit, progress: Progress) -> None:
        state = self._state()
        state.pop(unit.name, None)
        self._save(state)


LINE = Plugin(  # the one registry line
    "memory",
    "tests.deploy.test_new_target:MemoryTarget",
    {"memory-slots": Field("int", 1, doc="slots of the memory target")},
    frozenset(),
    "keeps releases in a JSON file",
)


@pytest.fixture
def memory_target(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(TARGETS, "_lines", [*TARGETS._lines, LINE])
    monkeypatch.setattr(TARGETS, "_loaded", None)
    yield


def _repo(tmp_path: Path) -> Path:
    build = (
        "import pathlib; pathlib.Path('dist').mkdir(exist_ok=True); pathlib.Path('dist/index.html').write_text('hi')"
    )
    repo = make_monorepo(
        tmp_path / "repo",
        files={"services/site/shipyard.toml": f'kind = "static"\nbuild = ["{sys.executable}", "-c", "{build}"]\n'},
    )
    with (repo / "pyproject.toml").open("a") as f:
        f.write('\n[tool.shipyard.environments.mem]\ntargets = { static = "memory" }\nmemory-slots = 3\n')
    return repo


def test_a_registered_target_deploys_with_no_other_change(tmp_path: Path, memory_target: None) -> None:
    from shipyard.deploy.commands import DeployOptions, deploy, status

    repo = _repo(tmp_path)
    project = load_project(repo)
    lines: list[str] = []
    results = deploy(project, "mem", DeployOptions(services=("site",)), say=lines.append)
    assert [(r.unit, r.status) for r in results] == [("site", "passed")], lines
    rows = status(project, "mem")
    assert [(r["service"], r["release"]) for r in rows] == [("site", 1)]
    state = json.loads((repo / ".shipyard" / "memory" / "mem.json").read_text())
    assert state["site"]["revision"] == "site-1-of-3"  # its own key reached it
    lines.clear()
    assert deploy(project, "mem", DeployOptions(services=("site",)), say=lines.append) == []  # up to date


def test_its_key_is_in_the_reference_and_refused_elsewhere(tmp_path: Path, memory_target: None) -> None:
    from shipyard.core.configdoc import reference

    assert "| `memory-slots` | int | `1` | [memory deploy target] slots of the memory target |" in reference()
    repo = _repo(tmp_path)
    with (repo / "pyproject.toml").open("a") as f:
        f.write("\n[tool.shipyard.environments.other]\nmemory-slots = 2\n")
    with pytest.raises(ConfigError) as info:
        load_project(repo)
    assert info.value.message.startswith(
        "pyproject.toml: tool.shipyard.environments.other.memory-slots: a key of the memory deploy target"
    )


def test_without_its_line_the_name_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_project(_repo(tmp_path))
    assert info.value.message == "pyproject.toml: tool.shipyard.environments.mem.memory-slots: unknown key"
