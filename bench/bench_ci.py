"""Benchmark `invoke ci` against a plain sequential loop and Turborepo, in one run.

All three work on the same generated monorepo (bench/gen_monorepo.py) and the same
test venvs (the ones nox created for shipyard's sessions; the loop and Turborepo reach
them through `.venvs/<unit>` links). Scenarios:

  cold         venvs warm, no result cache:  `invoke ci --no-cache`, the loop, `turbo run lint test --force`
  cached       nothing changed since the last run:  `invoke ci`, `turbo run lint test`
  one change   one source file of one service edited before each run (a fresh edit per run)

plus `invoke --list` on the same repo as the start-up reference. Each number is the
median wall time of --reps runs. Results go to docs/performance.md (or --out).

    python bench/bench_ci.py [--services 50] [--reps 9] [--cold-reps 3] [--workdir bench/out]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_monorepo import VENVS, generate

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # invoke, ruff and nox of the Python running this script


def changed_file(services: int) -> str:
    """The file the one-change scenario edits: a module of svc-07 (or the last service)."""
    n = min(7, services)
    return f"services/svc-{n:02d}/src/svc_{n:02d}/util.py"


LOOP = f"""\
set -e
for dir in libs/* services/*; do
  name=$(basename "$dir")
  (cd "$dir" && ruff check -q . && ruff format -q --check . && ../../{VENVS}/"$name"/bin/pytest -q >/dev/null)
done
"""


# Dropped from the environment of every measured command. PYTHONDONTWRITEBYTECODE is set
# in some shells (this workplace's among them): every Python process would then compile
# its sources anew (shipyard's own modules, pytest in uv-made venvs) instead of using
# Python's default bytecode cache, which a developer machine has.
UNSET = ("GITHUB_ACTIONS", "CI", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(TURBO_TELEMETRY_DISABLED="1", DO_NOT_TRACK="1", TURBO_NO_UPDATE_NOTIFIER="1")
    return env


def run(argv: Sequence[str], repo: Path, *, check: bool = True) -> float:
    """Wall time of one run; its output is discarded unless it fails."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=repo, env=environment(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if check and done.returncode != 0:
        raise SystemExit(f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return elapsed


def setup(workdir: Path, services: int) -> Path:
    repo = workdir / "monorepo"
    if repo.exists():
        shutil.rmtree(repo)
    workdir.mkdir(parents=True, exist_ok=True)
    generate(repo, services=services)
    print(f"generated {services} services in {repo}; npm install (turbo)...", flush=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=repo, check=True)
    git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "npm lock file"], cwd=repo, check=True)
    print("warm-up: `invoke ci` creates the nox venvs (slow, once)...", flush=True)
    print(f"  {run([str(BIN / 'invoke'), 'ci'], repo):.1f}s", flush=True)
    link_venvs(repo)
    print("warm-up: turbo and the loop once each...", flush=True)
    run([str(repo / "node_modules/.bin/turbo"), "run", "lint", "test"], repo)
    run(["bash", "-c", LOOP], repo)
    return repo


def link_venvs(repo: Path) -> None:
    """`.venvs/<unit>` -> the venv nox installed for it (recorded in shipyard's stamps)."""
    (repo / VENVS).mkdir(exist_ok=True)
    for stamp in sorted((repo / ".shipyard" / "venvs").glob("*.json")):
        unit = stamp.name.rsplit("-", 1)[0]
        (repo / VENVS / unit).symlink_to(json.loads(stamp.read_text())["venv"])


NONCE = time.time_ns() % 10**9  # edits never repeat content seen by an earlier bench run


def change(repo: Path, n: int) -> None:
    """A real edit (new content every time, lint-clean) to one service's module."""
    services = len(list((repo / "services").iterdir()))
    path = repo / changed_file(services)
    text = path.read_text().split("\n\n\n# bench edit")[0].rstrip("\n")
    path.write_text(f"{text}\n\n\n# bench edit\ndef bench_edit() -> int:\n    return {NONCE + n}\n")


def measure(repo: Path, reps: int, cold_reps: int) -> dict[str, dict[str, list[float]]]:
    invoke, turbo = str(BIN / "invoke"), str(repo / "node_modules/.bin/turbo")
    times: dict[str, dict[str, list[float]]] = {s: {} for s in ("list", "cold", "cached", "one change")}

    def add(scenario: str, tool: str, seconds: float) -> None:
        times[scenario].setdefault(tool, []).append(seconds)
        print(f"  {scenario:10s} {tool:8s} {seconds:7.3f}s", flush=True)

    for _ in range(reps):
        add("list", "shipyard", run([invoke, "--list"], repo))
    cold = {
        "shipyard": [invoke, "ci", "--no-cache"],
        "loop": ["bash", "-c", LOOP],
        "turbo": [turbo, "run", "lint", "test", "--force"],
    }
    for i in range(cold_reps):
        order = list(cold)[i % 3 :] + list(cold)[: i % 3]  # rotate who goes first
        for tool in order:
            add("cold", tool, run(cold[tool], repo))
    run([invoke, "ci"], repo)
    run([turbo, "run", "lint", "test"], repo)
    one = {"shipyard": [invoke, "ci"], "turbo": [turbo, "run", "lint", "test"]}
    for i in range(reps):
        for tool in ("shipyard", "turbo") if i % 2 == 0 else ("turbo", "shipyard"):
            add("cached", tool, run(one[tool], repo))
    # Each tool gets an edit of its own (so neither reuses bytecode or ruff's cache entries
    # made for the other's run), and who goes first alternates.
    for i in range(reps):
        for n, tool in enumerate(("shipyard", "turbo") if i % 2 == 0 else ("turbo", "shipyard")):
            change(repo, 10 * i + n + 1)
            add("one change", tool, run(one[tool], repo))
    return times


def med(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def machine(repo: Path) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    except (OSError, ValueError, IndexError):
        mem = 0
    tools = [
        f"Python {platform.python_version()}",
        _out([str(BIN / "ruff"), "--version"]),
        f"pytest {_out([str(BIN / 'python'), '-c', 'import pytest; print(pytest.__version__)'])}",
        f"turbo {_out([str(repo / 'node_modules/.bin/turbo'), '--version'])}",
        f"node {_out(['node', '--version'])}",
        _out(["git", "--version"]),
    ]
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {mem} GiB RAM, {system}; {', '.join(tools)}"


def _out(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def report(times: dict[str, dict[str, list[float]]], repo: Path, services: int, reps: int, cold_reps: int) -> str:
    m = {s: {t: med(v) for t, v in tools.items()} for s, tools in times.items()}
    listing = m["list"]["shipyard"]
    rows = []
    targets = {
        "cold": ("≤ 0.7 × loop", m["cold"].get("loop"), 0.7),
        "cached": ("≤ 1.3 × `invoke --list`", listing, 1.3),
        "one change": ("≤ 0.8 × Turborepo", m["one change"].get("turbo"), 0.8),
    }
    for scenario in ("cold", "cached", "one change"):
        label, base, factor = targets[scenario]
        ours = m[scenario].get("shipyard")
        ratio = ours / base if ours and base else None
        verdict = "—" if ratio is None else ("met" if ratio <= factor else "**missed**")
        ratio_text = "—" if ratio is None else f"{ratio:.2f}×"
        rows.append(
            f"| {scenario} | {fmt(ours)} | {fmt(m[scenario].get('loop'))} | {fmt(m[scenario].get('turbo'))} "
            f"| {label} | {ratio_text} | {verdict} |"
        )
    table = "\n".join(
        [
            "| scenario | `invoke ci` | sequential loop | Turborepo | target | ratio | |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    raw = "\n".join(
        f"- {s} / {t}: " + ", ".join(f"{v:.3f}" for v in values)
        for s, tools in times.items()
        for t, values in tools.items()
    )
    return TEMPLATE.format(
        services=services,
        units=services + 2,
        reps=reps,
        cold_reps=cold_reps,
        machine=machine(repo),
        listing=fmt(listing),
        table=table,
        raw=raw,
        date=time.strftime("%Y-%m-%d"),
    )


TEMPLATE = """\
## Measured {date} (written by bench/bench_ci.py)

Machine: {machine}.

Repository: bench/gen_monorepo.py, {services} services + 2 libs ({units} units, each with
3 modules and 2 test files, 11 tests per service), one Python version (3.11). Medians of
{reps} runs ({cold_reps} for cold). `invoke --list` on the same repo: {listing}. Every command
runs with Python's default bytecode cache (PYTHONDONTWRITEBYTECODE unset).

{table}

Raw seconds per run:

{raw}

Reproduce: `python bench/bench_ci.py` (about 10 minutes, most of it the one-time venv warm-up).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--cold-reps", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=HERE / "out")
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "performance.md")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing workdir/monorepo (no warm-up)")
    parser.add_argument("--setup-only", action="store_true", help="generate and warm up, measure nothing")
    args = parser.parse_args()
    repo = args.workdir.resolve() / "monorepo"
    if not args.reuse or not repo.exists():
        repo = setup(args.workdir.resolve(), args.services)
    if args.setup_only:
        return
    times = measure(repo, args.reps, args.cold_reps)
    text = report(times, repo, args.services, args.reps, args.cold_reps)
    write_between_markers(args.out, text)
    print(text)


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def write_between_markers(path: Path, text: str) -> None:
    """Replace the generated section of ``path``, keeping the hand-written text around it."""
    block = f"{START}\n{text}{END}"
    old = path.read_text(encoding="utf-8") if path.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in old or END not in old:
        old = f"{old.rstrip()}\n\n{START}\n{END}\n"
    head, rest = old.split(START, 1)
    path.write_text(head + block + rest.split(END, 1)[1], encoding="utf-8")


if __name__ == "__main__":
    main()
