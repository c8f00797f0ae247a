"""black: --check, or formats under --fix; [tool.black] from the unit's pyproject.toml."""

from shipyard.checks.base import FORMAT, Check

CHECK = Check(
    name="black",
    dist="black",
    executable="black",
    check=(("--check", "--diff", "--quiet", "{paths}"),),
    fix=(("--quiet", "{paths}"),),
    kind=FORMAT,
    root_sections=("tool.black",),
    detect=("[tool.black]",),
    doc="black --check",
)
