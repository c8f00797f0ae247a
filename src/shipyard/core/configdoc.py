"""The configuration reference, generated from the schema so the docs cannot drift.

``python -m shipyard.core.configdoc`` prints it; docs/configuration.md holds a copy that a
test compares against this output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from shipyard.core.config import (
    CACHE_FIELDS,
    HOOK_FIELDS,
    IMAGE_FIELDS,
    INTEGRATION_FIELDS,
    ROOT_FIELDS,
    STRATEGY_FIELDS,
    UNIT_FIELDS,
)
from shipyard.core.environments import environment_fields
from shipyard.core.schema import Field

BEGIN, END = "<!-- reference:begin -->", "<!-- reference:end -->"


def sections() -> tuple[tuple[str, Mapping[str, Field]], ...]:
    """Each table's title and keys; an environment's include every target's and notifier's own
    keys (from their registries), each marked with the plugin it belongs to."""
    return (
        ("Root: `[tool.shipyard]` in the root pyproject.toml", ROOT_FIELDS),
        ("`[tool.shipyard.cache]`", CACHE_FIELDS),
        ("`[tool.shipyard.image]`", IMAGE_FIELDS),
        ("`[tool.shipyard.integration]`", INTEGRATION_FIELDS),
        ("`[tool.shipyard.environments.<name>]`", environment_fields()),
        ("`[tool.shipyard.environments.<name>.services.<service>]`", STRATEGY_FIELDS),
        ("`lifecycle-hooks.<hook>`, wherever the strategy keys are set", HOOK_FIELDS),
        ("Units: `[tool.shipyard]` in a unit's pyproject.toml, or its shipyard.toml", UNIT_FIELDS),
    )


def _default(spec: Field) -> str:
    if spec.fields is not None or spec.each is not None:
        return "see below" if spec.fields is not None else "—"
    if spec.default is None:
        return "unset"  # inherited: see the key's own docs
    return f"`{json.dumps(spec.default)}`"


def _table(fields: Mapping[str, Field]) -> list[str]:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, spec in fields.items():
        shown = [*(c for c in spec.choices if c), *(f"{p}…" for p in spec.prefixes)]
        kind = spec.type + (f" ({' / '.join(shown)})" if shown else "")
        scope = spec.scope()
        doc = f"{spec.doc} ({scope} only)" if scope and spec.doc else spec.doc or (f"{scope} only" if scope else "")
        rows.append(f"| `{key}` | {kind} | {_default(spec)} | {doc} |")
    return rows


def reference() -> str:
    lines = [BEGIN]
    for title, fields in sections():
        lines += ["", f"### {title}", "", *_table(fields)]
    return "\n".join([*lines, "", END])


if __name__ == "__main__":
    print(reference())
