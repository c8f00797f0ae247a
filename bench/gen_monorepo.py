"""Generate a synthetic monorepo of N small Python services for benchmarks.

Each service has a few modules and tests and uses one of the libs; the repository is
set up for all three contenders of bench_ci.py: shipyard (tasks.py, noxfile.py,
[tool.shipyard]), a plain loop, and Turborepo (npm workspaces, turbo.json, a
package.json with lint/test scripts per unit). Everything is committed in a new git
repository.

    python bench/gen_monorepo.py OUT [--services 50] [--libs 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

VENVS = ".venvs"  # <unit> -> the unit's test venv; bench_ci.py links them after the warm-up

ROOT_PYPROJECT = """\
[project]
name = "bench-monorepo"
version = "0"

[tool.shipyard]
services = ["services/*"]
libs = ["libs/*"]
python = ["3.11"]

[tool.ruff]
line-length = 100
src = ["services/*/src", "libs/*/src"]
extend-exclude = [".venvs", ".nox", ".shipyard", "node_modules", ".turbo"]
"""

GITIGNORE = """\
__pycache__/
*.egg-info/
.nox/
.venvs/
.shipyard/
.pytest_cache/
.ruff_cache/
.turbo/
node_modules/
"""

CORE = '''\
"""Domain logic of {name}."""

from __future__ import annotations

from {lib}.text import slug

RATE = {rate}


def price(quantity: int, unit_cost: float) -> float:
    """Total price with the service's rate applied."""
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    return round(quantity * unit_cost * (1 + RATE / 100), 2)


def label(title: str, number: int) -> str:
    return f"{{slug(title)}}-{{number:04d}}"


