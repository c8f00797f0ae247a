"""Bad input, as a user meets it: `invoke ...` in a throwaway monorepo. Each case must end with
one `error: ...` line (and a `hint: ...` line where the case has one), exit 1, no traceback,
and nothing changed: no file outside .shipyard/ touched, no local image created.

A job failure (a service with no Dockerfile) is reported in the results table instead, as
``<unit> <task> error ... <reason> (hint: ...)``; those cases check that form."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import make_monorepo, python_unit, run_invoke

Setup = Callable[[Path], None]


def _nothing(_: Path) -> None:
    pass


def _replace(rel: str, old: str, new: str) -> Setup:
    def edit(root: Path) -> None:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def _write_bytes(rel: str, data: bytes) -> Setup:
    def write(root: Path) -> None:
        (root / rel).write_bytes(data)

    return write


def _non_utf8_pyproject(root: Path) -> None:
    path = root / "services" / "b" / "pyproject.toml"
    path.write_bytes(path.read_bytes().replace(b'version = "0.1.0"', b'version = "0.1.0"\n# caf\xe9', 1))


def _outside_git(root: Path) -> None:
    shutil.rmtree(root / ".git")


def _env_local_dir(root: Path) -> None:
    (root / ".env.local").mkdir()


def _cycle(root: Path) -> None:
    _replace("libs/core/pyproject.toml", "depends-on = []", 'depends-on = ["core2"]')(root)
    python_unit(root, "libs/core2", "core2", kind="lib", depends_on=["core"])


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    setup: Setup = _nothing
    expect: str = ""  # text the error line must contain
    hint: bool = True  # the error carries a hint line
    table: bool = False  # reported as a failed job in the results table


UNIT_B = "services/b/pyproject.toml"
CASES: dict[str, Case] = {
    "unknown service": Case(("build", "-s", "nope"), expect="unknown service 'nope'"),
    "unknown environment": Case(("deploy", "--env", "stagng"), expect="unknown environment 'stagng'"),
    "--lock-wait abc": Case(("deploy", "--env", "local", "--lock-wait", "abc"), expect="'abc' is not a whole number"),
    "--jobs x": Case(("test", "--jobs", "x"), expect="'x' is not a whole number"),
    "invalid TOML in the root pyproject": Case(
        ("services",),
        _replace("pyproject.toml", 'python = ["3.11"]', 'python = ["3.11"'),
        expect="pyproject.toml: invalid TOML",
        hint=False,
    ),
    "unknown key in a unit table": Case(
        ("services",),
        _replace(UNIT_B, 'kind = "service"', 'kind = "service"\nportt = 80'),
        expect="tool.shipyard.portt: unknown key (did you mean 'port'?)",
    ),
    "wrong type": Case(
        ("services",),
        _replace(UNIT_B, 'kind = "service"', 'kind = "service"\nport = "80"'),
        expect='tool.shipyard.port: expected an integer, got "80"',
        hint=False,
    ),
    "glob with ..": Case(
        ("services",),
        _replace("pyproject.toml", 'services = ["services/*"]', 'services = ["../*"]'),
        expect="'../*' must be a path inside the repository",
    ),
    "non-UTF-8 byte in a pyproject": Case(("services",), _non_utf8_pyproject, expect=f"{UNIT_B}: not UTF-8"),
    "missing Dockerfile": Case(("build", "-s", "a"), expect="services/a/Dockerfile not found", table=True),
    "nothing to roll back": Case(
        ("rollback", "--env", "local", "-s", "a"), expect="a has no older successful release in 'local'"
    ),
    "--since no-such-ref": Case(("build", "--since", "no-such-ref"), expect="cannot find 'no-such-ref'"),
    "outside a git repository": Case(("build", "-s", "a"), _outside_git, expect="not a git repository"),
    ".env with a non-UTF-8 byte": Case(
        ("config", "--env", "local", "-s", "a"),
        _write_bytes(".env", b"A=caf\xe9\n"),
        expect=".env: line 1: byte 0xe9 is not UTF-8",
    ),
    ".env.local is a directory": Case(("config", "--env", "local", "-s", "a"), _env_local_dir, expect=".env.local"),
    # beyond the list
    "--to abc": Case(("rollback", "--env", "local", "-s", "a", "--to", "abc"), expect="'abc' is not a whole number"),
    "unknown service to deploy": Case(("deploy", "--env", "local", "-s", "nope"), expect="unknown service 'nope'"),
    "unknown environment in history": Case(("history", "--env", "stagng"), expect="unknown environment 'stagng'"),
    "unparsable .env line": Case(
        ("config", "--env", "local", "-s", "a"),
        _write_bytes(".env", b"A=1\nthis is not a statement\n"),
        expect=".env: line 2: cannot parse this statement",
    ),
    "unknown key in the root table": Case(
        ("services",),
        _replace("pyproject.toml", 'python = ["3.11"]', 'python = ["3.11"]\nservise = 1'),
        expect="tool.shipyard.servise: unknown key (did you mean 'services'?)",
    ),
    "depends-on an unknown lib": Case(
        ("services",),
        _replace(UNIT_B, "depends-on = []", 'depends-on = ["nolib"]'),
        expect="depends-on: unknown lib 'nolib'",
    ),
    "dependency cycle": Case(("graph",), _cycle, expect="dependency cycle: a -> core -> core2 -> core"),
    "python version that is not a version": Case(
        ("services",),
        _replace("pyproject.toml", 'python = ["3.11"]', 'python = ["three"]'),
        expect="tool.shipyard.python",
    ),
}

GAPS: dict[str, str] = {}  # bad inputs not handled cleanly yet: xfail(strict) with the symptom


def _params() -> list[object]:
    params: list[object] = []
    for name, case in CASES.items():
        marks = [pytest.mark.xfail(strict=True, reason=GAPS[name])] if name in GAPS else []
        params.append(pytest.param(case, id=name, marks=marks))
    return params


def _snapshot(root: Path) -> dict[str, str]:
    """Every file and directory under ``root`` (but .git/ and .shipyard/) -> content hash."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/", 1)[0] in {".git", ".shipyard"}:
            continue
        found[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _local_images(prefix: str) -> str:
    if shutil.which("docker") is None:
        return ""
    listing = subprocess.run(("docker", "images", "--format", "{{.Repository}}"), capture_output=True, text=True)
    return "\n".join(line for line in listing.stdout.splitlines() if line.startswith(prefix))


def _repo(tmp_path: Path, prefix: str) -> Path:
    root = make_monorepo(tmp_path / "repo", commit=False)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text + f'\n[tool.shipyard.image]\nlocal-prefix = "{prefix}"\n', encoding="utf-8")
    subprocess.run(("git", "add", "-A"), cwd=root, check=True)
    subprocess.run(("git", "commit", "-q", "-m", "initial"), cwd=root, check=True)
    return root


def _assert_error_lines(case: Case, stderr: str) -> None:
    lines = stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert case.expect in errors[0], stderr
    hints = [line for line in lines if line.startswith("hint: ")]
    assert len(hints) == (1 if case.hint else 0), stderr


def _assert_failed_job(case: Case, stdout: str) -> None:
    rows = [line for line in stdout.splitlines() if case.expect in line]
    assert rows, stdout
    assert " error " in rows[-1] and "(hint: " in rows[-1], stdout


@pytest.mark.parametrize("case", _params())
def test_bad_input_is_one_clear_error_and_changes_nothing(case: Case, tmp_path: Path) -> None:
    prefix = f"sybad-{uuid.uuid4().hex[:10]}/"
    root = _repo(tmp_path, prefix)
    case.setup(root)
    before = _snapshot(root)

    done = run_invoke(root, *case.args, timeout=300)

    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out
    if case.table:
        _assert_failed_job(case, done.stdout)
    else:
        _assert_error_lines(case, done.stderr)
    assert _snapshot(root) == before
    assert _local_images(prefix) == ""
