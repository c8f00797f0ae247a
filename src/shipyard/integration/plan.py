"""What an integration run is: the settings, the compose services and which are units, the cache key.

Which service is which unit: a service whose ``build:`` Dockerfile is a unit's Dockerfile is that
unit; else one whose ``build:`` context is a unit's directory; else a service named like a unit
with an image. Other services run as the compose file says.

The result is cached by the images' fingerprints, the compose files (their text and the
configuration compose resolves from them), the other services' local image ids, the tests'
files and the settings: a second run with nothing changed is a cache hit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shipyard.ci import compose
from shipyard.core.errors import ConfigError, ShipyardError, did_you_mean
from shipyard.core.project import Project, Unit
from shipyard.run.keys import SCHEMA, digest
from shipyard.run.proc import command, run

TASK = "integration"
UNIT = "stack"  # the results' unit: the whole stack, not one service
SOURCE = "pyproject.toml: tool.shipyard.integration"
_TOP_KEY = re.compile(r"^[a-z][a-z_-]*:( |$)")  # services:, name:, version: ... (not WARNING:)
EXAMPLE = 'integration = { service = "test" } or integration = { command = ["pytest", "tests/integration"] }'


@dataclass(frozen=True)
class Settings:
    """``[tool.shipyard.integration]``, validated (schema.py did the types)."""

    service: str
    command: tuple[str, ...]
    compose_files: tuple[str, ...]
    services: tuple[str, ...]
    tests: tuple[str, ...]

    @classmethod
    def of(cls, project: Project) -> Settings:
        from shipyard.core.config import INTEGRATION_FIELDS

        if not project.settings["integration"]:  # an absent table validates to {}
            raise ConfigError(
                f"{SOURCE}: not set: invoke integration needs the tests' service or command", hint=EXAMPLE
            )
        table = {k: f.default for k, f in INTEGRATION_FIELDS.items()} | project.settings["integration"]
        if bool(table["service"]) == bool(table["command"]):
            what = "sets both service and command" if table["service"] else "sets neither service nor command"
            raise ConfigError(f"{SOURCE}: {what}: the tests are one or the other", hint=EXAMPLE)
        return cls(
            table["service"],
            tuple(table["command"]),
            tuple(table["compose-files"]),
            tuple(table["services"]),
            tuple(table["tests"]),
        )


@dataclass(frozen=True)
class Plan:
    """One run: the compose files, the resolved services, which are units, what starts, the key."""

    root: Path
    settings: Settings
    files: tuple[Path, ...]
    services: Mapping[str, Any]  # as `compose config` resolves them
    units: Mapping[str, Unit]  # compose service -> the unit whose image it runs
    started: tuple[str, ...]
    key: str

    @property
    def needed(self) -> list[str]:
        """The services that run: the started ones, what they depend on, and the test service."""
        found: dict[str, Any] = {}
        for name in (*self.started, *([self.settings.service] if self.settings.service else [])):
            compose.closure(self.services, name, found)
        return list(found)


def plan(project: Project, files: Mapping[str, str]) -> Plan:
    """Validate the settings against the compose files and compute the run's cache key."""
    settings = Settings.of(project)
    paths = compose_files(project, settings)
    services = resolved(project.root, paths)
    _check_names(settings, services, paths[0].name)
    started = settings.services or tuple(n for n in services if n != settings.service)
    units = matched_units(project, services)
    draft = Plan(project.root, settings, paths, services, units, started, "")
    return replace(draft, key=cache_key(project, draft, files))


def compose_files(project: Project, settings: Settings) -> tuple[Path, ...]:
    if not settings.compose_files:
        found = compose.compose_file(project.root)
        if found is None:
            raise ConfigError(
                f"{SOURCE}: no compose file at the repository root ({', '.join(compose.FILES)})",
                hint="add docker-compose.yml, or name the files: compose-files = [...]",
            )
        return (found,)
    paths = tuple(project.root / name for name in settings.compose_files)
    for name, path in zip(settings.compose_files, paths, strict=True):
        if not path.is_file():
            raise ConfigError(f"{SOURCE}: compose-files: no file {name}", hint="paths are from the repository root")
    return paths


def resolved(root: Path, files: Sequence[Path]) -> dict[str, Any]:
    """The services as compose merges and resolves them (absolute build contexts and mounts)."""
    import yaml

    done = run(compose.Stack(root, compose.cli(), tuple(files)).compose("config"))
    if not done.ok:
        compose.show_tail(done.output)
        raise ShipyardError(
            f"`{done.command}` exited {done.returncode}: the compose file is not valid",
            hint="its output is above; fix the compose file",
        )
    lines = done.output.splitlines()  # compose's warnings (stderr) come first: the YAML starts at a key
    start = next((i for i, line in enumerate(lines) if _TOP_KEY.match(line)), len(lines))
    try:
        data = yaml.safe_load("\n".join(lines[start:]))
    except yaml.YAMLError as exc:  # a warning printed amid the YAML (stdout and stderr are one stream)
        compose.show_tail(done.output)
        raise ShipyardError(
            f"`{done.command}` printed something that is not the resolved compose file ({type(exc).__name__})",
            hint="its output is above; a warning compose prints amid the file is the usual cause",
        ) from None
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict) or not services:
        raise ConfigError(f"{files[0].name}: no services", hint="invoke integration runs the compose file's services")
    return services


