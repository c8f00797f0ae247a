"""The step summary's diagrams: a run's units by outcome, a deploy's waves."""

from __future__ import annotations

from shipyard.github.mermaid import run_statuses, waves_graph
from shipyard.run.results import Result


def test_a_units_colour_is_its_worst_outcome() -> None:
    results = [
        Result("a", "lint", "passed", cached=True),
        Result("a", "test", "failed", python="3.11"),
        Result("b", "lint", "passed", cached=True),
        Result("c", "lint", "passed", cached=True),
        Result("c", "test", "passed", python="3.11"),
        Result("d", "test", "skipped"),
        Result("e", "image", "error"),
    ]
    assert run_statuses(results) == {"a": "failed", "b": "cached", "c": "passed", "d": "skipped", "e": "failed"}


def test_waves_are_subgraphs_in_order_with_their_outcomes() -> None:
    text = waves_graph([("api", "worker"), ("web",)], {"api": "succeeded", "worker": "failed"})
    assert text.startswith("```mermaid\ngraph LR\n") and text.endswith("\n```")
    assert '  subgraph w1["wave 1"]\n    u_api["api<br/>succeeded"]:::passed\n' in text
    assert 'u_worker["worker<br/>failed"]:::failed' in text
    assert 'u_web["web<br/>planned"]:::cached' in text  # the deploy stopped before it
    assert "  w1 --> w2" in text
