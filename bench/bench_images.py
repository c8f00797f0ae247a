"""Benchmark `invoke build` on this repository's example services (api, worker, web).

Three scenarios on a throwaway copy of services/ + libs/ (the working tree is untouched):

  full         empty wheel cache, no Docker layer cache (--no-cache): everything from scratch
  no change    the same tree again: every fingerprint is already built, nothing runs
  code change  one line in api's and worker's code: wheels of the unit rebuilt, the Docker
               dependency layer reused, only the code layers rebuilt

Timings come from shipyard's own Result records (per unit) plus the wall time of each run.
Run from the repository root with the Docker engine up:

    python bench/bench_images.py [--json bench/out/images.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # shipyard, and the tests' example-repo builder

from shipyard.core.project import load_project  # noqa: E402
from shipyard.images.build import BuildOptions  # noqa: E402
from shipyard.images.jobs import build_jobs  # noqa: E402
from shipyard.run.jobs import run_jobs  # noqa: E402
from shipyard.run.results import Result  # noqa: E402
from tests.images.example import copy_example  # noqa: E402


def build(root: Path, options: BuildOptions) -> tuple[float, list[Result]]:
    project = load_project(root)
    jobs = build_jobs(project, project.select(None, libs=False), options)
    start = time.monotonic()
    results = run_jobs(jobs, workers=os.cpu_count() or 1, report=lambda _: None)
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"build failed: {failed[0].unit}: {failed[0].reason}\n{failed[0].output[-3000:]}")
    return time.monotonic() - start, results


def touch_code(root: Path) -> None:
    for rel in ("services/api/src/example_api/app.py", "services/worker/src/example_worker/worker.py"):
        path = root / rel
        path.write_text(path.read_text() + "\n# bench: a code-only change\n")


def table(rows: list[tuple[str, float, list[Result]]]) -> str:
    lines = ["| scenario | wall | api | worker | web |", "|---|---|---|---|---|"]
    for name, wall, results in rows:
        cells = {r.unit: f"{r.duration:.1f}s {'built' if r.details['built'] else 'skipped'}" for r in results}
        lines.append(f"| {name} | {wall:.1f}s | {cells['api']} | {cells['worker']} | {cells['web']} |")
    return "\n".join(lines)


def cleanup(prefix: str) -> None:
    argv = ("docker", "images", "--format", "{{.ID}} {{.Repository}}")
    listing = subprocess.run(argv, capture_output=True, text=True)
    ids = {line.split()[0] for line in listing.stdout.splitlines() if line.split()[1].startswith(prefix + "/")}
    if ids:
        subprocess.run(("docker", "rmi", "--force", *sorted(ids)), capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the records here")
    args = parser.parse_args()
    prefix = f"sybench-{uuid.uuid4().hex[:8]}"
    rows = []
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        root = copy_example(Path(tmp) / "repo", prefix=prefix, registry="127.0.0.1:5000")
        cache = Path(tmp) / "wheels"
        try:
            rows.append(("full", *build(root, BuildOptions(wheel_cache=cache, no_cache=True))))
            rows.append(("no change", *build(root, BuildOptions(wheel_cache=cache))))
            touch_code(root)
            rows.append(("code change", *build(root, BuildOptions(wheel_cache=cache))))
        finally:
            cleanup(prefix)
    print(table(rows))
    print(f"\n{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        records = {name: {"wall": wall, "results": [r.__dict__ for r in rs]} for name, wall, rs in rows}
        args.json.write_text(json.dumps(records, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
