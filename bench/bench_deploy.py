"""Benchmark N services built, pushed and deployed to the local target, with the real engine.

A throwaway repository of N small HTTP services (stdlib only, a /health endpoint, one
hermetic image each) and an environment of its own on the local target (its own
containers, network and edge ports), images pushed to the registry at 127.0.0.1:5000
with the classic builder (DOCKER_BUILDKIT=0). Measured, each with `invoke` as a user runs it:

  build+push, all N new       `invoke build` + `invoke push --env E` on a new repository
  first deploy                `invoke deploy --env E --yes`, nothing running yet
  build+push, 1 of N changed  one service's code edited and committed
  deploy, 1 of N changed      the deploy that follows (the other N-1 are up to date)
  single deploys              for each service in turn: edit, build+push (not timed), then
                              `invoke deploy --env E --yes -s svc-K` (timed)
  all N changed               every service edited, build+push timed, then one `invoke deploy`

Target (issue #16): N independent services deployed ≤ 1.3 x the slowest single one.
Everything it created (containers, network, images, registry repositories) is removed.

    python bench/bench_deploy.py [--services 10] [--runs 1] [--json bench/out/deploy.json]
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
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
BIN = Path(sys.executable).parent
REGISTRY = "127.0.0.1:5000"

from tests.conftest import free_port  # noqa: E402
from tests.deploy.targets.test_local import remove_environment  # noqa: E402
from tests.images.example import delete_registry_repositories, remove_local_images  # noqa: E402

DOCKERFILE = """\
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
COPY app/ /tmp/app/
RUN pip install --no-index --no-deps --no-cache-dir /tmp/app/*.whl && rm -rf /tmp/app
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
STOPSIGNAL SIGTERM
CMD ["python", "-m", "{pkg}"]
"""

MAIN = '''\
"""{name}: answers /health, and / with its version."""

import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from {pkg} import VERSION


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{{"status":"ok"}}\\n' if self.path == "/health" else f"{name} {{VERSION}}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
'''

UNIT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []

[tool.setuptools.packages.find]
where = ["src"]

[tool.shipyard]
kind = "service"
port = 8000
health-path = "/health"
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=b@example.com", "-c", "user.name=b", *args], cwd=repo, check=True)


def generate(repo: Path, n: int, env: str, prefix: str) -> list[str]:
    names = [f"svc-{i:02d}" for i in range(1, n + 1)]
    urls = ", ".join(f'"{name}" = "http://127.0.0.1:{free_port()}"' for name in names)
    write(
        repo / "pyproject.toml",
        f'[project]\nname = "deploy-bench"\nversion = "0"\n\n[tool.shipyard]\nservices = ["services/*"]\n'
        f'python = ["3.11"]\n\n[tool.shipyard.image]\nlocal-prefix = "{prefix}/"\n\n'
        f'[tool.shipyard.environments.{env}]\ntargets = {{ service = "local" }}\nregistry = "{REGISTRY}/{prefix}"\n'
        f"deploy-timeout = 120\nurls = {{ {urls} }}\n",
    )
    write(repo / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    write(repo / ".gitignore", ".shipyard/\n")
    for name in names:
        pkg = name.replace("-", "_")
        unit = repo / "services" / name
        write(unit / "pyproject.toml", UNIT.format(name=name))
        write(unit / "requirements.lock", "")
        write(unit / "Dockerfile", DOCKERFILE.replace("{pkg}", pkg))
        write(unit / "src" / pkg / "__init__.py", "VERSION = 0\n")
        write(unit / "src" / pkg / "__main__.py", MAIN.format(name=name, pkg=pkg))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "generated")
    return names


def edit(repo: Path, names: list[str], version: int) -> None:
    for name in names:
        pkg = name.replace("-", "_")
        write(repo / "services" / name / "src" / pkg / "__init__.py", f"VERSION = {version}\n")
    git(repo, "commit", "-q", "-am", f"bench: {', '.join(names)} -> {version}")


def invoke(repo: Path, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "VIRTUAL_ENV")}
    env.update(DOCKER_BUILDKIT="0", PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    start = time.perf_counter()
    done = subprocess.run([str(BIN / "invoke"), *args], cwd=repo, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`invoke {' '.join(args)}` failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    return elapsed


def build_push(repo: Path, env: str, *services: str) -> float:
    selected = [arg for name in services for arg in ("-s", name)]
    return invoke(repo, "build", *selected) + invoke(repo, "push", "--env", env, *selected)


def say(record: dict[str, object], key: str, value: float) -> None:
    record[key] = value
    print(f"  {key:34s} {value:7.2f}s (load {os.getloadavg()[0]:.1f})", flush=True)


def measure(repo: Path, env: str, names: list[str], runs: int) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    version = 0
    for i in range(runs):
        record: dict[str, object] = {"load": [os.getloadavg()[0]]}
        if i == 0:
            say(record, "build+push, all N new", build_push(repo, env))
            say(record, "first deploy", invoke(repo, "deploy", "--env", env, "--yes"))
        version += 1
        edit(repo, names[:1], version)
        say(record, "build+push, 1 of N changed", build_push(repo, env))
        say(record, "deploy, 1 of N changed", invoke(repo, "deploy", "--env", env, "--yes"))
        singles = {}
        for name in names:
            version += 1
            edit(repo, [name], version)
            build_push(repo, env, name)
            singles[name] = invoke(repo, "deploy", "--env", env, "--yes", "-s", name)
            print(f"  single deploy {name}: {singles[name]:.2f}s", flush=True)
        record["singles"] = singles
        version += 1
        edit(repo, names, version)
        say(record, "build+push, all N changed", build_push(repo, env))
        say(record, "deploy, all N changed", invoke(repo, "deploy", "--env", env, "--yes"))
        record["load"].append(os.getloadavg()[0])  # type: ignore[attr-defined]
        records.append(record)
    return records


def table(records: list[dict[str, object]], n: int) -> str:
    lines = [
        f"| run (load start → end) | build+push all {n} new | first deploy | build+push 1 of {n} changed "
        f"| deploy 1 of {n} changed | slowest single deploy (median single) | build+push all {n} changed "
        f"| deploy all {n} changed | all / slowest single (≤ 1.3×) |",
        "|---" * 9 + "|",
    ]
    for i, r in enumerate(records, 1):
        singles = sorted(r["singles"].values())  # type: ignore[attr-defined]
        slowest, median = singles[-1], singles[len(singles) // 2]
        ratio = r["deploy, all N changed"] / slowest  # type: ignore[operator]
        verdict = "met" if ratio <= 1.3 else "**missed**"
        cells = [
            f"{r[k]:.1f} s" if k in r else "—"
            for k in ("build+push, all N new", "first deploy", "build+push, 1 of N changed", "deploy, 1 of N changed")
        ]
        load = r["load"]
        lines.append(
            f"| {i} ({load[0]:.1f} → {load[1]:.1f}) | "
            + " | ".join(cells)  # type: ignore[index]
            + f" | {slowest:.1f} s ({median:.1f} s) | {r['build+push, all N changed']:.1f} s"
            + f" | {r['deploy, all N changed']:.1f} s | {ratio:.2f}× {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "deploy.json")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    env, prefix = f"bench{tag}", f"sybench-deploy-{tag}"
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-deploy-") as tmp:
        repo = Path(tmp) / "repo"
        names = generate(repo, args.services, env, prefix)
        os.environ["SHIPYARD_WHEEL_CACHE"] = str(Path(tmp) / "wheels")
        try:
            records = measure(repo, env, names, args.runs)
        finally:
            remove_environment(env)
            remove_local_images([f"{prefix}/", f"{REGISTRY}/{prefix}"])
            delete_registry_repositories(REGISTRY, prefix)
    print(table(records, args.services))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"services": args.services, "records": records}, indent=1) + "\n")


if __name__ == "__main__":
    main()