def _check_names(settings: Settings, services: Mapping[str, Any], file: str) -> None:
    known = f"services in {file}: " + ", ".join(sorted(services))
    if settings.service and settings.service not in services:
        what = f"{settings.service!r}{did_you_mean(settings.service, services)}"
        raise ConfigError(f"{SOURCE}: service: {file} has no service {what}", hint=known)
    for name in settings.services:
        if name not in services:
            raise ConfigError(
                f"{SOURCE}: services: {file} has no service {name!r}{did_you_mean(name, services)}", hint=known
            )
        if name == settings.service:
            raise ConfigError(f"{SOURCE}: services: {name} is the test service", hint="it runs after the others")


def matched_units(project: Project, services: Mapping[str, Any]) -> dict[str, Unit]:
    """Compose service -> the shipyard unit whose image it runs (the rule in the module docstring)."""
    images = [u for u in project.units.values() if u.has_image]
    found = {}
    for name, spec in services.items():
        build = spec.get("build") if isinstance(spec, dict) else None
        unit = _by_build(project, images, build) if build else None
        unit = unit or next((u for u in images if u.name == name), None)
        if unit is not None:
            found[name] = unit
    return found


def _by_build(project: Project, units: Sequence[Unit], build: Any) -> Unit | None:
    from shipyard.images.dockerfile import dockerfile_path

    context = Path(build if isinstance(build, str) else build.get("context", ".")).resolve()
    dockerfile = context / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
    found = next((u for u in units if dockerfile == dockerfile_path(project, u).resolve()), None)
    root = project.root.resolve()
    return found or next((u for u in units if context == root / u.path), None)


def cache_key(project: Project, draft: Plan, files: Mapping[str, str]) -> str:
    """What the result depends on; see the module docstring."""
    from shipyard.core.fingerprint import shipyard_source
    from shipyard.images.settings import image_fingerprint

    needed = draft.needed
    images = {s: image_fingerprint(project, u, files).digest for s, u in draft.units.items() if s in needed}
    others = {s: _image_id(draft.services[s]) for s in needed if s not in draft.units}
    built = {s: _built_from(project, draft.services[s], files) for s in needed if s not in draft.units}
    texts = {str(p.relative_to(project.root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in draft.files}
    return digest(
        {
            "cache-schema": SCHEMA,
            "shipyard-source": shipyard_source(),
            "compose": [" ".join(compose.cli()), texts, _portable(project.root, draft.services)],
            "images": images,
            "other-images": others,
            "other-builds": {s: b for s, b in built.items() if b},  # a helper service compose builds
            "tests": test_files(project, draft, files),
            "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in draft.settings.__dict__.items()},
            "started": list(draft.started),
        }
    )


def _portable(root: Path, services: Mapping[str, Any]) -> str:
    """The resolved services' digest, with the repository's absolute path (build contexts, bind
    mounts) as ``.``: a clone elsewhere computes the same key."""
    text = json.dumps(services, sort_keys=True, default=str)
    for path in {str(root.resolve()), str(root)}:
        text = text.replace(json.dumps(path)[1:-1], ".")
    return digest(text)


def _built_from(project: Project, spec: Any, files: Mapping[str, str]) -> dict[str, str]:
    """The tracked files a service that compose builds itself (``build:``, not a unit) reads."""
    if not (isinstance(spec, dict) and spec.get("build")):
        return {}
    folders = _service_paths(project.root, spec)
    return _under(files, folders)


def _image_id(spec: Any) -> str:
    """The local image id a service without a unit runs ("" when it has none yet)."""
    ref = spec.get("image") if isinstance(spec, dict) else None
    if not ref:
        return ""
    done = run(command("docker", "image", "inspect", "--format", "{{.Id}}", str(ref)))
    return done.output.strip() if done.ok else ""


def test_files(project: Project, draft: Plan, files: Mapping[str, str]) -> dict[str, str]:
    """The files the tests read (path -> blob id): ``tests``; by default the test service's build
    context and bind mounts, or, for a command, every file outside the units."""
    settings = draft.settings
    folders = [p.rstrip("/") for p in settings.tests]
    for path in folders:
        if path not in files and not any(f.startswith(path + "/") for f in files):
            raise ConfigError(f"{SOURCE}: tests: {path!r} has no file", hint="paths are from the repository root")
    if not folders and settings.service:
        folders = _service_paths(project.root, draft.services[settings.service])
    if not folders:
        units = [u.path + "/" for u in project.units.values()]
        return {p: b for p, b in files.items() if not any(p.startswith(u) for u in units)}
    return _under(files, folders)


def _under(files: Mapping[str, str], folders: Sequence[str]) -> dict[str, str]:
    """The files in ``folders`` (or being one of them; "" or "." is the whole repository)."""
    return {p: b for p, b in files.items() if any(f in ("", ".") or p == f or p.startswith(f + "/") for f in folders)}


def _service_paths(root: Path, spec: Any) -> list[str]:
    """The repository paths a service reads: its build context and bind-mounted sources."""
    if not isinstance(spec, dict):
        return []
    build = spec.get("build")
    sources = [build if isinstance(build, str) else build.get("context", ".")] if build else []
    for volume in spec.get("volumes") or ():
        source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":", 1)[0]
        if source and os.path.isabs(source):
            sources.append(source)
    base = root.resolve()
    found = []
    for source in sources:
        path = Path(source).resolve()
        if path == base or base in path.parents:
            found.append(path.relative_to(base).as_posix() or ".")
    return found


def project_name(root: Path) -> str:
    """A compose project of this run's own: the repository's and a random part (parallel runs)."""
    return f"shipyard-it-{digest(str(root.resolve()))[:8]}-{secrets.token_hex(4)}"
