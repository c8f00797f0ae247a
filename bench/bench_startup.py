"""Start-up cost of two versions of shipyard's source, side by side: `invoke --list` and an
all-cached `invoke ci`, on this repository, interleaved run by run.

The other version's `src/` is extracted from git (`git archive <rev> src`) into a scratch
folder and put first on PYTHONPATH, so both run with the same interpreter, packages and
repository. Each command gets one warm-up per version first (the all-cached run needs its
own cache entries: keys include a hash of shipyard's source). Reported: the median wall
time and the median CPU time (user + system of the child), which holds up better than
wall time on a shared machine.

    python bench/bench_startup.py --before <rev> [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ci import UNSET  # the variables dropped from every measured command's environment

ROOT = Path(__file__).resolve().parent.parent
INVOKE = Path(sys.executable).parent / "invoke"
COMMANDS = {"invoke --list": ["--list"], "invoke ci (all cached)": ["ci"]}


def extract(rev: str, into: Path) -> Path:
    """The ``src/`` of ``rev``, unpacked under ``into``."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def timed(args: list[str], src: Path | None) -> tuple[float, float]:
    """(wall, cpu) seconds of one run; a failing command stops the benchmark."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(INVOKE), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the git revision to compare the working tree with")
    parser.add_argument("--runs", type=int, default=7)
    opts = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="shipyard-startup-"))
    try:
        versions = {opts.before: extract(opts.before, scratch), "working tree": None}
        rows = []
        for label, args in COMMANDS.items():
            for src in versions.values():
                timed(args, src)  # warm-up (fills the cache for `ci`)
            times: dict[str, list[tuple[float, float]]] = {v: [] for v in versions}
            for _ in range(opts.runs):
                for version, src in versions.items():
                    times[version].append(timed(args, src))
            rows.append((label, times))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"{opts.runs} interleaved runs each, median; load average at the end {load:.1f}\n")
    print(f"| command | wall {opts.before} | wall now | CPU {opts.before} | CPU now |")
    print("|---|---|---|---|---|")
    for label, times in rows:
        wall = [statistics.median(t[0] for t in times[v]) * 1000 for v in versions]
        cpu = [statistics.median(t[1] for t in times[v]) * 1000 for v in versions]
        print(f"| `{label}` | {wall[0]:.0f} ms | {wall[1]:.0f} ms | {cpu[0]:.0f} ms | {cpu[1]:.0f} ms |")


if __name__ == "__main__":
    main()