def batches(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
'''

UTIL = '''\
"""Helpers of {name}."""

from __future__ import annotations

from collections import Counter


def most_common(words: list[str], n: int = 3) -> list[str]:
    return [w for w, _ in Counter(words).most_common(n)]


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def chunks(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]
'''

MODELS = '''\
"""Records of {name}."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Order:
    id: int
    items: tuple[str, ...] = field(default_factory=tuple)

    @property
    def size(self) -> int:
        return len(self.items)


def parse(line: str) -> Order:
    head, _, rest = line.partition(":")
    return Order(int(head), tuple(x for x in rest.split(",") if x))
'''

TEST_CORE = """\
import pytest

from {pkg}.core import batches, label, price


def test_price():
    assert price(2, 10.0) == round(20 * (1 + {rate} / 100), 2)


def test_negative_quantity():
    with pytest.raises(ValueError):
        price(-1, 1.0)


def test_label():
    assert label("Hello World", 7) == "hello-world-0007"


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_batches(size):
    items = list(range(10))
    assert [x for batch in batches(items, size) for x in batch] == items
"""

TEST_UTIL = """\
from {pkg}.models import parse
from {pkg}.util import chunks, clamp, most_common


def test_most_common():
    assert most_common(["a", "b", "a", "c", "a", "b"], 2) == ["a", "b"]


def test_clamp():
    assert clamp(5, 0, 3) == 3
    assert clamp(-1, 0, 3) == 0


def test_chunks():
    assert chunks("abcdef", 4) == ["abcd", "ef"]


def test_parse():
    order = parse("12:x,y")
    assert order.id == 12 and order.size == 2
"""

LIB_TEXT = '''\
"""Text helpers shared by the services."""

from __future__ import annotations

import re


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
'''

LIB_TEST = """\
from {pkg}.text import slug


def test_slug():
    assert slug("Hello, World!") == "hello-world"
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def unit_pyproject(name: str, kind: str, deps: list[str]) -> str:
    listed = ", ".join(f'"{d}"' for d in deps)
    return textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "0.1.0"
        requires-python = ">=3.10"

        [project.optional-dependencies]
        test = ["pytest"]

        [tool.setuptools.packages.find]
        where = ["src"]

        [tool.pytest.ini_options]
        testpaths = ["tests"]

        [tool.shipyard]
        kind = "{kind}"
        depends-on = [{listed}]
        """)


def package_json(name: str, deps: list[str]) -> str:
    data = {
        "name": name,
        "version": "0.0.0",
        "private": True,
        "scripts": {
            "lint": "ruff check . && ruff format --check .",
            "test": f"../../{VENVS}/{name}/bin/pytest",
        },
        "dependencies": {d: "*" for d in deps},
    }
    return json.dumps(data, indent=2) + "\n"


def make_lib(root: Path, name: str) -> None:
    pkg = name.replace("-", "_")
    folder = root / "libs" / name
    write(folder / "pyproject.toml", unit_pyproject(name, "lib", []))
    write(folder / "package.json", package_json(name, []))
    write(folder / "src" / pkg / "__init__.py", "")
    write(folder / "src" / pkg / "text.py", LIB_TEXT)
    write(folder / "tests" / "test_text.py", LIB_TEST.format(pkg=pkg))


def make_service(root: Path, name: str, lib: str, rate: int) -> None:
    pkg = name.replace("-", "_")
    folder = root / "services" / name
    values = {"name": name, "pkg": pkg, "lib": lib.replace("-", "_"), "rate": rate}
    write(folder / "pyproject.toml", unit_pyproject(name, "service", [lib]))
    write(folder / "package.json", package_json(name, [lib]))
    write(folder / "src" / pkg / "__init__.py", f'"""{name}."""\n')
    for module, text in (("core", CORE), ("util", UTIL), ("models", MODELS)):
        write(folder / "src" / pkg / f"{module}.py", text.format(**values))
    write(folder / "tests" / "test_core.py", TEST_CORE.format(**values))
    write(folder / "tests" / "test_util.py", TEST_UTIL.format(**values))


def npm_version() -> str:
    found = shutil.which("npm")
    if not found:
        return "10.0.0"
    return subprocess.run([found, "--version"], capture_output=True, text=True).stdout.strip() or "10.0.0"


def make_root(root: Path, turbo_version: str, s3_bucket: str = "") -> None:
    cache = f'\n[tool.shipyard.cache]\ns3-bucket = "{s3_bucket}"\n' if s3_bucket else ""
    write(root / "pyproject.toml", ROOT_PYPROJECT + cache)
    write(root / ".gitignore", GITIGNORE)
    write(root / "noxfile.py", "import nox\nfrom shipyard.sessions import register\n\nregister(nox)\n")
    write(root / "tasks.py", "from shipyard.tasks import namespace  # noqa: F401\n")
    package = {
        "name": "bench-monorepo",
        "private": True,
        "packageManager": f"npm@{npm_version()}",
        "workspaces": ["services/*", "libs/*"],
        "devDependencies": {"turbo": turbo_version},
    }
    write(root / "package.json", json.dumps(package, indent=2) + "\n")
    # A service's tests import its libs: "transit" (no script anywhere) carries the libs'
    # hashes into each dependent's test hash without making the tests wait for each other.
    # Without it Turborepo replays a service's cached tests after a change to its lib.
    tasks = {
        "transit": {"dependsOn": ["^transit"]},
        "lint": {"outputs": []},
        "test": {"dependsOn": ["transit"], "outputs": []},
    }
    turbo = {"$schema": "https://turbo.build/schema.json", "tasks": tasks}
    write(root / "turbo.json", json.dumps(turbo, indent=2) + "\n")


def generate(
    root: Path, services: int = 50, libs: int = 2, turbo_version: str = "2.11.11", s3_bucket: str = ""
) -> Path:
    """Write the monorepo under ``root`` (which must not exist) and commit it.

    lib-0 is the widely used lib: every service with an even number depends on it (half
    of them with the default 2 libs). ``s3_bucket`` turns on shipyard's S3 result cache.
    """
    if root.exists():
        raise SystemExit(f"{root} already exists")
    make_root(root, turbo_version, s3_bucket)
    lib_names = [f"lib-{i}" for i in range(max(1, libs))]
    for name in lib_names:
        make_lib(root, name)
    for i in range(1, services + 1):
        make_service(root, f"svc-{i:02d}", lib_names[i % len(lib_names)], rate=i % 20)
    git = ("git", "-c", "user.email=bench@example.com", "-c", "user.name=bench")
    subprocess.run((*git, "init", "-q", "-b", "main"), cwd=root, check=True)
    subprocess.run((*git, "add", "-A"), cwd=root, check=True)
    subprocess.run((*git, "commit", "-q", "-m", "generated monorepo"), cwd=root, check=True)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--libs", type=int, default=2)
    parser.add_argument("--turbo-version", default="2.11.11")
    parser.add_argument("--s3-bucket", default="", help="shipyard's S3 result cache bucket (none by default)")
    args = parser.parse_args()
    generate(args.out.resolve(), args.services, args.libs, args.turbo_version, args.s3_bucket)
    print(f"generated {args.services} services and {args.libs} libs in {args.out}")


if __name__ == "__main__":
    main()
