"""What a check is: a lint or format tool that a unit is checked with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One tool. ``{paths}`` in an invocation stands for the paths it checks.

    A check runs from the repository root over the unit's path (``in_unit=False``), or, as
    a team runs it by hand, from the unit's directory over ``.``, so that it finds the
    unit's own configuration first (flake8 looks for its config from the working directory).
    """

    name: str
    dist: str  # the distribution whose version enters the lint key
    executable: str
    check: tuple[tuple[str, ...], ...]
    fix: tuple[tuple[str, ...], ...] = ()  # empty: the tool cannot fix; `--fix` runs `check`
    root_files: tuple[str, ...] = ()  # configuration files at the repository root it may read
    root_sections: tuple[str, ...] = ()  # root pyproject.toml sections it may read
    in_unit: bool = True
    doc: str = ""

    @property
    def can_fix(self) -> bool:
        return bool(self.fix)

    def invocations(self, paths: list[str], *, fix: bool) -> list[tuple[str, ...]]:
        chosen = self.fix if fix and self.fix else self.check
        return [tuple(a for arg in argv for a in (paths if arg == "{paths}" else [arg])) for argv in chosen]
