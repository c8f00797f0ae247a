"""The ``shipyard`` console script: shipyard's tasks in any monorepo, no ``tasks.py`` needed.

``shipyard ci`` is ``invoke ci`` with shipyard's namespace; a repository that wants tasks
of its own keeps a root ``tasks.py`` (``from shipyard.tasks import namespace``) and runs
``invoke``. ``shipyard init [--dry-run]`` sets up a repository, ``shipyard init --github``
writes its workflows (see :mod:`shipyard.cli.init`),
and ``shipyard --version`` works anywhere; every other command discovers the monorepo
around the current directory first.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version


def shipyard_version() -> str:
    try:
        return version("shipyard")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        print(f"shipyard {shipyard_version()}")
        return 0
    if args[:1] == ["init"]:  # before discovery: the repository is not set up yet
        return _init(args[1:])
    from invoke.program import Program

    from shipyard.tasks.assemble import namespace_for_cwd

    program = Program(namespace=namespace_for_cwd(), version=shipyard_version(), name="shipyard", binary="shipyard")
    program.run(["shipyard", *args])
    return 0


def _init(args: list[str]) -> int:
    from shipyard.cli.console import print_error
    from shipyard.cli.init import main as init_main
    from shipyard.core.errors import ShipyardError

    try:
        return init_main(args)
    except ShipyardError as exc:
        print_error(exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
