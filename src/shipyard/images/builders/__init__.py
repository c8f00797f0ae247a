"""Image builders, by name: what turns a unit's build context into a local, fingerprint-tagged image.

``[tool.shipyard.image] builder`` names one (default: ``docker``). The generic code
(images/build.py: skip what is built, pick the mode, name the failure) asks a builder whether
it can build the unit's mode — ``hermetic`` (shipyard's generated context, no network) or
``own-dockerfile`` (the team's Dockerfile and context) — and hands it the build as values
(:class:`shipyard.images.plan.BuildSpec`, or the unit's Dockerfile). A builder's own keys
(``cache-from``/``cache-to`` for docker's BuildKit) are part of the ``[tool.shipyard.image]``
table and its reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from shipyard.core.registry import Plugin, Registry
from shipyard.core.schema import Field

if TYPE_CHECKING:
    from shipyard.core.project import Project, Unit
    from shipyard.images.plan import BuildSpec
    from shipyard.run.proc import Command

HERMETIC = "hermetic"
OWN_DOCKERFILE = "own-dockerfile"
CAPABILITIES = {
    HERMETIC: "builds shipyard's generated context (locked wheels, no network during the build)",
    OWN_DOCKERFILE: "builds a team's own Dockerfile with its own context (dockerfile mode)",
}

DOCKER_FIELDS = {
    "cache-from": Field("str", "", doc="BuildKit registry cache to read"),
    "cache-to": Field("str", "", doc="BuildKit registry cache to write"),
}


class ImageBuilder(Protocol):
    """One builder. ``build``/``build_dockerfile`` return the command; build.py runs it."""

    def check(self) -> None:
        """Raise ShipyardError (with the fix) when it cannot build here now."""

    def local_image(self, ref: str) -> str | None:
        """The id of the local image ``ref``, or None."""

    def tag(self, source: str, target: str) -> None:
        """Give local image ``source`` the name ``target`` (StepFailed when it cannot)."""

    def build(self, spec: BuildSpec) -> Command:
        """The command that builds a hermetic context."""

    def build_dockerfile(
        self, project: Project, unit: Unit, *, tags: tuple[str, ...], labels: tuple[tuple[str, str], ...],
        platform: str, base_image: str, no_cache: bool, source_date_epoch: str,
    ) -> Command:  # fmt: skip
        """The command that builds the unit's own Dockerfile."""


BUILDERS: Registry[ImageBuilder] = Registry(
    "image builder",
    (
        Plugin(
            "docker",
            "shipyard.images.builders.docker:BUILDER",
            DOCKER_FIELDS,
            frozenset({HERMETIC, OWN_DOCKERFILE}),
            "the Docker engine: `docker buildx build --load` when buildx works, else the classic builder",
        ),
    ),
    CAPABILITIES,
)
DEFAULT_BUILDER = "docker"
