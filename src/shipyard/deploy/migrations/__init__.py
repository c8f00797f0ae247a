"""Migration tools, by name: what runs a service's migrations from the image being deployed.

A unit names its tool with ``migration-tool`` (default: the first line, ``alembic``) and the
tool's configuration file inside the image with ``migrations``. A tool is the argv that
runs in the release's container — a local ``docker run`` or a one-off task of the target
(deploy/migrate.py, deploy/migrate_run.py run it either way) — and prints shipyard's status
lines: ``current <rev>``, one ``pending <rev>`` per revision not applied yet, and, when
asked to upgrade, ``now <rev>`` read back from the database afterwards. The generic code
parses those lines and never asks which tool it has.
"""

from __future__ import annotations

from typing import Protocol

from shipyard.core.registry import Plugin, Registry


class MigrationTool(Protocol):
    """One migration tool: its argv inside the image, and what people call its upgrade."""

    @property
    def upgrade_label(self) -> str:
        """The upgrade as the plan, progress lines and errors name it: ``alembic upgrade head``."""

    def status_argv(self, config: str, *, upgrade: bool) -> tuple[str, ...]:
        """Prints the status lines, changing nothing; with ``upgrade``, then upgrades and prints ``now``."""

    def argv(self, config: str, *args: str) -> tuple[str, ...]:
        """The tool's own command line with ``args`` (``alembic -c <config> current``)."""


MIGRATION_TOOLS: Registry[MigrationTool] = Registry(
    "migration tool",
    (
        Plugin(
            "alembic",
            "shipyard.deploy.migrations.alembic:TOOL",
            doc="alembic, through the service's own env.py (`migrations` names its alembic.ini)",
        ),
    ),
)
DEFAULT_TOOL = "alembic"
