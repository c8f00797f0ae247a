"""Output that speaks GitHub Actions (when GITHUB_ACTIONS=true).

Groups fold each unit's task output, failures become ``::error file=..,line=..::``
annotations, a Markdown table goes to $GITHUB_STEP_SUMMARY, outputs to $GITHUB_OUTPUT,
and secret values are registered with ``::add-mask::`` before anything could print them.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePosixPath

from shipyard.core.secrets import redact
from shipyard.github.commands import active, mask
from shipyard.github.commands import escape_data as _data
from shipyard.run.results import Result, count_line

__all__ = ["active", "mask"]  # re-exported: part of this module's interface

# Failure lines: ruff (concise), flake8, pylint "path:line:col: CODE message", mypy
# "path:line:col: error: message  [code]"; pytest "path.py:12: AssertionError".
_RUFF = re.compile(r"^(?P<file>[^\s:]+\.pyi?):(?P<line>\d+):(?P<col>\d+): (?P<msg>([A-Z]+\d+|error:) .*)$")
_PYTEST = re.compile(r"^(?P<file>[^\s:]+\.py):(?P<line>\d+): (?P<msg>\w*(Error|Exception|Failed)\b.*)$")
_FORMAT = re.compile(r"^Would reformat: (?P<file>\S+)$")
# a scan finding (shipyard.scan.run): "path:line: [scanner rule severity] message"
_SCAN = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+): (?P<msg>\[\S+ \S+ \w+\] .*)$")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotations_for(result: Result, unit_path: str) -> list[str]:
    """``::error`` lines for the file/line failures found in a failed result's output."""
    if result.ok:
        return []
    found: list[str] = []
    shift = 0  # added to the columns of the command whose output this is
    for line in result.output.splitlines():
        if line.startswith("$ "):  # run_job's header of each command's output
            shift = 1 - _column_base(line[2:])
        line = line.strip()
        if m := _RUFF.match(line):  # ruff from the root, or a check from the unit's directory
            col = str(int(m["col"]) + shift)
            found.append(_error(_in_repo(m["file"], unit_path), m["line"], f"{result.unit} lint: {m['msg']}", col))
        elif m := _FORMAT.match(line):
            found.append(_error(m["file"], "1", f"{result.unit} lint: file is not formatted (invoke lint --fix)"))
        elif result.task.startswith("scan-") and (m := _SCAN.match(line)):
            found.append(_error(m["file"], m["line"], f"{result.unit} {result.task}: {m['msg']}"))
        elif m := _PYTEST.match(line):
            found.append(_error(_in_repo(m["file"], unit_path), m["line"], f"{result.unit} {result.label}: {m['msg']}"))
    if not found:
        found.append(f"::error title={_prop(f'{result.unit} {result.label}')}::{_data(result.reason or result.status)}")
    return list(dict.fromkeys(found))


def _column_base(command_line: str) -> int:
    """Where the columns of the check run by ``command_line`` start (GitHub's start at 1)."""
    from shipyard.checks import CHECKS

    words = command_line.split(maxsplit=1)
    executable = PurePosixPath(words[0]).name if words else ""
    return next((c.column_base for c in CHECKS.values() if c.executable == executable), 1)


def _in_repo(file: str, unit_path: str) -> str:
    """A tool's path as the repository sees it (a tool run in the unit's directory prints ./x.py)."""
    if file.startswith(f"{unit_path}/"):
        return file
    return str(PurePosixPath(unit_path) / file.removeprefix("./"))


def _error(file: str, line: str, message: str, col: str = "") -> str:
    where = f"file={_prop(file)},line={line}" + (f",col={col}" if col else "")
    return f"::error {where}::{_data(message)}"


def groups(results: Sequence[Result], unit_paths: Mapping[str, str]) -> Iterator[str]:
    """The log lines: one folded group per unit task, then its annotations."""
    for r in results:
        cached = " (cached)" if r.cached else ""
        yield f"::group::{r.unit} {r.label}: {r.status}{cached}"
        if r.output:
            yield r.output.rstrip("\n")
        yield "::endgroup::"
        yield from annotations_for(r, unit_paths.get(r.unit, ""))


def summary_markdown(results: Sequence[Result], title: str = "shipyard") -> str:
    icons = {"passed": "✅", "failed": "❌", "error": "❌", "skipped": "⏭️"}
    lines = [f"### {title}", "", "| unit | task | status | time | note |", "|---|---|---|---|---|"]
    for r in results:
        status = f"{icons.get(r.status, '')} {r.status}" + (" (cached)" if r.cached else "")
        note = r.reason.replace("|", "\\|")
        lines.append(f"| {r.unit} | {r.label} | {status} | {r.duration:.1f}s | {note} |")
    return "\n".join([*lines, "", count_line(results), ""])


def write_output(name: str, value: str) -> None:
    """Append ``name=value`` to $GITHUB_OUTPUT (multi-line values use a delimiter)."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        if "\n" in value:
            out.write(f"{name}<<SHIPYARD_EOF\n{value}\nSHIPYARD_EOF\n")
        else:
            out.write(f"{name}={value}\n")


def append_summary(markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY (redacted); a no-op when it is not set."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(redact(markdown))


def publish(
    results: Sequence[Result], unit_paths: Mapping[str, str], title: str = "shipyard", diagram: str = ""
) -> None:
    """Everything Actions wants to know about a run; a no-op outside Actions. ``diagram``
    (Mermaid) goes into the step summary under the table."""
    if not active():
        return
    for line in groups(results, unit_paths):
        print(line)
    append_summary(summary_markdown(results, title) + (f"\n{diagram}\n" if diagram else ""))
    failed = sorted({r.unit for r in results if not r.ok})
    write_output("status", "failure" if failed else "success")
    write_output("failed", json.dumps(failed))
    write_output("units", json.dumps(sorted({r.unit for r in results})))
    sys.stdout.flush()
