"""Benchmark `invoke ci` against a sequential loop and Turborepo, side by side, in one run.

For each size (--sizes, in services; each repo also has 2 libs), bench/gen_monorepo.py
generates a monorepo, and all contenders work on that repository, the same test venvs
(the ones nox created for shipyard's sessions; the loop and Turborepo reach them through
`.venvs/<unit>` links) and the same edits. Scenarios, each run --runs times:

  cold         venvs warm, no result cache: `invoke ci --no-cache`, the loop, `turbo run lint test --force`
  cached       nothing changed: `invoke ci`, `turbo run lint test`, and `invoke --list` as the reference
  one change   one module of one service edited before each run (a fresh edit per run and contender)
  lib change   one module of lib-0, which every second service depends on, edited the same way
  fresh clone  `git clone` of the repository into a new directory, remote caches warm (filled by the
               warm-up from the original checkout): `invoke ci` with shipyard's S3 result cache on
               moto vs `turbo run lint test` with turborepo-remote-cache (local filesystem storage)

In the local scenarios shipyard's S3 cache is off (SHIPYARD_CACHE_S3_MODE=off) and Turborepo
has no remote cache, so both use their local caches only. Only the command is timed: the
clone, and in Turborepo's clone the copy of node_modules (its `npm ci`), are not.

Raw times go to <workdir>/ci-results.json (merged by size, so sizes may be measured in
separate invocations); the report goes between the markers of docs/performance.md and the
plot (time against units, per scenario and contender) to docs/bench_ci.png.

    python bench/bench_ci.py [--sizes 50 500] [--runs 5] [--cold-max 50] [--lib-max 500]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_monorepo import VENVS, generate

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # invoke, ruff and nox of the Python running this script
CACHE = HERE / "out" / ".cache"  # turborepo-remote-cache is installed here (npm), never in the repo
LIBS = 2
TOKEN = "bench-token"  # the local turborepo-remote-cache's token, not a secret

LOOP = f"""\
set -e
for dir in libs/* services/*; do
  name=$(basename "$dir")
  (cd "$dir" && ruff check -q . && ruff format -q --check . && ../../{VENVS}/"$name"/bin/pytest -q >/dev/null)
done
"""

# Dropped from the environment of every measured command. PYTHONDONTWRITEBYTECODE is set
# in some shells (this workplace's among them): every Python process would then compile
# its sources anew instead of using Python's default bytecode cache, which a developer has.
UNSET = ("GITHUB_ACTIONS", "CI", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "TURBO_API", "TURBO_TOKEN", "TURBO_TEAM")
LOCAL = {"SHIPYARD_CACHE_S3_MODE": "off"}  # the local scenarios: shipyard's S3 cache off


def environment(extra: Mapping[str, str] = LOCAL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(TURBO_TELEMETRY_DISABLED="1", DO_NOT_TRACK="1", TURBO_NO_UPDATE_NOTIFIER="1")
    env.update(extra)
    return env


def run(argv: Sequence[str], cwd: Path, extra: Mapping[str, str] = LOCAL) -> tuple[float, str]:
    """Wall time and output of one run; a failure stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=environment(extra), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return elapsed, done.stdout + done.stderr


# --- the remote caches --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TurboRemoteCache:
    """turborepo-remote-cache (npm) on a free local port, artifacts on the local filesystem.

    With the package's default STORAGE_PATH_USE_TMP_FOLDER=true the artifacts live under
    the system's temporary directory: $TMPDIR/<storage>."""

    def __init__(self, storage: Path) -> None:
        cli = CACHE / "trc" / "node_modules" / ".bin" / "turborepo-remote-cache"
        if not cli.exists():
            (CACHE / "trc").mkdir(parents=True, exist_ok=True)
            (CACHE / "trc" / "package.json").write_text('{"private": true}\n')
            npm = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "turborepo-remote-cache@2"]
            subprocess.run(npm, cwd=CACHE / "trc", check=True)
        self.port = free_port()
        env = dict(os.environ, PORT=str(self.port), STORAGE_PROVIDER="local", TURBO_TOKEN=TOKEN)
        env["STORAGE_PATH"] = str(storage)
        log = (storage.parent / "trc.log").open("a")
        self.proc = subprocess.Popen([str(cli)], env=env, stdout=log, stderr=log, start_new_session=True)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("turborepo-remote-cache did not start")

    @property
    def env(self) -> dict[str, str]:
        api = f"http://127.0.0.1:{self.port}"
        return {**LOCAL, "TURBO_API": api, "TURBO_TOKEN": TOKEN, "TURBO_TEAM": "bench"}

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(10)


def create_bucket(name: str) -> None:
    import boto3  # the moto server of AWS_ENDPOINT_URL

    boto3.client("s3").create_bucket(Bucket=name)


# --- one repository -------------------------------------------------------------------------


@dataclass
class Repo:
    root: Path
    services: int
    remote: TurboRemoteCache
    nonce: int = field(default_factory=lambda: time.time_ns() % 10**9)
    edits: int = 0

    @property
    def units(self) -> int:
        return self.services + LIBS

    @property
    def turbo(self) -> str:
        return str(self.root / "node_modules/.bin/turbo")

    def edit(self, rel: str) -> None:
        """A real edit (new content every time, lint-clean) to one module."""
        self.edits += 1
        path = self.root / rel
        text = path.read_text().split("\n\n\n# bench edit")[0].rstrip("\n")
        path.write_text(f"{text}\n\n\n# bench edit\ndef bench_edit() -> int:\n    return {self.nonce + self.edits}\n")

    def revert(self) -> None:
        subprocess.run(["git", "checkout", "-q", "--", "services", "libs"], cwd=self.root, check=True)


def service_file(services: int) -> str:
    n = min(7, services)
    return f"services/svc-{n:02d}/src/svc_{n:02d}/util.py"


LIB_FILE = "libs/lib-0/src/lib_0/text.py"


def setup(workdir: Path, services: int) -> Path:
    """Generate, npm install, and fill every cache once (S3 and the remote cache included)."""
    repo = workdir / "monorepo"
    if repo.exists():
        shutil.rmtree(repo)
    for stale in ("trc-storage", "clones"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    bucket = f"shipyard-bench-{services}-{time.time_ns() % 10**9}"
    create_bucket(bucket)
    generate(repo, services=services, libs=LIBS, s3_bucket=bucket)
    (workdir / "state.json").write_text(json.dumps({"bucket": bucket, "services": services}) + "\n")
    print(f"generated {services} services in {repo} (S3 cache s3://{bucket}); npm install...", flush=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=repo, check=True)
    git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "npm lock file"], cwd=repo, check=True)
    return repo


def warm_up(repo: Repo, with_loop: bool) -> None:
    print("warm-up: `invoke ci` creates the nox venvs and fills the S3 cache (slow, once)...", flush=True)
    seconds, _ = run([str(BIN / "invoke"), "ci"], repo.root, {"SHIPYARD_CACHE_S3_MODE": "read-write"})
    print(f"  {seconds:.1f}s", flush=True)
    link_venvs(repo.root)
    print("warm-up: turbo once, filling its remote cache...", flush=True)
    print(f"  {run([repo.turbo, 'run', 'lint', 'test'], repo.root, repo.remote.env)[0]:.1f}s", flush=True)
    if with_loop:
        print(f"warm-up: the loop once: {run(['bash', '-c', LOOP], repo.root)[0]:.1f}s", flush=True)


def link_venvs(repo: Path) -> None:
    """`.venvs/<unit>` -> the venv nox installed for it (recorded in shipyard's stamps)."""
    (repo / VENVS).mkdir(exist_ok=True)
    for stamp in sorted((repo / ".shipyard" / "venvs").glob("*.json")):
        unit = stamp.name.rsplit("-", 1)[0]
        link = repo / VENVS / unit
        if not link.is_symlink():
            link.symlink_to(json.loads(stamp.read_text())["venv"])


# --- the scenarios ----------------------------------------------------------------------------

Times = dict[str, dict[str, float]]  # scenario -> contender -> seconds, for one run


def add(times: Times, scenario: str, contender: str, seconds: float) -> None:
    times.setdefault(scenario, {})[contender] = seconds
    print(f"  {scenario:11s} {contender:15s} {seconds:8.3f}s", flush=True)


def cold(repo: Repo, times: Times, i: int) -> None:
    argv = {
        "shipyard": [str(BIN / "invoke"), "ci", "--no-cache"],
        "loop": ["bash", "-c", LOOP],
        "turbo": [repo.turbo, "run", "lint", "test", "--force"],
    }
    order = list(argv)[i % 3 :] + list(argv)[: i % 3]  # rotate who goes first
    for tool in order:
        add(times, "cold", tool, run(argv[tool], repo.root)[0])


def warm_local(repo: Repo) -> None:
    """Both local caches hold the current tree (after a cold run or a revert)."""
    run([str(BIN / "invoke"), "ci"], repo.root)
    run([repo.turbo, "run", "lint", "test"], repo.root)


def ours_then_theirs(repo: Repo, i: int) -> list[tuple[str, list[str]]]:
    pair = [("shipyard", [str(BIN / "invoke"), "ci"]), ("turbo", [repo.turbo, "run", "lint", "test"])]
    return pair if i % 2 == 0 else pair[::-1]  # who goes first alternates


def cached(repo: Repo, times: Times, i: int) -> None:
    add(times, "cached", "invoke --list", run([str(BIN / "invoke"), "--list"], repo.root)[0])
    for tool, argv in ours_then_theirs(repo, i):
        seconds, out = run(argv, repo.root)
        if tool == "turbo" and "FULL TURBO" not in out:
            print("  warning: turbo's all-cached run was not a full cache hit", flush=True)
        add(times, "cached", tool, seconds)


def edited(repo: Repo, times: Times, i: int, scenario: str, rel: str) -> None:
    """Each contender gets an edit of its own (nobody reuses the other's bytecode or ruff cache)."""
    for tool, argv in ours_then_theirs(repo, i):
        repo.edit(rel)
        add(times, scenario, tool, run(argv, repo.root)[0])
    repo.revert()


def fresh_clone(repo: Repo, times: Times, i: int, workdir: Path) -> None:
    clones = workdir / "clones"
    clones.mkdir(exist_ok=True)
    s3 = ("shipyard (S3)", [str(BIN / "invoke"), "ci"], {})
    remote = ("turbo (remote)", [repo.turbo, "run", "lint", "test"], repo.remote.env)
    for name, argv, extra in [s3, remote] if i % 2 == 0 else [remote, s3]:
        dest = clones / f"clone-{i}-{name.split()[0]}"
        shutil.rmtree(dest, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", str(repo.root), str(dest)], check=True)
        if name.startswith("turbo"):  # its `npm ci`; the venvs links for a miss
            subprocess.run(["cp", "-a", str(repo.root / "node_modules"), str(repo.root / VENVS), str(dest)], check=True)
        seconds, out = run(argv, dest, extra)
        check_clone_hits(name, out)
        add(times, "fresh clone", name, seconds)
        shutil.rmtree(dest, ignore_errors=True)


def check_clone_hits(name: str, out: str) -> None:
    if name.startswith("turbo") and "FULL TURBO" not in out:
        print("  warning: turbo's fresh clone was not a full remote cache hit", flush=True)
    if name.startswith("shipyard") and "s3" not in out.lower():
        print("  warning: shipyard's fresh clone shows no S3 hit", flush=True)


@dataclass
class Plan:
    runs: int
    cold_max: int
    cold_runs: int
    lib_max: int
    lib_runs: int
    clones: bool = True


def measure(repo: Repo, plan: Plan, workdir: Path, save: Callable[[list[dict[str, object]]], None]) -> None:
    """Every run's times, saved after each run (an interrupted benchmark keeps its runs)."""
    records: list[dict[str, object]] = []
    for i in range(plan.runs):
        times: Times = {}
        load = os.getloadavg()[0]
        print(f"run {i + 1}/{plan.runs} at {repo.units} units (load {load:.2f})", flush=True)
        if repo.services <= plan.cold_max and i < plan.cold_runs:
            cold(repo, times, i)
            warm_local(repo)
        cached(repo, times, i)
        edited(repo, times, i, "one change", service_file(repo.services))
        if repo.services <= plan.lib_max and i < plan.lib_runs:
            edited(repo, times, i, "lib change", LIB_FILE)
        warm_local(repo)  # the reverts: both tools see the committed tree again
        if plan.clones:
            fresh_clone(repo, times, i, workdir)
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        records.append({"when": when, "load": [load, os.getloadavg()[0]], "times": times})
        save(records)


# --- the report ---------------------------------------------------------------------------------

TARGETS = [  # scenario, ours, theirs, factor, label
    ("cold", "shipyard", "loop", 0.6, "cold ≤ 0.6× loop"),
    ("cached", "shipyard", "invoke --list", 1.0, "cached ≤ 1.0× `invoke --list`"),
    ("cached", "shipyard", "turbo", 1.5, "cached ≤ 1.5× Turborepo"),
    ("one change", "shipyard", "turbo", 0.7, "one change ≤ 0.7× Turborepo"),
    ("lib change", "shipyard", "turbo", None, "lib change vs Turborepo (no target)"),
    ("fresh clone", "shipyard (S3)", "turbo (remote)", 0.7, "fresh clone ≤ 0.7× Turborepo remote"),
]
SCENARIOS = ["cold", "cached", "one change", "lib change", "fresh clone"]
CONTENDERS = ["shipyard", "shipyard (S3)", "invoke --list", "loop", "turbo", "turbo (remote)"]


def ratio_cell(times: Times, scenario: str, ours: str, theirs: str, factor: float | None) -> str:
    a, b = times.get(scenario, {}).get(ours), times.get(scenario, {}).get(theirs)
    if a is None or b is None:
        return "—"
    verdict = "" if factor is None else (" met" if a / b <= factor else " **missed**")
    return f"{a:.2f}/{b:.2f} = {a / b:.2f}×{verdict}"


def median_ratio(records: list[dict[str, object]], scenario: str, ours: str, theirs: str, factor: float | None) -> str:
    """The median of the per-run ratios, and in how many runs the target was met."""
    ratios = []
    for record in records:
        times = record["times"].get(scenario, {})  # type: ignore[attr-defined]
        if ours in times and theirs in times:
            ratios.append(times[ours] / times[theirs])
    if not ratios:
        return "—"
    met = "" if factor is None else f", met in {sum(r <= factor for r in ratios)} of {len(ratios)}"
    return f"{statistics.median(ratios):.2f}×{met}"


def medians(records: list[dict[str, object]]) -> Times:
    out: dict[str, dict[str, list[float]]] = {}
    for record in records:
        for scenario, tools in record["times"].items():  # type: ignore[attr-defined]
            for tool, seconds in tools.items():
                out.setdefault(scenario, {}).setdefault(tool, []).append(seconds)
    return {s: {t: statistics.median(v) for t, v in tools.items()} for s, tools in out.items()}


def size_section(units: int, records: list[dict[str, object]]) -> str:
    med = medians(records)
    head = "| scenario | " + " | ".join(f"`{c}`" if c == "invoke --list" else c for c in CONTENDERS) + " |"
    lines = [head, "|---" * (len(CONTENDERS) + 1) + "|"]
    for scenario in SCENARIOS:
        if scenario in med:
            cells = [f"{med[scenario][c]:.2f} s" if c in med[scenario] else "—" for c in CONTENDERS]
            lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    runs = ["| run (load at start → end) | " + " | ".join(t[4] for t in TARGETS) + " |"]
    runs.append("|---" * (len(TARGETS) + 1) + "|")
    for n, record in enumerate([*records, {"times": med, "load": None, "when": ""}], 1):
        times = record["times"]
        load = record["load"]
        when = f"{n} ({record['when']}, {load[0]:.1f} → {load[1]:.1f})" if load else ""  # type: ignore[index]
        label = "**ratio of the medians**" if load is None else when
        runs.append(f"| {label} | " + " | ".join(ratio_cell(times, *t[:4]) for t in TARGETS) + " |")  # type: ignore[arg-type]
    runs.append(
        "| **median of the runs' ratios** | " + " | ".join(median_ratio(records, *t[:4]) for t in TARGETS) + " |"
    )
    medians_table, runs_table = "\n".join(lines), "\n".join(runs)
    head = f"### {units} units\n\nMedians of {len(records)} runs:\n\n"
    return f"{head}{medians_table}\n\nEach run's ratios:\n\n{runs_table}\n"


def report(results: dict[str, list[dict[str, object]]], repo_for_versions: Path) -> str:
    ordered = sorted(results.items(), key=lambda kv: int(kv[0]))
    sections = "\n".join(size_section(int(units), records) for units, records in ordered)
    return TEMPLATE.format(date=time.strftime("%Y-%m-%d"), machine=machine(repo_for_versions), sections=sections)


TEMPLATE = """\
## Measured {date} (written by bench/bench_ci.py)

Machine: {machine}.

Repositories: bench/gen_monorepo.py, N services + 2 libs (each unit 3 modules and 2 test
files, 11 tests per service; lib-0 is used by every second service), one Python version
(3.11). Every scenario runs all its contenders back to back within one run, on the same
repository and edits; a ratio is always taken within one run. Load averages are
`os.getloadavg()` (1 minute) at the start and the end of each run: other jobs shared the
2 cores.

{sections}
![time against the number of units](bench_ci.png)
"""


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
    trc = CACHE / "trc" / "node_modules" / "turborepo-remote-cache" / "package.json"
    tools = [
        f"Python {platform.python_version()}",
        _out([str(BIN / "ruff"), "--version"]),
        f"pytest {_out([str(BIN / 'python'), '-c', 'import pytest; print(pytest.__version__)'])}",
        f"turbo {_out([str(repo / 'node_modules/.bin/turbo'), '--version'])}",
        f"turborepo-remote-cache {json.loads(trc.read_text())['version'] if trc.exists() else '?'}",
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


def plot(results: dict[str, list[dict[str, object]]], path: Path) -> None:
    """Median time against units, one panel per scenario, one line per contender."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results, key=int)
    med = {units: medians(results[units]) for units in sizes}
    fig, grid = plt.subplots(2, 3, figsize=(13, 7.5))
    axes = list(grid.flat)
    axes[-1].axis("off")
    colors = dict(zip(CONTENDERS, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for ax, scenario in zip(axes, SCENARIOS, strict=False):
        for contender in CONTENDERS:
            points = [(int(u), med[u][scenario][contender]) for u in sizes if contender in med[u].get(scenario, {})]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", label=contender, color=colors[contender])
        ax.set_title(scenario)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("units")
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    for ax in (axes[0], axes[3]):
        ax.set_ylabel("median wall time (s)")
    fig.suptitle("bench/bench_ci.py: time against the number of units (log-log; 2 shared cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def write_between_markers(path: Path, text: str) -> None:
    """Replace the generated section of ``path``, keeping the hand-written text around it."""
    block = f"{START}\n{text}{END}"
    old = path.read_text(encoding="utf-8") if path.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in old or END not in old:
        old = f"{old.rstrip()}\n\n{START}\n{END}\n"
    head, rest = old.split(START, 1)
    path.write_text(head + block + rest.split(END, 1)[1], encoding="utf-8")


def bench_size(services: int, plan: Plan, workdir: Path, reuse: bool) -> Path:
    wd = workdir / f"size-{services}"
    storage = wd / "trc-storage"
    fresh = not (reuse and (wd / "monorepo").exists())
    if fresh:
        setup(wd, services)
    storage.mkdir(parents=True, exist_ok=True)
    remote = TurboRemoteCache(storage)
    try:
        repo = Repo(wd / "monorepo", services, remote)
        repo.revert()  # an interrupted run's edit
        warm_up(repo, with_loop=fresh and services <= plan.cold_max)  # resumable: what is cached is not redone
        measure(repo, plan, wd, lambda records: save(workdir / "ci-results.json", services + LIBS, records))
        return repo.root
    finally:
        remote.stop()


def save(store: Path, units: int, records: list[dict[str, object]]) -> None:
    """This size's runs so far, merged with the other sizes' (measured by other invocations too)."""
    results = json.loads(store.read_text()) if store.exists() else {}
    results[str(units)] = records
    store.write_text(json.dumps(results, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50], help="numbers of services (+2 libs each)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-max", type=int, default=50, help="cold runs only at sizes up to this")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold in the first K runs only")
    parser.add_argument("--lib-max", type=int, default=10**6, help="lib change only at sizes up to this")
    parser.add_argument("--lib-runs", type=int, default=10**6, help="lib change in the first K runs only")
    parser.add_argument("--no-clone", action="store_true", help="skip the fresh-clone scenario")
    parser.add_argument("--workdir", type=Path, default=HERE / "out")
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "performance.md")
    parser.add_argument("--plot", type=Path, default=HERE.parent / "docs" / "bench_ci.png")
    help_reuse = "reuse workdir/size-N/monorepo: the warm-up only does what an interrupted one left undone"
    parser.add_argument("--reuse", action="store_true", help=help_reuse)
    parser.add_argument("--report-only", action="store_true", help="rewrite the report and plot from the JSON")
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    store = workdir / "ci-results.json"
    results: dict[str, list[dict[str, object]]] = json.loads(store.read_text()) if store.exists() else {}
    repo = workdir / f"size-{args.sizes[0]}" / "monorepo"
    if not args.report_only:
        plan = Plan(args.runs, args.cold_max, args.cold_runs, args.lib_max, args.lib_runs, not args.no_clone)
        for services in args.sizes:
            repo = bench_size(services, plan, workdir, args.reuse)
        results = json.loads(store.read_text())
    write_between_markers(args.out, report(results, repo))
    plot(results, args.plot)
    print(report(results, repo))


if __name__ == "__main__":
    main()
