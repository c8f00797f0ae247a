"""black: --check, or formats under --fix; [tool.black] from the unit's pyproject.toml."""

from shipyard.checks.base import Check

CHECK = Check(
    name="black",
    dist="black",
    executable="black",
    check=(("--check", "--diff", "--quiet", "{paths}"),),
    fix=(("--quiet", "{paths}"),),
    root_sections=("tool.black",),
    doc="black --check",
)
