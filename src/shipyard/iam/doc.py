"""The IAM section of docs/github-actions.md, rendered from the operation table.

``python -m shipyard.iam`` prints it; the docs hold a copy between the markers that
tests/test_docs.py compares against this output.
"""

from __future__ import annotations

from shipyard.iam.table import FEATURES, RESOURCES, TABLE, Operation

BEGIN, END = "<!-- iam:begin -->", "<!-- iam:end -->"


def _row(op: Operation) -> str:
    actions = ", ".join(f"`{a}`" for a in op.actions) or "none needed"
    api = f"{op.service}.{op.name}" if op.service != "docker" else f"{op.name} (docker CLI)"
    where = op.where + (f" — *pending: branch {op.pending}*" if op.pending else "")
    return f"| `{op.feature}` | {api} | {actions} | {RESOURCES[op.resource]} | {where} |"


def reference() -> str:
    """The features, then one row per operation and feature."""
    lines = [BEGIN, "", "| feature | used when |", "|---|---|"]
    lines += [f"| `{name}` | {doc} |" for name, doc in FEATURES.items()]
    lines += ["", "| feature | operation | IAM actions | resource | call site |", "|---|---|---|---|---|"]
    lines += [_row(op) for op in TABLE]
    return "\n".join([*lines, "", END])
