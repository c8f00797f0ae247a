"""Adoption: throwaway monorepos of four shapes, `shipyard init` and then `shipyard ci`, with
no configuration written by hand except the registry that `--push` pushes to.

Each test asserts what init said and wrote (the line counts docs/adopting.md quotes), then
that lint, test and build ran for real on every unit: passed, not skipped or empty.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adoption import shapes

pytestmark = pytest.mark.integration

MAX_CONFIG_LINES = 15  # the bar: fewer than 15 lines of configuration in all


def test_a_go_service_beside_a_python_one_is_built_and_pushed(
    tmp_path: Path, images_prefix: str, registry: str, built_tags: list[str]
) -> None:
    repo = shapes.go_beside_python(tmp_path / "repo")
    out, lines = shapes.init(repo)
    assert "services/api: Python; checks: ruff; tests: pytest" in out
    assert "services/gateway: non-Python service: shipyard.toml written" in out
    assert "image: Dockerfile, built as docker build" in out
    assert lines == {"pyproject.toml": 3, "services/gateway/shipyard.toml": 1, ".gitignore": 2}
    hand = shapes.hand_written(repo, "pyproject.toml", shapes.registry_table(registry, images_prefix))
    assert sum(lines.values()) + hand < MAX_CONFIG_LINES

    done, results = shapes.ci(repo, "--push", "--env", "local")
    built_tags += shapes.tags(results)
    assert done.returncode == 0, done.stdout + done.stderr
    got = shapes.statuses(results)
    assert got.pop(("gateway", "lint")) == "skipped"  # a container-only unit names no lint command
    assert got.pop(("gateway", "test")) == "skipped"
    assert set(got.values()) == {"passed"}, got
    assert {task for unit, task in got if unit == "api"} >= {"lint", "test-3.11", "push"}
    for unit in ("api", "gateway"):
        assert f"{registry}/{images_prefix}/{unit}@sha256:" in results[(unit, "push")]["reason"]
