"""pylint, configured from the unit's [tool.pylint], .pylintrc, pylintrc or setup.cfg.

Like mypy it follows imports: with a ready test venv its site-packages are appended to
pylint's ``sys.path`` (after pylint's own packages, so the venv cannot shadow astroid);
without one, ``import-error`` is disabled rather than failing every third-party import.
"""

from __future__ import annotations

from pathlib import Path

from shipyard.checks.base import Check

# file:line:col: CODE message (symbol), as the annotations read it (pylint's default has "CODE:")
TEMPLATE = "{path}:{line}:{column}: {msg_id} {msg} ({symbol})"


def imports(venv: Path | None) -> tuple[str, ...]:
    sites = sorted(venv.glob("lib/python*/site-packages")) if venv is not None else []
    if not sites:
        return ("--disable=import-error",)
    return ("--init-hook", f"import sys; sys.path.append({str(sites[0])!r})")


CHECK = Check(
    name="pylint",
    dist="pylint",
    executable="pylint",
    check=(("--recursive=y", "--score=n", f"--msg-template={TEMPLATE}", "{imports}", "{paths}"),),
    root_files=(".pylintrc", "pylintrc"),
    root_sections=("tool.pylint",),
    detect=("[tool.pylint", "[pylint"),
    detect_files=(".pylintrc", "pylintrc"),
    imports=imports,
    column_base=0,
    doc="pylint (cannot fix)",
)
