"""isort: --check-only, or sorts under --fix; [tool.isort], .isort.cfg, setup.cfg or tox.ini."""

from shipyard.checks.base import FORMAT, Check

CHECK = Check(
    name="isort",
    dist="isort",
    executable="isort",
    check=(("--check-only", "--diff", "{paths}"),),
    fix=(("{paths}",),),
    kind=FORMAT,
    root_files=(".isort.cfg", "setup.cfg", "tox.ini"),
    root_sections=("tool.isort",),
    detect=("[tool.isort]", "[isort]", "[tool:isort]"),
    detect_files=(".isort.cfg",),
    doc="isort --check-only",
)
