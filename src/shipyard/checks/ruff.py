"""ruff check and ruff format, batched over every unit that uses only ruff."""

from shipyard.checks.base import Check

CHECK = Check(
    name="ruff",
    dist="ruff",
    executable="ruff",
    check=(("check", "--output-format=concise", "{paths}"), ("format", "--check", "{paths}")),
    fix=(("check", "--fix", "{paths}"), ("format", "{paths}")),
    root_files=("ruff.toml", ".ruff.toml"),
    root_sections=("tool.ruff",),
    in_unit=False,
    doc="ruff check + ruff format --check",
)
