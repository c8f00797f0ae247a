"""The static target takes a failed first deploy out of service: the pointer goes (moto's S3)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from shipyard.core.project import load_project
from shipyard.deploy.target import Progress, Release, TargetContext
from shipyard.deploy.targets.static import StaticTarget, pointer_key
from tests.helpers import make_monorepo

BUILD = "import pathlib; pathlib.Path('dist').mkdir(exist_ok=True); pathlib.Path('dist/index.html').write_text('hi')"


@pytest.mark.integration
def test_undo_first_deploy_removes_the_pointer(aws: str, tmp_path: Path) -> None:
    import boto3

    bucket = f"site-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    repo = make_monorepo(
        tmp_path / "repo",
        files={"services/site/shipyard.toml": f'kind = "static"\nbuild = ["{sys.executable}", "-c", "{BUILD}"]\n'},
    )
    with (repo / "pyproject.toml").open("a") as f:
        f.write(f'\n[tool.shipyard.environments.prod]\ntargets = {{ static = "static" }}\nstatic-bucket = "{bucket}"\n')
    project = load_project(repo)
    unit = project.unit("site")
    target = StaticTarget(TargetContext(project, "prod", project.environment("prod")), sleep=lambda _s: None)
    lines: list[str] = []
    first = target.deploy(unit, Release("site", "fp1", ""), None, Progress("site", lines.append))  # type: ignore[arg-type]
    assert target.current(unit) is not None

    target.undo_first_deploy(unit, Progress("site", lines.append))
    assert target.current(unit) is None
    assert lines[-1] == f"  site: first deploy taken out of service: removed the pointer {pointer_key('site')}"
    target.undo_first_deploy(unit, Progress("site", lines.append))  # nothing live: nothing to do, no error
    again = target.deploy(unit, Release("site", "fp1", ""), None, Progress("site", lines.append))  # type: ignore[arg-type]
    assert again.revision == first.revision and target.current(unit) is not None
