"""The `dockerfile` build mode: a team's own Dockerfile, built the way `docker build` builds it.

A unit's Dockerfile that is not written for the hermetic contract (it copies no `deps/` or
`app/` wheels) is built as it is: with its own context (the unit's directory, or `context`
relative to the repository root, as `docker build -f backend/Dockerfile .` does), its
`target` and `build-args`, and Docker's default networking. Its fingerprint covers the
context as Docker sees it (tracked and untracked files less `.dockerignore`), the
Dockerfile, the build args and the target.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shipyard.core.errors import ConfigError
from shipyard.core.fingerprint import content_hash
from shipyard.core.project import Project, Unit
from shipyard.run.proc import Command, command

HERMETIC, DOCKERFILE = "hermetic", "dockerfile"
# A hermetic Dockerfile copies the wheels shipyard stages: `COPY deps/ ...`, `COPY app/ ...`
_HERMETIC_COPY = re.compile(r"^\s*COPY\s+(?:--\S+\s+)*(deps|app)/", re.IGNORECASE | re.MULTILINE)
_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE | re.MULTILINE)
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE)


_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(?P<image>\S+)(?:\s+AS\s+(?P<stage>\S+))?", re.IGNORECASE | re.MULTILINE)
_ARG_DEFAULT = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)", re.IGNORECASE | re.MULTILINE)
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


@dataclass(frozen=True)
class View:
    """What shipyard reads from a Dockerfile, read once per file version (see :func:`view`)."""

    exists: bool
    hermetic: bool  # copies the wheels shipyard's hermetic context stages
    args: frozenset[str]  # declared ARG names
    defaults: tuple[tuple[str, str], ...]  # ARG name=value defaults
    froms: tuple[tuple[str, str], ...]  # (image reference as written, stage name or "")

    def base_images(self, base_image: str) -> list[str]:
        """The images the FROM lines pull in, ARGs expanded (BASE_IMAGE as ``base_image``),
        leaving out earlier stages and ``scratch``."""
        values = dict(self.defaults) | {"BASE_IMAGE": base_image}
        stages: set[str] = set()
        found = []
        for image, stage in self.froms:
            ref = _VARIABLE.sub(lambda m: values.get(m[1], m[0]), image)
            if ref.lower() not in stages and ref != "scratch" and ref not in found:
                found.append(ref)
            if stage:
                stages.add(stage.lower())
        return found


def dockerfile_path(project: Project, unit: Unit) -> Path:
    return project.root / unit.path / str(unit.settings["dockerfile"])


def view(path: Path) -> View:
    """The Dockerfile at ``path``, parsed once per version of the file (by size and mtime)."""
    try:
        stat = path.stat()
    except OSError:
        return View(False, False, frozenset(), (), ())
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _parse(path: Path, mtime_ns: int, size: int) -> View:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return View(False, False, frozenset(), (), ())
    froms = tuple((m["image"], m["stage"] or "") for m in _FROM.finditer(text))
    defaults = tuple((m[1], m[2].strip("\"'")) for m in _ARG_DEFAULT.finditer(text))
    return View(True, written_for_hermetic(text), frozenset(_ARG.findall(text)), defaults, froms)


def written_for_hermetic(text: str, context: Path | None = None) -> bool:
    """Whether a Dockerfile copies the wheels shipyard's hermetic context stages. A `COPY app/`
    of a directory the build ``context`` has of its own (a FastAPI project's `app/` package) is
    the team's code, not shipyard's staged wheels."""
    staged = set(_HERMETIC_COPY.findall(text))
    if context is not None:
        staged = {name for name in staged if not (context / name).is_dir()}
    return bool(staged)


def build_mode(project: Project, unit: Unit) -> str:
    """`build-mode` when set; otherwise hermetic for a Dockerfile written for it, else dockerfile."""
    if unit.settings["build-mode"]:
        return str(unit.settings["build-mode"])
    found = view(dockerfile_path(project, unit))
    if not found.exists:
        return HERMETIC  # no Dockerfile: the hermetic checks report it
    if not found.hermetic:
        return DOCKERFILE
    text = dockerfile_path(project, unit).read_text(encoding="utf-8", errors="replace")
    return HERMETIC if written_for_hermetic(text, project.root / context_dir(unit)) else DOCKERFILE


def context_dir(unit: Unit) -> str:
    """The build context, relative to the repository root ("" for the root itself)."""
    rel = os.path.normpath(unit.settings["context"] or unit.path).replace(os.sep, "/")
    return "" if rel == "." else rel


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    keep: bool  # a `!pattern` exception


def _regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regular expression."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : end].replace("!", "^", 1) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def ignore_patterns(text: str) -> list[_Pattern]:
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        cleaned = os.path.normpath(line[1:].strip() if keep else line).replace(os.sep, "/").lstrip("/")
        patterns.append(_Pattern(_regex(cleaned), keep))
    return patterns


def ignored(path: str, patterns: list[_Pattern]) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out: the last matching pattern
    decides, and a pattern matching a parent directory matches everything under it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for pattern in patterns:
        if any(pattern.regex.fullmatch(prefix) for prefix in prefixes):
            verdict = not pattern.keep
    return verdict


def context_files(project: Project, unit: Unit, files: Mapping[str, str]) -> list[tuple[str, str]]:
    """The files Docker sends for ``unit``'s build: (repository path, blob id), less .dockerignore."""
    context = context_dir(unit)
    prefix = f"{context}/" if context else ""
    ignore_file = f"{prefix}.dockerignore"
    ignore_text = (project.root / ignore_file).read_text(encoding="utf-8") if ignore_file in files else ""
    patterns = ignore_patterns(ignore_text)
    found = [(p, h) for p, h in files.items() if p.startswith(prefix) and not ignored(p[len(prefix) :], patterns)]
    if ignore_file in files:  # Docker reads it even when it ignores itself
        found.append((f"file:{ignore_file}", content_hash(project.root, ignore_file) or "missing"))
    return found


def declared_args(project: Project, unit: Unit) -> set[str]:
    return set(view(dockerfile_path(project, unit)).args)


def build_args(project: Project, unit: Unit, base_image: str) -> dict[str, str]:
    """The unit's build args, plus BASE_IMAGE from [tool.shipyard.image] when the Dockerfile
    declares it (and the unit does not set it): an undeclared one would do nothing."""
    args = dict(unit.settings["build-args"])
    if "BASE_IMAGE" in declared_args(project, unit):
        args.setdefault("BASE_IMAGE", base_image)
    return args


def check_dockerfile_inputs(project: Project, unit: Unit) -> Path:
    """The context exists inside the repository, and every build arg is declared and not a secret."""
    context = project.root / context_dir(unit)
    if not context.is_dir():
        raise ConfigError(
            f"{unit.source}: context: {context_dir(unit) or '.'} is not a directory",
            hint='set `context` relative to the repository root, e.g. context = "."',
        )
    declared = declared_args(project, unit)
    secret = set(unit.settings["secret-env"])
    for name in unit.settings["build-args"]:
        if name in secret or _SECRET_NAME.search(name):
            raise ConfigError(
                f"{unit.source}: build-args: {name} looks like a secret; build args are stored in the image",
                hint="pass it at run time (env / secret-env), or as a BuildKit secret mount",
            )
        if name not in declared:
            raise ConfigError(
                f"{unit.source}: build-args: {unit.path}/{unit.settings['dockerfile']} never declares ARG {name}",
                hint=f"add `ARG {name}` to the Dockerfile (after FROM for the stage that uses it), or drop the arg",
            )
    return context


def build_command(
    project: Project,
    unit: Unit,
    *,
    tags: tuple[str, ...],
    labels: tuple[tuple[str, str], ...],
    platform: str,
    base_image: str,
    no_cache: bool,
    buildx: bool,
    source_date_epoch: str = "",
) -> Command:
    """``docker build -f <Dockerfile> <context>`` with the unit's target and build args."""
    argv = ["docker", "buildx", "build", "--load"] if buildx else ["docker", "build", "--force-rm"]
    argv += ["--file", str(dockerfile_path(project, unit)), "--platform", platform]
    if unit.settings["target"]:
        argv += ["--target", unit.settings["target"]]
    for name, value in sorted(build_args(project, unit, base_image).items()):
        argv += ["--build-arg", f"{name}={value}"]
    if no_cache:
        argv.append("--no-cache")
    if buildx and source_date_epoch:  # see images.plan.build_command
        argv += ["--build-arg", f"SOURCE_DATE_EPOCH={source_date_epoch}"]
    for key, value in labels:
        argv += ["--label", f"{key}={value}"]
    for tag in tags:
        argv += ["--tag", tag]
    argv.append(str(project.root / context_dir(unit)))
    return command(*argv, env=None if buildx else {"DOCKER_BUILDKIT": "0"})


_MISSING_SOURCE = re.compile(r"(?:COPY|ADD) failed: .*?(?:stat |file not found.*?: )(?:stat )?(?P<path>[^:\s]+)")
_MISSING_SOURCE_BUILDKIT = re.compile(r'"(?P<path>[^"]+)": not found')
_PULL = re.compile(
    r"pull access denied for (?P<a>[^\s,]+)|manifest for (?P<b>\S+) not found|"
    r"failed to resolve source metadata for (?P<c>\S+)|Get \"https://(?P<d>[^/\"]+)/v2/"
)


def explain_failure(unit: Unit, output: str) -> str:
    """What a failed build of ``unit`` needs, in words, from Docker's log ("" when unknown)."""
    context = context_dir(unit) or "."
    if m := _MISSING_SOURCE.search(output) or _MISSING_SOURCE_BUILDKIT.search(output):
        return (
            f"{m['path']} is not in the build context {context} (or .dockerignore leaves it out); "
            "set `context` to the directory the Dockerfile's COPY paths are relative to "
            '(context = "." for the repository root)'
        )
    if m := _PULL.search(output):
        image = next(v for v in m.groups() if v)
        return f"the base image {image} could not be pulled; pull or build it on this machine, or change FROM"
    return ""


_NETWORK = re.compile(
    r"No matching distribution found for (?P<pin>\S+)|Could not find a version that satisfies the requirement "
    r"(?P<req>\S+)|Failed to establish a new connection|Temporary failure in name resolution|Network is unreachable"
    r"|Could not resolve host"
)


def explain_hermetic_failure(unit: Unit, output: str) -> str:
    """What a failed hermetic build of ``unit`` needs, from Docker's log ("" when unknown)."""
    if m := _NETWORK.search(output):
        what = m["pin"] or m["req"]
        missing = f"{what} is not among the wheels in deps/" if what else "a step tried to reach the network"
        return (
            f"{missing}: a hermetic build runs with --network none, so every package comes from the "
            "staged wheels (pip install --no-index --find-links=/tmp/deps -r /tmp/deps/requirements.lock); "
            f'pin it in {unit.path}\'s lock, or set build-mode = "dockerfile" for a Dockerfile that downloads'
        )
    if m := _PULL.search(output):
        image = next(v for v in m.groups() if v)
        return f"the image {image} is not on this Docker engine, and a hermetic build cannot pull it: `docker pull` it"
    return ""
