"""Helpers shared by the task modules: the project, the selected units, run options."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shipyard.ci.pipeline import RunOptions
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Project, Unit, find_root, load_project
from shipyard.core.secrets import register_process_secrets
from shipyard.run.results import Result


class _ShownAsInt(type):
    # invoke's --help looks a flag's kind up in {str: "STRING", int: "INT"}: compare equal to
    # int there, so `--jobs=INT` is still shown
    def __eq__(cls, other: object) -> bool:
        return other is int or super().__eq__(other)

    def __hash__(cls) -> int:
        return hash(int)


class Whole(int, metaclass=_ShownAsInt):
    """The kind of a numeric flag (``--jobs``, ``--lock-wait``, ``--to``): a bad value is one
    readable parse error, not the traceback invoke's own ``int()`` cast gives."""

    def __new__(cls, value: object = 0) -> Whole:
        from invoke.exceptions import ParseError

        try:
            number = int(str(value).strip())
        except ValueError:
            number = -1
        if number < 0:
            raise ParseError(
                f"error: {value!r} is not a whole number\n"
                "hint: numeric flags take a count or seconds, e.g. --lock-wait 300, --jobs 4, --to 12"
            )
        return super().__new__(cls, number)


NONE = Whole(0)  # the default of a numeric flag


@functools.cache
def _load(cwd: str) -> Project:
    proj = load_project(find_root(Path(cwd)))
    register_process_secrets(proj)  # so even tasks that never load settings redact them
    return proj


def project() -> Project:
    return _load(str(Path.cwd()))


@functools.cache
def _files(root: Path) -> dict[str, str]:
    from shipyard.core.fingerprint import tracked_files

    return tracked_files(root)


def working_files() -> dict[str, str]:
    """The project's tracked files (path -> blob id), read once per task run: --since and
    the result cache compare against the same snapshot."""
    return _files(project().root)


def bound_service(c: Any) -> str | None:
    """The service a per-service namespace (``invoke api.test``) is bound to."""
    shipyard = c.config.get("shipyard") or {}
    return shipyard.get("service") if hasattr(shipyard, "get") else None


def selected(c: Any, service: Sequence[str] | None, *, libs: bool = True, since: str | None = None) -> list[Unit]:
    """The units named by -s/--service, or the namespace's own service, or all of them;
    with ``since`` only those affected by changes since that git ref (and it says why)."""
    proj = project()
    bound = bound_service(c)
    names = list(service or [])
    if bound:
        if names and names != [bound]:
            raise ShipyardError(f"`{bound}.*` tasks act on {bound} only", hint="drop -s/--service")
        names = [bound]
    units = proj.select(names, libs=libs)
    if since:
        from shipyard.core.affected import affected

        found = affected(proj, since, working_files())
        print(found.describe(), file=sys.stderr, flush=True)
        units = [u for u in units if u.name in found.reasons]
    return units


def run_options(
    jobs: int = 0,
    keep_going: bool = True,
    verbose: bool = False,
    report: Sequence[str] | None = None,
    *,
    cache: bool = True,
    replay: bool = False,
) -> RunOptions:
    return RunOptions(jobs, keep_going, verbose, tuple(Path(p) for p in report or ()), cache=cache, replay=replay)


def exit_for(results: Sequence[Result]) -> None:
    """Exit 1 (after the summary was printed) when any result failed."""
    from invoke.exceptions import Exit

    if any(not r.ok for r in results):
        raise Exit(code=1)
