"""Test services: services of the root compose file that a unit's tests need (``test-services``),
started healthy before the tests and removed after.

One stack per run, shared by every unit that names a service. Afterwards the compose project's
containers are as they were: the ones shipyard created are removed (with their anonymous
volumes), the ones it started are stopped, the ones already running (a developer's own
``docker compose up``) were used as they are and keep running. ``SHIPYARD_TEST_SERVICES=external``
says the environment provides them (GitHub Actions ``services:``): nothing is started.

Health is polled with ``docker inspect`` rather than ``up --wait``: docker-compose v1 (1.29)
has no ``--wait``, and one way of waiting serves it and the ``docker compose`` plugin alike.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.core.errors import ConfigError, ShipyardError, did_you_mean
from shipyard.core.project import Project, Unit
from shipyard.run.keys import digest
from shipyard.run.proc import Command, Completed, command, run

FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")  # compose's own order
MODE_ENV = "SHIPYARD_TEST_SERVICES"  # "external": the environment provides them; "start" (default)
MODES = ("start", "external")
WAIT_SECONDS = 300  # a service still starting after this long is reported, not waited on forever
POLL_SECONDS = 1.0
LOG_LINES = 30  # of a service that failed, shown with the error
_SERVICE_LABEL = "com.docker.compose.service"
_ID = re.compile(r"^[0-9a-f]{12,64}$")  # ps -q prints ids; compose's warnings share the output
# the state as JSON: the engine's templates fail on .State.Health of a container without a healthcheck
_FORMAT = '{{.Id}}|{{index .Config.Labels "' + _SERVICE_LABEL + '"}}|{{json .State}}'


def compose_file(root: Path) -> Path | None:
    """The root compose file, as compose itself looks for it."""
    return next((root / name for name in FILES if (root / name).is_file()), None)


def definitions(project: Project, unit: Unit) -> dict[str, Any]:
    """The compose definitions of ``unit``'s test services and of the services they depend on
    (compose starts those too); an unknown name is a config error with a did-you-mean."""
    names = unit.settings["test-services"]
    if not names:
        return {}
    path = compose_file(project.root)
    if path is None:
        raise ConfigError(
            f"{unit.source}: test-services: no compose file at the repository root ({' or '.join(FILES[::3])})",
            hint="define the services in the root docker-compose.yml, or remove test-services",
        )
    services = _services(path, project.root)
    for name in names:
        if name not in services:
            raise ConfigError(
                f"{unit.source}: test-services: {path.name} has no service {name!r}{did_you_mean(name, services)}",
                hint=f"services in {path.name}: " + (", ".join(sorted(services)) or "none"),
            )
    found: dict[str, Any] = {}
    for name in names:
        closure(services, name, found)
    return found


def services_key(project: Project, unit: Unit) -> str:
    """What of the compose file enters ``unit``'s test key: its services' definitions."""
    found = definitions(project, unit)
    return digest(json.loads(json.dumps(found, default=str))) if found else ""


def closure(services: Mapping[str, Any], name: str, found: dict[str, Any]) -> None:
    """Add ``name`` and, transitively, the services it ``depends_on`` to ``found`` (in that order)."""
    if name in found or name not in services:
        return
    found[name] = services[name]
    needs = services[name].get("depends_on") if isinstance(services[name], dict) else None
    for dep in needs or ():  # a list of names, or a table of name -> condition
        closure(services, str(dep), found)


def _services(path: Path, root: Path) -> dict[str, Any]:
    import yaml

    rel = path.relative_to(root).as_posix()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{rel}: cannot read it: {problem}", hint="`docker compose config` checks it") from None
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        raise ConfigError(f"{rel}: no `services:` table", hint="test-services name services of the compose file")
    return services


@functools.cache
def cli() -> tuple[str, ...]:
    """The compose command installed: the ``docker compose`` plugin, else docker-compose."""
    if shutil.which("docker"):
        found = subprocess.run(("docker", "compose", "version"), capture_output=True, check=False)
        if found.returncode == 0:
            return ("docker", "compose")
    if shutil.which("docker-compose"):
        return ("docker-compose",)
    raise ShipyardError(
        "test-services and invoke integration need Docker Compose, and neither `docker compose` nor"
        " docker-compose is installed",
        hint=f"install the compose plugin, or set {MODE_ENV}=external where the environment provides the services",
    )


def mode() -> str:
    value = os.environ.get(MODE_ENV, "") or "start"
    if value not in MODES:
        raise ShipyardError(
            f"{MODE_ENV}={value!r}: expected one of {', '.join(MODES)}{did_you_mean(value, MODES)}",
            hint=f"{MODE_ENV}=external when CI provides the services (GitHub Actions services:), else unset it",
        )
    return value


@dataclass(frozen=True)
class Container:
    """One container of the compose project, as docker inspect sees it."""

    id: str
    service: str
    status: str  # created, running, restarting, exited, dead...
    health: str  # "" without a healthcheck; starting, healthy, unhealthy

    @property
    def ready(self) -> bool:
        return self.status == "running" and self.health in ("", "healthy")

    @property
    def broken(self) -> str:
        """Why it will not become ready ("" while it still may)."""
        if self.health == "unhealthy":
            return "unhealthy"
        return self.status if self.status in ("exited", "dead", "restarting") else ""


@dataclass(frozen=True)
class Stack:
    """The repository's compose project, driven through its CLI."""

    root: Path
    cli: tuple[str, ...]
    files: tuple[Path, ...] = ()  # -f each, in order; none: compose's own lookup from root
    name: str = ""  # -p: a compose project of its own (invoke integration); "": compose's default
    role: str = "test service"  # how errors name a service

    def compose(self, *args: str) -> Command:
        chosen = [arg for path in self.files for arg in ("-f", str(path))]
        return command(*self.cli, *chosen, *(("-p", self.name) if self.name else ()), *args, cwd=self.root)

    def containers(self) -> list[Container]:
        ids = [word for word in _checked(run(self.compose("ps", "-a", "-q"))).split() if _ID.match(word)]
        if not ids:
            return []
        done = run(command("docker", "inspect", "--format", _FORMAT, *ids))
        # a container removed between ps and inspect makes inspect fail for it only
        return [_container(line) for line in done.output.splitlines() if line.count("|") >= 2]

    def start(self, names: Sequence[str], before: Sequence[Container]) -> None:
        already = sorted({c.service for c in before if c.status == "running"} & set(names))
        if already:
            print(f"test services already running, used as they are: {', '.join(already)}", flush=True)
        todo = [n for n in names if n not in already]
        if todo:
            print(f"starting test services: {', '.join(todo)} ({' '.join(self.cli)})", flush=True)
            done = run(self.compose("up", "-d", *todo))
            if not done.ok:
                show_tail(done.output)
                raise ShipyardError(
                    f"test services {', '.join(todo)} did not start: `{done.command}` exited {done.returncode}",
                    hint="its output is above; `docker compose up` them by hand to see why",
                )
        self.wait(names)
        print(f"test services healthy: {', '.join(names)}", flush=True)

    def wait(self, names: Sequence[str]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            mine = [c for c in self.containers() if c.service in names]
            for container in mine:
                if container.broken:
                    self._fail(container.service, f"is {container.broken}")
            if {c.service for c in mine} >= set(names) and all(c.ready for c in mine):
                return
            if time.monotonic() > deadline:
                waiting = next((c.service for c in mine if not c.ready), names[0])
                self._fail(waiting, f"is not healthy after {WAIT_SECONDS} s")
            time.sleep(POLL_SECONDS)

    def _fail(self, service: str, what: str) -> None:
        show_tail(run(self.compose("logs", "--no-color", "--tail", str(LOG_LINES), service)).output)
        raise ShipyardError(
            f"{self.role} {service} {what}",
            hint=f"its last log lines are above; check its command and healthcheck in {compose_file(self.root)}",
        )

    def restore(self, before: Sequence[Container]) -> None:
        """Remove what this run created and stop what it started; leave the rest as it was."""
        was = {c.id: c for c in before}
        now = self.containers()
        created = [c for c in now if c.id not in was]
        started = [c for c in now if c.id in was and was[c.id].status != "running" and c.status == "running"]
        if started:
            run(command("docker", "stop", *(c.id for c in started)))
        if created:
            run(command("docker", "rm", "--force", "--volumes", *(c.id for c in created)))
        if created and not before:
            run(self.compose("down"))  # no container left: this removes the network `up` made
        gone = sorted({c.service for c in (*created, *started)})
        if gone:
            print(f"removed test services: {', '.join(gone)}", flush=True)


def _container(line: str) -> Container:
    ident, service, state = line.split("|", 2)
    found = json.loads(state)
    health = found.get("Health") or {}
    return Container(ident, service, str(found.get("Status", "")), str(health.get("Status", "")))


@contextlib.contextmanager
def running(project: Project, names: Sequence[str]) -> Iterator[None]:
    """``names`` healthy for the duration of the block (nothing started in ``external`` mode);
    afterwards, also on failure and Ctrl-C, the compose project is as it was."""
    if mode() == "external":
        print(f"test services {', '.join(names)}: provided by the environment ({MODE_ENV}=external)", flush=True)
        yield
        return
    stack = Stack(project.root, cli())
    before = stack.containers()
    try:
        stack.start(names, before)
        yield
    finally:
        stack.restore(before)


def _checked(done: Completed) -> str:
    if not done.ok:
        show_tail(done.output)
        raise ShipyardError(
            f"`{done.command}` exited {done.returncode}",
            hint="its output is above; is the Docker engine running (docker info)?",
        )
    return done.output


def show_tail(output: str) -> None:
    """The last LOG_LINES lines of a compose command's output, indented, on stderr."""
    lines = output.rstrip().splitlines()[-LOG_LINES:]
    print("".join(f"    {line}\n" for line in lines), end="", file=sys.stderr, flush=True)
