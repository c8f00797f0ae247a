"""Affected units: which fingerprint inputs changed between a git ref and the working tree.

Both sides are maps of path -> git blob id: ``git ls-tree -r REF`` for the ref and
fingerprint.tracked_files for the working tree (tracked files with uncommitted edits),
so the comparison reads no file contents. A changed file selects the unit that holds
it, a changed lib also selects every unit that uses it, and a changed root input
(configuration, noxfile, shared lock file) selects everything.
"""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from shipyard.core.errors import ShipyardError
from shipyard.core.fingerprint import root_inputs
from shipyard.core.graph import lib_closure
from shipyard.core.project import Project, Unit


@dataclass(frozen=True)
class Affected:
    """The units selected by ``--since``, each with why, and notes about changes that select nothing."""

    since: str
    reasons: dict[str, str]  # unit name -> why, in project order
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return list(self.reasons)

    def describe(self) -> str:
        """Lines for the console: what was selected and why."""
        if not self.reasons:
            lines = [f"nothing affected since {self.since}"]
        else:
            lines = [f"affected since {self.since}: {len(self.reasons)} unit(s)"]
            lines += [f"  {name}: {why}" for name, why in self.reasons.items()]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(("git", *args), cwd=root, capture_output=True)
    except FileNotFoundError:
        raise ShipyardError("git is not installed", hint="install git") from None


ZERO = "0" * 40  # GitHub's `github.event.before` on the first push of a new branch


def baseline(root: Path, since: str) -> tuple[str | None, str]:
    """The commit to compare with for ``--since``, and a note when it is not ``since`` itself.

    GitHub gives the all-zeros sha as the commit "before" the first push of a new branch,
    and a force-push's "before" is a commit the clone no longer has. Both are compared
    with the merge base of HEAD and the remote's default branch instead. None selects
    every unit: there is no merge base, or HEAD is that branch itself.
    """
    shallow = _shallow(root)  # there a missing commit is one not fetched: resolve says how to fetch it
    missing = since == ZERO or (_is_sha(since) and not shallow and not _has_commit(root, since))
    if not missing:
        return resolve(root, since), ""
    why = "a new branch's first push" if since == ZERO else f"{since[:12]} is not in this clone (a force-push?)"
    default = _default_branch(root)
    base = _git(root, "merge-base", "HEAD", default).stdout.decode().strip() if default else ""
    head = _git(root, "rev-parse", "HEAD").stdout.decode().strip()
    if not base or base == head:
        return None, f"{why}, and no other branch to compare with: every unit is selected"
    return base, f"{why}: compared with the merge base of HEAD and {default} ({base[:12]})"


def _shallow(root: Path) -> bool:
    return _git(root, "rev-parse", "--is-shallow-repository").stdout.decode().strip() == "true"


def _is_sha(ref: str) -> bool:
    return len(ref) == 40 and all(c in "0123456789abcdef" for c in ref)


def _has_commit(root: Path, sha: str) -> bool:
    return _git(root, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def _default_branch(root: Path) -> str:
    """origin's default branch (origin/HEAD, else origin/main or origin/master); "" when none."""
    head = _git(root, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD").stdout.decode().strip()
    for ref in (head, "origin/main", "origin/master"):
        if ref and _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0:
            return ref
    return ""


def resolve(root: Path, ref: str) -> str:
    """The commit ``ref`` names; a clear error when this clone does not have it."""
    done = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if done.returncode == 0:
        return done.stdout.decode().strip()
    why = "this is a shallow clone without it" if _shallow(root) else "no such commit, branch or tag here"
    raise ShipyardError(
        f"--since {ref}: cannot find {ref!r} ({why}), so the affected units cannot be computed",
        hint="fetch the history: in GitHub Actions use actions/checkout with `fetch-depth: 0`; "
        "locally `git fetch --unshallow` or `git fetch origin <branch>`",
    )


def tree_files(root: Path, commit: str) -> dict[str, str]:
    """Every file in ``commit``'s tree -> its blob id (paths relative to the repository root)."""
    done = _git(root, "ls-tree", "-r", "-z", "--full-tree", commit)
    if done.returncode != 0:
        raise ShipyardError(f"git ls-tree {commit} failed: {done.stderr.decode(errors='replace').strip()}")
    files = {}
    for entry in done.stdout.split(b"\0"):
        if entry:
            meta, path = entry.split(b"\t", 1)
            files[path.decode()] = meta.split()[2].decode()
    return files


def _prefix(root: Path) -> str:
    """The project root's path inside its git repository ("" when they coincide)."""
    return _git(root, "rev-parse", "--show-prefix").stdout.decode().strip()


def changed_paths(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Paths added, removed or modified (a rename is a removal plus an addition)."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def affected(project: Project, since: str, files: Mapping[str, str]) -> Affected:
    """The units whose inputs changed between ``since`` and the working tree ``files``."""
    commit, note = baseline(project.root, since)
    if commit is None:
        return Affected(since, {name: "no earlier commit to compare with" for name in project.units}, (note,))
    found = _affected(project, since, commit, files)
    return replace(found, notes=(note, *found.notes)) if note else found


def _affected(project: Project, since: str, commit: str, files: Mapping[str, str]) -> Affected:
    prefix = _prefix(project.root)
    before = {p[len(prefix) :]: h for p, h in tree_files(project.root, commit).items() if p.startswith(prefix)}
    changed = changed_paths(before, files)
    roots = sorted({p for p, _ in root_inputs(before)} | {p for p, _ in root_inputs(files)})
    root_changed = [p for p in roots if p in changed]
    if root_changed:
        why = f"{_listing(root_changed)} changed: the root configuration affects every unit"
        return Affected(since, {name: why for name in project.units})
    return _by_unit(project, since, changed, files)


def _by_unit(project: Project, since: str, changed: list[str], files: Mapping[str, str]) -> Affected:
    owners = sorted(project.units.values(), key=lambda u: -len(u.path))
    direct: dict[str, list[str]] = {}
    orphans: list[str] = []
    for path in changed:
        owner = next((u for u in owners if path.startswith(u.path + "/")), None)
        if owner is None:
            orphans.append(path)
        else:
            direct.setdefault(owner.name, []).append(path)
    reasons = {}
    for unit in project.units.values():
        why = _why(project, unit, direct)
        if why:
            reasons[unit.name] = why
    return Affected(since, reasons, _removed_units(project, orphans, files))


def _why(project: Project, unit: Unit, direct: Mapping[str, list[str]]) -> str:
    if unit.name in direct:
        return f"{_listing(direct[unit.name])} changed"
    libs = [lib.name for lib in lib_closure(project, unit) if lib.name in direct]
    return f"uses lib {', '.join(libs)}, which changed" if libs else ""


def _removed_units(project: Project, orphans: list[str], files: Mapping[str, str]) -> tuple[str, ...]:
    """Unit directories that existed at the ref and are gone now: nothing to run, but say so."""
    globs = [*project.settings["services"], *project.settings["libs"]]
    gone = set()
    for path in orphans:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if any(fnmatch.fnmatchcase(folder, g) for g in globs):
                if not any(p.startswith(folder + "/") for p in files):
                    gone.add(folder)
                break
    return tuple(f"{folder} was removed or is no longer a unit: nothing to run for it" for folder in sorted(gone))


def _listing(paths: list[str]) -> str:
    return paths[0] if len(paths) == 1 else f"{paths[0]} and {len(paths) - 1} more file(s)"
