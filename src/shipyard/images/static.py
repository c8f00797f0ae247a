"""Static units (kind = "static") have no image: their build is their own build command.

The output directory (``output``, default dist/) is the artifact the static deploy target
uploads. A stamp under .shipyard/static/ remembers the fingerprint of the last successful
build, so an unchanged unit with its output in place is not rebuilt.

``build-env = ["VITE_API_URL"]`` names settings a framework bakes in at build time: their
values in the environment are passed to the build command's environment and are part of
the build's fingerprint (``build_digest``), so each environment builds its own output. The
source fingerprint (the unit's files, what the ledger records and promotion compares) does
not hold them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core.errors import ShipyardError
from shipyard.core.fingerprint import Fingerprint
from shipyard.core.project import Project, Unit
from shipyard.images.wheels import StepFailed
from shipyard.run.proc import Command, command, run

if TYPE_CHECKING:
    from shipyard.settings import Settings


@dataclass(frozen=True)
class StaticBuild:
    """A static unit's build: the command, where its output goes, and its stamp file."""

    unit: str
    command: Command
    output: Path
    stamp: Path


def static_build(project: Project, unit: Unit, values: Mapping[str, str] | None = None) -> StaticBuild:
    """The build of ``unit``; ``values``: its ``build-env`` settings, in the command's environment."""
    if not unit.settings["build"]:
        raise ShipyardError(f"{unit.name}: a static unit needs a build command", hint=f"set `build` in {unit.source}")
    folder = project.root / unit.path
    return StaticBuild(
        unit.name,
        command(*unit.settings["build"], cwd=folder, env=values),
        folder / unit.settings["output"],
        project.root / ".shipyard" / "static" / f"{unit.name}.fingerprint",
    )


def build_env(project: Project, env: str, unit: Unit, settings: Settings | None = None) -> dict[str, str]:
    """The values of the unit's ``build-env`` settings in ``env`` (loaded when ``settings`` is None).
    They end up in public files: a secret value is refused, naming the key (nothing is built)."""
    if unit.kind != "static" or not unit.settings.get("build-env"):
        return {}
    if settings is None:
        from shipyard.settings import load_settings

        settings = load_settings(project, env, unit)
    values: dict[str, str] = {}
    for key in unit.settings.get("build-env", []):
        setting = settings.get(key)
        if setting is None:
            continue  # unset: the build sees no such variable (required-env makes it required)
        if setting.secret:
            raise ShipyardError(
                f"{unit.name}: build-env would bake {key}, which is secret in {env!r} ({setting.source}), "
                "into the site's files",
                hint="a static site's files are public: give it a non-secret value, or drop it from build-env",
            )
        values[key] = str(setting.value)
    return values


def build_digest(source: str, values: Mapping[str, str]) -> str:
    """The build's fingerprint: the source fingerprint, and the build-env values when there are any."""
    if not values:
        return source
    return hashlib.sha256(f"{source}\0{json.dumps(dict(values), sort_keys=True)}".encode()).hexdigest()


def up_to_date(plan: StaticBuild, fp: Fingerprint) -> bool:
    """The last successful build had this fingerprint and its output is still there."""
    try:
        return plan.stamp.read_text(encoding="utf-8").strip() == fp.digest and plan.output.is_dir()
    except OSError:
        return False


def build_static(plan: StaticBuild, fp: Fingerprint, *, verbose: bool = False, force: bool = False) -> bool:
    """Run the build unless up to date (or ``force``); returns whether it ran. Raises StepFailed on failure."""
    if not force and up_to_date(plan, fp):
        return False
    plan.stamp.unlink(missing_ok=True)
    done = run(plan.command, stream=verbose)
    if not done.ok:
        raise StepFailed(f"`{plan.command}` exited {done.returncode}", done.output)
    if not plan.output.is_dir():
        raise ShipyardError(
            f"{plan.unit}: the build command succeeded but wrote no {plan.output.name}/",
            hint="set `output` to the folder the build command writes",
        )
    plan.stamp.parent.mkdir(parents=True, exist_ok=True)
    plan.stamp.write_text(fp.digest + "\n", encoding="utf-8")
    return True
