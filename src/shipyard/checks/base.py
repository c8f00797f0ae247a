"""What a check is: a lint, format or type-check tool that a unit is checked with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core.registry import Plugin

if TYPE_CHECKING:
    from shipyard.core.project import Project

LINT, FORMAT, TYPES = "lint", "format", "types"  # what a check looks at (its capability besides fixing)
CAN_FIX, FOLLOWS_IMPORTS = "can-fix", "follows-imports"
# the check registry's capabilities (shipyard.checks.CHECK_REGISTRY), each derived from the Check
CAPABILITIES = {
    CAN_FIX: "`invoke lint --fix` runs its fix invocations (and runs it before the checks that cannot fix)",
    FOLLOWS_IMPORTS: "reads the unit's dependencies: it runs with the unit's ready test venv, which enters its key",
    LINT: "looks at code for mistakes",
    FORMAT: "looks at the code's layout",
    TYPES: "type-checks the code",
}


@dataclass(frozen=True)
class Check:
    """One tool. ``{paths}`` in an invocation stands for the paths it checks, ``{imports}`` for
    how it finds the unit's dependencies (see ``imports``).

    A check runs from the repository root over the unit's path (``in_unit=False``), or, as
    a team runs it by hand, from the unit's directory over ``.``, so that it finds the
    unit's own configuration first (flake8 looks for its config from the working directory).
    """

    name: str
    dist: str  # the distribution a unit pins (and whose version enters the lint key)
    executable: str
    check: tuple[tuple[str, ...], ...]
    fix: tuple[tuple[str, ...], ...] = ()  # empty: the tool cannot fix; `--fix` runs `check`
    kind: str = LINT
    root_files: tuple[str, ...] = ()  # configuration files at the repository root it may read
    root_sections: tuple[str, ...] = ()  # root pyproject.toml sections it may read
    # `shipyard init` finds the tool in a unit by these config headers (in the unit's
    # pyproject.toml and root_files) or by one of these files being there
    detect: tuple[str, ...] = ()
    detect_files: tuple[str, ...] = ()
    in_unit: bool = True
    # the ``{imports}`` arguments given the unit's ready test venv (None: there is none)
    imports: Callable[[Path | None], tuple[str, ...]] | None = None
    # True when the unit's own config names the files to check (then no ``{paths}`` are passed)
    own_paths: Callable[[Path], bool] | None = None
    # the tool's binary where its own wheel knows it is (ruff), tried before PATH
    locate: Callable[[], str] | None = None
    # True when the tool keeps a cache that trusts a file by its size and whole-second mtime
    # (mypy): it is then not started in the second a file it reads was written (see lint.settle)
    coarse_mtime_cache: bool = False
    # arguments that depend on the whole repository, put right after each subcommand (ruff's
    # ``--config src = [...]``); they enter the lint key
    overrides: Callable[[Project], tuple[str, ...]] | None = None
    column_base: int = 1  # the first column in the tool's "file:line:col" (pylint counts from 0)
    doc: str = ""

    @property
    def can_fix(self) -> bool:
        return bool(self.fix)

    def invocations(self, paths: list[str], *, fix: bool, imports: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        chosen = self.fix if fix and self.fix else self.check
        given = {"{paths}": paths, "{imports}": list(imports)}
        return [tuple(a for arg in argv for a in given.get(arg, [arg])) for argv in chosen]

    def detected(self, unit: Path, config_text: str) -> bool:
        """Whether the unit's own files set this tool up (``config_text``: its config files' text)."""
        return any(head in config_text for head in self.detect) or any((unit / f).is_file() for f in self.detect_files)


def plugin(check: Check) -> Plugin[Check]:
    """A check as a registry line: its capabilities are what the Check says it does."""
    capabilities = {check.kind}
    if check.can_fix:
        capabilities.add(CAN_FIX)
    if check.imports is not None:
        capabilities.add(FOLLOWS_IMPORTS)
    return Plugin(check.name, check, capabilities=frozenset(capabilities), doc=check.doc)
