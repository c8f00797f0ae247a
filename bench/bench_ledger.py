"""Benchmark `invoke status` and `invoke history` against a long release ledger.

A throwaway repository with one environment whose state store is an S3 bucket (moto's
server, from AWS_ENDPOINT_URL) holds a ledger of N entries over 10 services, written
straight into the bucket the way N deploys would have left them. For each N the script
times, as a user runs them, `invoke status --env bench` (as it runs day to day: after an
earlier status wrote the ledger's summary), `invoke history --env bench` (its default: the
newest 20), and a first `invoke status` (no summary yet: every entry read), the median of
--reps runs each. The services are not units
of the repository, so no target is asked what it runs: the numbers are the ledger's cost
plus start-up.

    AWS_ENDPOINT_URL=http://127.0.0.1:5005 python bench/bench_ledger.py [--entries 10 1000] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shipyard.deploy import summary  # noqa: E402
from shipyard.deploy.ledger import Entry, entry_key  # noqa: E402

BIN = Path(sys.executable).parent
SERVICES = 10
PYPROJECT = """\
[tool.shipyard]
services = ["services/*"]

[tool.shipyard.environments.bench]
state-bucket = "{bucket}"
"""


def make_repo(where: Path, bucket: str) -> Path:
    repo = where / f"repo-{bucket}"
    (repo / "services").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(PYPROJECT.format(bucket=bucket))
    (repo / "tasks.py").write_text("from shipyard.tasks import namespace  # noqa: F401\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init"], cwd=repo, check=True)
    return repo


def entry(number: int) -> Entry:
    service = f"svc-{number % SERVICES:02d}"
    outcome = "failed" if number % 7 == 0 else "succeeded"
    return Entry(
        service=service,
        action="deploy",
        outcome=outcome,
        fingerprint=f"{number:064x}",
        artifact=f"127.0.0.1:5000/{service}@sha256:{number:064x}",
        revision=f"rev-{number}",
        git_sha=f"{number:040x}",
        who="bench",
        started=f"2026-12-02T00:{number // 60 % 60:02d}:{number % 60:02d}Z",
        finished=f"2026-12-02T00:{number // 60 % 60:02d}:{number % 60:02d}Z",
        deploy_id=f"d{number}",
        release=number,
    )


def fill(bucket: str, entries: int) -> None:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    for number in range(1, entries + 1):
        key = f"shipyard/bench/{entry_key(number)}"
        s3.put_object(Bucket=bucket, Key=key, Body=entry(number).to_bytes())


def timed(argv: list[str], repo: Path, before: Callable[[], None] = lambda: None) -> float:
    before()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "PYTHONDONTWRITEBYTECODE")}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def measure(entries: int, reps: int, where: Path) -> dict[str, float]:
    import boto3

    bucket = f"bench-ledger-{uuid.uuid4().hex[:8]}"
    fill(bucket, entries)
    repo = make_repo(where, bucket)
    status, history = ["invoke", "status", "--env", "bench"], ["invoke", "history", "--env", "bench"]
    s3 = boto3.client("s3")

    def forget() -> None:  # the ledger's summary (shipyard.deploy.summary) gone: a first status
        s3.delete_object(Bucket=bucket, Key=f"shipyard/bench/{summary.KEY}")

    timed(status, repo)  # a first run: bytecode, and the summary it writes
    result = {
        "status": statistics.median(timed(status, repo) for _ in range(reps)),
        "history": statistics.median(timed(history, repo) for _ in range(reps)),
    }
    result["status, no summary"] = statistics.median(timed(status, repo, before=forget) for _ in range(reps))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not os.environ.get("AWS_ENDPOINT_URL"):
        raise SystemExit("set AWS_ENDPOINT_URL to a moto server (bash ../shared/ci-env/up.sh gives one)")
    with tempfile.TemporaryDirectory() as tmp:
        rows = {n: measure(n, args.reps, Path(tmp)) for n in args.entries}
    names = list(rows[args.entries[0]])
    print(f"{'entries':>8}  " + "  ".join(f"{name:>18}" for name in names))
    for n, row in rows.items():
        print(f"{n:>8}  " + "  ".join(f"{row[name]:>17.2f}s" for name in names))
    first, last = rows[args.entries[0]], rows[args.entries[-1]]
    print(f"status ratio {args.entries[-1]}/{args.entries[0]}: {last['status'] / first['status']:.2f}x (target <= 2x)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
