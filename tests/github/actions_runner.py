"""A small stand-in for the GitHub Actions runner, for the generated workflows' tests.

It decides whether a workflow is triggered by an event (``on.push`` branch and tag globs,
``workflow_dispatch``), then runs its jobs in order: a job whose ``needs`` did not succeed,
or whose ``if`` is false, is skipped; a ``strategy.matrix`` expression is expanded into
its cells. Each ``run:`` step runs in bash (``-e``) with the workflow's, the job's and the
step's ``env``, and GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_ENV as files whose
contents later steps and jobs see (``steps.<id>.outputs``, job ``outputs``, ``needs``).

``uses:`` steps are skipped and recorded as such: checkout (the test's repository is the
checkout), setup-python and the setup action (shipyard is installed in the interpreter that
runs the tests, first on PATH), aws credentials (moto's endpoint and keys are in the
environment), upload-artifact and cache (every job shares the one checkout, so what a job
leaves in ``.shipyard/cache`` is there for the next, as the cache action would restore it).

``${{ }}`` expressions are evaluated by :func:`evaluate`, which knows the part of the
expression language the generator uses: contexts (github, inputs, vars, matrix, needs,
steps, runner), string, number, boolean and null literals, ``==`` ``!=`` ``!`` ``&&``
``||``, parentheses, property and index access, and ``format``, ``startsWith``,
``fromJSON``, ``success``, ``always``. Anything else raises, so a generator change that
uses more fails the test instead of being evaluated wrongly.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!().,\[\]])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
EXPR = re.compile(r"\$\{\{(.*?)\}\}")


def _tokens(text: str) -> list[tuple[str, str]]:
    found, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot read the expression at {text[pos:]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()  # GitHub compares strings ignoring case
    return bool(a == b)


FUNCTIONS = {
    "format": lambda fmt, *args: re.sub(r"\{(\d+)\}", lambda m: text(args[int(m.group(1))]), fmt),
    "startsWith": lambda a, b: text(a).lower().startswith(text(b).lower()),
    "fromJSON": lambda s: json.loads(s),
    "success": lambda: True,
    "always": lambda: True,
}


class _Parser:
    def __init__(self, source: str, context: Mapping[str, Any]) -> None:
        self.tokens, self.pos, self.context = _tokens(source), 0, context

    def peek(self) -> str:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else ""

    def take(self, expected: str = "") -> tuple[str, str]:
        token = self.tokens[self.pos]
        if expected and token[1] != expected:
            raise ValueError(f"expected {expected!r}, got {token[1]!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.either()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.peek()!r}")
        return value

    def either(self) -> Any:
        value = self.both()
        while self.peek() == "||":
            self.take()
            right = self.both()
            value = value if truthy(value) else right
        return value

    def both(self) -> Any:
        value = self.compare()
        while self.peek() == "&&":
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        if self.peek() in ("==", "!="):
            op = self.take()[1]
            same = _equal(value, self.unary())
            return same if op == "==" else not same
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                key: Any = self.take()[1]
            else:
                key = self.either()
                self.take("]")
            value = _get(value, key)
        return value

    def primary(self) -> Any:
        kind, token = self.take()
        if kind == "str":
            return token[1:-1].replace("''", "'")
        if kind == "num":
            return float(token) if "." in token else int(token)
        if token == "(":
            value = self.either()
            self.take(")")
            return value
        if kind != "name":
            raise ValueError(f"unexpected {token!r}")
        if token in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token]
        if self.peek() == "(":
            return self.call(token)
        if token not in self.context:
            raise ValueError(f"unknown context {token!r}")
        return self.context[token]

    def call(self, name: str) -> Any:
        if name not in FUNCTIONS:
            raise ValueError(f"unknown function {name!r}")
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.either())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return FUNCTIONS[name](*args)


def _get(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list) and isinstance(key, int):
        return value[key] if key < len(value) else None
    return None


def evaluate(source: str, context: Mapping[str, Any]) -> Any:
    """The value of one expression (with or without its ``${{ }}``)."""
    match = EXPR.fullmatch(source.strip())
    return _Parser(match.group(1) if match else source, context).parse()


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def substitute(template: str, context: Mapping[str, Any]) -> str:
    """A string with each ``${{ }}`` replaced by its value, as Actions does before the shell runs."""
    return EXPR.sub(lambda m: text(evaluate(m.group(1), context)), template)


# -- the runner ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    name: str  # push, workflow_dispatch
    ref: str  # refs/heads/develop, refs/tags/v1.0.0
    sha: str
    before: str = ""
    inputs: Mapping[str, Any] = field(default_factory=dict)

    def github(self) -> dict[str, Any]:
        kind = "tag" if self.ref.startswith("refs/tags/") else "branch"
        name = self.ref.removeprefix("refs/tags/").removeprefix("refs/heads/")
        return {
            "event_name": self.name, "ref": self.ref, "ref_type": kind, "ref_name": name, "sha": self.sha,
            "base_ref": "", "event": {"before": self.before, "inputs": dict(self.inputs)},
        }  # fmt: skip


@dataclass
class Step:
    name: str
    status: str  # ran, skipped (uses:), skipped (if), failed
    output: str = ""


@dataclass
class JobRun:
    job: str
    result: str  # success, failure, skipped
    outputs: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""

    def log(self) -> str:
        return "\n".join(f"--- {self.job} {s.name}: {s.status}\n{s.output}" for s in self.steps)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def triggered(workflow: Mapping[str, Any], event: Event) -> bool:
    on = workflow["on"]
    if event.name not in on:
        return False
    if event.name != "push":
        return True
    github = event.github()
    patterns = (on["push"] or {}).get("tags" if github["ref_type"] == "tag" else "branches")
    return patterns is not None and any(fnmatch.fnmatchcase(github["ref_name"], p) for p in patterns)


def run_workflow(
    path: Path, event: Event, repo: Path, variables: Mapping[str, str], only: Collection[str] = ()
) -> dict[str, JobRun]:
    """Every job of the workflow for this event (or the ``only`` ones), in order (the generator
    writes a job before the jobs that need it)."""
    workflow = load(path)
    runs: dict[str, JobRun] = {}
    for job_id, job in workflow["jobs"].items():
        if only and job_id not in only:
            continue
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        done = {n: runs.get(n, JobRun(n, "success")) for n in needs}  # a job left out by `only` counts as passed
        context = _context(
            event, variables, job_id, {n: {"outputs": r.outputs, "result": r.result} for n, r in done.items()}
        )
        if any(r.result != "success" for r in done.values()) or (
            "if" in job and not truthy(evaluate(job["if"], context))
        ):
            runs[job_id] = JobRun(job_id, "skipped")
            continue
        runs[job_id] = _run_job(workflow, job_id, job, context, repo)
    return runs


def _context(event: Event, variables: Mapping[str, str], job: str, needs: dict[str, Any]) -> dict[str, Any]:
    return {
        "github": {**event.github(), "job": job}, "inputs": dict(event.inputs), "vars": dict(variables),
        "needs": needs, "steps": {}, "matrix": {}, "runner": {"os": "Linux"},
    }  # fmt: skip


def _run_job(
    workflow: Mapping[str, Any], job_id: str, job: Mapping[str, Any], context: dict[str, Any], repo: Path
) -> JobRun:
    matrix = job.get("strategy", {}).get("matrix")
    cells = [{}] if matrix is None else list(evaluate(matrix, context)["include"])
    run = JobRun(job_id, "success", cells=cells)
    for cell in cells:
        cell_context = {**context, "matrix": cell, "steps": {}}
        if not _run_steps(workflow, job, cell_context, repo, run):
            run.result = "failure"
            break
        for name, value in job.get("outputs", {}).items():
            run.outputs[name] = substitute(value, cell_context)
    return run


def _run_steps(
    workflow: Mapping[str, Any], job: Mapping[str, Any], context: dict[str, Any], repo: Path, run: JobRun
) -> bool:
    files = {
        name: repo.parent / f"{run.job}-{name.lower()}"
        for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV")
    }
    exported: dict[str, str] = {}
    for step in job["steps"]:
        label = step.get("id") or step.get("uses") or step.get("run", "").split("\n")[0]
        if "uses" in step:
            run.steps.append(Step(label, "skipped (uses:)"))
            continue
        if "if" in step and not truthy(evaluate(step["if"], context)):
            run.steps.append(Step(label, "skipped (if)"))
            continue
        for path in files.values():
            path.write_text("")
        env = {**_runner_env(repo, context), **exported, **{k: text(v) for k, v in files.items()}}
        for table in (workflow.get("env", {}), job.get("env", {}), step.get("env", {})):
            env.update({k: substitute(str(v), context) for k, v in table.items()})
        done = subprocess.run(
            ["bash", "-e", "-c", substitute(step["run"], context)],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        run.steps.append(Step(label, "ran" if done.returncode == 0 else "failed", done.stdout + done.stderr))
        run.summary += files["GITHUB_STEP_SUMMARY"].read_text()
        exported.update(_read_outputs(files["GITHUB_ENV"].read_text()))
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": _read_outputs(files["GITHUB_OUTPUT"].read_text())}
        if done.returncode != 0:
            return False
    return True


def _runner_env(repo: Path, context: Mapping[str, Any]) -> dict[str, str]:
    github = context["github"]
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(repo), "GITHUB_SHA": github["sha"],
        "GITHUB_REF": github["ref"], "GITHUB_REF_NAME": github["ref_name"], "GITHUB_EVENT_NAME": github["event_name"],
        "GITHUB_JOB": github["job"], "RUNNER_OS": "Linux",
    }  # fmt: skip


def _read_outputs(content: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, as the runner reads GITHUB_OUTPUT."""
    found: dict[str, str] = {}
    lines = iter(content.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            found[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
    return found
