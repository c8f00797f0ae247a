"""Task: integration (the compose stack with shipyard's images, and its tests)."""

from __future__ import annotations

from typing import Any

from invoke.tasks import task

from shipyard.cli.console import guarded
from shipyard.tasks.common import exit_for, project, run_options
from shipyard.tasks.core import RUN_HELP

INTEGRATION_HELP = {
    "verbose": "stream the image builds', compose's and the tests' output (by default shown only on failure)",
    "report": RUN_HELP["report"],
    "cache": "use a cached pass (default; --no-cache runs the stack again, still storing a pass)",
}


@task(iterable=["report"], help=INTEGRATION_HELP)
@guarded
def integration(c: Any, verbose: bool = False, report: list[str] | None = None, cache: bool = True) -> None:
    """Integration tests: build the units' images, start the compose stack with them (a compose
    project of its own), wait for health, run [tool.shipyard.integration]'s service or command,
    show the services' logs on failure, and always remove the stack (also on Ctrl-C). A pass is
    cached by the images' fingerprints, the compose files and the tests."""
    from shipyard.integration.run import integration as run_integration
    from shipyard.run.proc import sigterm_as_interrupt

    with sigterm_as_interrupt():  # a cancelled CI job removes the stack too
        results = run_integration(project(), run_options(verbose=verbose, report=report, cache=cache))
    exit_for(results)


TOP_LEVEL = [integration]
PER_SERVICE: list[Any] = []
