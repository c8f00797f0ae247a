"""A throwaway monorepo with environments and per-service settings tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.core import secrets
from tests.helpers import make_monorepo, python_unit

ENVIRONMENTS = """
[tool.shipyard.environments.staging]
targets = { service = "ecs" }
region = "eu-west-1"
account-id = "123456789012"

[tool.shipyard.environments.production]
targets = { service = "ecs" }
protected = true
promote-from = "staging"
"""

A_TABLE = """\
required-env = ["DATABASE_URL", "API_TOKEN", "REGION_NAME"]
secret-env = ["DATABASE_URL"]
env = { LOG_LEVEL = "info", WORKERS = "2", REGION_NAME = "eu" }
"""


@pytest.fixture
def envrepo(tmp_path: Path) -> Path:
    """services a (required + secret keys, defaults), b; environments local, staging, production."""
    root = make_monorepo(tmp_path / "repo", commit=False)
    with (root / "pyproject.toml").open("a") as f:
        f.write(ENVIRONMENTS)
    python_unit(root, "services/a", "a", depends_on=["core"], extra_table=A_TABLE)
    python_unit(root, "services/b", "b", extra_table='required-env = ["DATABASE_URL"]')
    return root


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    secrets.forget_all()
    yield
    secrets.forget_all()
