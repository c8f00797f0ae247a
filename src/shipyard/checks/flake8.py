"""flake8, configured from the unit's .flake8, setup.cfg or tox.ini (or the root's)."""

from shipyard.checks.base import Check

CHECK = Check(
    name="flake8",
    dist="flake8",
    executable="flake8",
    check=(("{paths}",),),
    root_files=(".flake8", "setup.cfg", "tox.ini"),
    detect=("[flake8]",),
    detect_files=(".flake8",),
    doc="flake8 (cannot fix)",
)
