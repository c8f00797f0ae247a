"""The requires-python fast path answers exactly as ``packaging`` does, or not at all."""

from __future__ import annotations

import itertools

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from shipyard.ci.pythons import simple_contains

OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "~=", "===")
NUMBERS = ("3", "3.10", "3.11", "3.11.2", "3.12.0", "4", "3.9.18", "3.11.0.1")
VERSIONS = [f"3.{minor}.{patch}" for minor in range(8, 15) for patch in (0, 1, 2, 99)] + ["4.0.0", "2.7.18"]


def _clauses() -> list[str]:
    plain = [f"{op}{n}" for op in OPERATORS for n in NUMBERS]
    starred = [f"{op}{n}.*" for op in ("==", "!=", ">=", "~=") for n in NUMBERS]
    spaced = [f" {op} {n} " for op in (">=", "<") for n in ("3.10", "4")]
    return plain + starred + spaced + ["", ">=3.10,", ">=3.1O", "3.11", ">=3.10; python_version"]


def test_the_fast_path_agrees_with_packaging_or_declines() -> None:
    clauses = _clauses()
    specs = clauses + [",".join(pair) for pair in itertools.combinations(clauses[::5], 2)]
    answered = 0
    for spec in specs:
        try:
            reference: SpecifierSet | None = SpecifierSet(spec)
        except InvalidSpecifier:
            reference = None
        for version in VERSIONS:
            fast = simple_contains(spec, version)
            if fast is None:
                continue
            answered += 1
            assert reference is not None, f"{spec!r} is invalid, but the fast path answered"
            assert fast == reference.contains(version), (spec, version)
    assert answered > 2000  # the common shapes are answered without packaging


def test_common_requires_python_shapes_need_no_packaging() -> None:
    for spec in (">=3.10", ">=3.10,<3.14", "~=3.11", "==3.12.*", ">=3.9, !=3.10.*", ""):
        assert simple_contains(spec, "3.11.0") is not None, spec
    assert simple_contains(">=3.10", "3.9.99") is False
    assert simple_contains("===3.11.0", "3.11.0") is None
