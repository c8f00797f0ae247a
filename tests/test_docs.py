"""Docs are part of the feature: the generated reference and the README stay true."""

from __future__ import annotations

import re
from pathlib import Path

from shipyard.core.configdoc import BEGIN, END, reference
from tests.helpers import run_invoke

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_reference_matches_the_schema() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    current = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert current == reference(), "regenerate with: python -m shipyard.core.configdoc"


def test_readme_starts_with_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme[readme.index("## Quick start") : readme.index("\n## ", readme.index("## Quick start") + 1)]
    blocks = re.findall(r"```sh\n(.+?)\n```", quick, flags=re.S)
    assert len(blocks) == 2 and all("\n" not in b for b in blocks)
    assert "invoke ci" in blocks[0] and "pytest" in blocks[1]


def test_readme_lists_every_top_level_task() -> None:
    out = run_invoke(ROOT, "--list")
    names = re.findall(r"^  (\S+)", out.stdout, flags=re.M)  # wrapped help lines are indented further
    tasks = {name for name in names if "." not in name}
    readme = (ROOT / "README.md").read_text()
    missing = [t for t in sorted(tasks) if f"`invoke {t}" not in readme]
    assert not missing, f"README's command table lacks: {missing}"


def test_iam_section_matches_the_operation_table() -> None:
    from shipyard.iam.doc import BEGIN as IAM_BEGIN
    from shipyard.iam.doc import END as IAM_END
    from shipyard.iam.doc import reference as iam_reference

    text = (ROOT / "docs" / "github-actions.md").read_text()
    current = text[text.index(IAM_BEGIN) : text.index(IAM_END) + len(IAM_END)]
    assert current == iam_reference(), "regenerate with: python -m shipyard.iam"


def test_architecture_names_every_package_and_each_package_says_what_it_holds() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text[text.index("## The packages") : text.index("\n## ", text.index("## The packages") + 1)]
    src = ROOT / "src" / "shipyard"
    for init in sorted(src.glob("*/__init__.py")):
        package = init.parent.name
        assert f"| `{package}/` |" in table, package
        assert init.read_text().startswith('"""'), f"{package}/__init__.py has no docstring"
        for module in init.parent.glob("*.py"):
            if module.stem not in {"__init__", "__main__"}:
                assert module.stem in table, f"{package}/{module.name} is not named in docs/architecture.md"
    top = sorted(p.stem for p in src.glob("*.py") if p.stem != "__init__")
    assert top == ["aws", "sessions"], "a new top-level module: put it in a package (or name it in the doc)"
