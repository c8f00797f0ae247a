"""The ``docker`` image builder: BuildKit through buildx when ``docker buildx version`` works,
the classic builder otherwise (images/plan.py builds the command lines)."""

from __future__ import annotations

import functools

from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, Unit
from shipyard.images import dockerfile
from shipyard.images.plan import BuildSpec, build_command, buildx_probe, engine_probe, inspect_command, tag_command
from shipyard.images.wheels import StepFailed
from shipyard.run.proc import Command, run


@functools.lru_cache(maxsize=1)
def buildx_available() -> bool:
    """BuildKit through buildx when ``docker buildx version`` works; the classic builder otherwise."""
    try:
        return run(buildx_probe()).ok
    except ShipyardError:
        return False


class Docker:
    def check(self) -> None:
        done = run(engine_probe())
        if not done.ok:
            reason = done.output.strip().splitlines()[-1] if done.output.strip() else f"exit {done.returncode}"
            raise ShipyardError(
                f"the Docker engine is not reachable: {reason}", hint="start Docker, or set DOCKER_HOST"
            )

    def local_image(self, ref: str) -> str | None:
        done = run(inspect_command(ref))
        return done.output.strip() if done.ok else None

    def tag(self, source: str, target: str) -> None:
        done = run(tag_command(source, target))
        if not done.ok:
            raise StepFailed(f"`docker tag {source} {target}` exited {done.returncode}", done.output)

    def build(self, spec: BuildSpec) -> Command:
        return build_command(spec, buildx=buildx_available())

    def build_dockerfile(
        self, project: Project, unit: Unit, *, tags: tuple[str, ...], labels: tuple[tuple[str, str], ...],
        platform: str, base_image: str, no_cache: bool, source_date_epoch: str,
    ) -> Command:  # fmt: skip
        return dockerfile.build_command(
            project, unit, tags=tags, labels=labels, platform=platform, base_image=base_image, no_cache=no_cache,
            buildx=buildx_available(), source_date_epoch=source_date_epoch,
        )  # fmt: skip


BUILDER = Docker()
