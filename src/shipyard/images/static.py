"""Static units (kind = "static") have no image: their build is their own build command.

The output directory (``output``, default dist/) is the artifact the static deploy target
uploads. A stamp under .shipyard/static/ remembers the fingerprint of the last successful
build, so an unchanged unit with its output in place is not rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shipyard.errors import ShipyardError
from shipyard.fingerprint import Fingerprint
from shipyard.images.wheels import StepFailed
from shipyard.proc import Command, command, run
from shipyard.project import Project, Unit


@dataclass(frozen=True)
class StaticBuild:
    """A static unit's build: the command, where its output goes, and its stamp file."""

    unit: str
    command: Command
    output: Path
    stamp: Path


def static_build(project: Project, unit: Unit) -> StaticBuild:
    if not unit.settings["build"]:
        raise ShipyardError(f"{unit.name}: a static unit needs a build command", hint=f"set `build` in {unit.source}")
    folder = project.root / unit.path
    return StaticBuild(
        unit.name,
        command(*unit.settings["build"], cwd=folder),
        folder / unit.settings["output"],
        project.root / ".shipyard" / "static" / f"{unit.name}.fingerprint",
    )


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
