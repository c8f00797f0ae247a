"""``invoke fingerprint``: each unit's build fingerprint and the inputs behind it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.core.fingerprint import WorkingTree, working_tree
from shipyard.core.project import Project, Unit
from shipyard.images.settings import build_fingerprint, fingerprint_settings


def describe_fingerprints(project: Project, units: Sequence[Unit]) -> list[dict[str, Any]]:
    """One row per unit: fingerprint, short form, inputs (path or setting -> hash) and setting values."""
    tree = working_tree(project.root)
    rows = []
    for unit in units:
        fp = build_fingerprint(project, unit, tree.files)
        rows.append(
            {
                "unit": unit.name,
                "kind": unit.kind,
                "fingerprint": fp.digest,
                "short": fp.short,
                "inputs": [_input(tree, name, digest) for name, digest in fp.inputs],
                "settings": fingerprint_settings(project, unit),
            }
        )
    return rows


def _input(tree: WorkingTree, name: str, digest: str) -> dict[str, Any]:
    """One input row; a file says whether git tracks it and where a symlink points."""
    row: dict[str, Any] = {"input": name, "hash": digest}
    if name in tree.untracked:
        row["untracked"] = True
    if name in tree.links:
        row["link"] = tree.links[name]
    return row


def _notes(row: dict[str, Any]) -> str:
    notes = (["untracked"] if row.get("untracked") else []) + ([f"-> {row['link']}"] if "link" in row else [])
    return f"  ({', '.join(notes)})" if notes else ""


def render(rows: Sequence[dict[str, Any]]) -> str:
    """Text: a heading per unit, then its inputs and the values of its settings."""
    blocks = []
    for row in rows:
        width = max((len(i["input"]) for i in row["inputs"]), default=0)
        lines = [f"{row['unit']} ({row['kind']})  {row['fingerprint']}"]
        lines += [f"  {i['input'].ljust(width)}  {i['hash']}{_notes(i)}" for i in row["inputs"]]
        lines += [f"  settings:{key} = {value}" for key, value in row["settings"].items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
