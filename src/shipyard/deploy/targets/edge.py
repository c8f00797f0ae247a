"""The local edge: one small container per environment that keeps every port served.

Services run on the environment's docker network, each container with its own address,
so a new container can be started and health-checked next to the old one. The edge
(``edge_proxy.py`` in the base image, host networking) owns the stable addresses:

- ``service:<name>``  127.0.0.1:<public port> -> the live container's address:<port>
- ``host:<port>``     <network gateway>:<port> -> 127.0.0.1:<port>, so containers reach
  services that listen on the host's loopback only (PostgreSQL in DATABASE_URL)

Switching a service to new containers rewrites routes.json (one atomic rename); the edge
applies it within a fraction of a second and acknowledges in status.json, and only then
are the old containers stopped. A failed roll-out never touches the routes.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from shipyard.core.errors import ShipyardError
from shipyard.deploy.targets.containers import (
    ENV,
    ROLE,
    ROOT,
    ContainerSpec,
    create_command,
    docker,
    edge_name,
    inspect,
    logs_command,
    remove_command,
    start_command,
)
from shipyard.run.proc import run

SCRIPT = Path(__file__).with_name("edge_proxy.py")
MOUNT = "/edge"
APPLY_TIMEOUT = 20.0


@dataclass(frozen=True)
class Route:
    """Forward connections on ``listen`` to ``target`` (both host, port)."""

    name: str
    listen: tuple[str, int]
    target: tuple[str, int]

    @property
    def address(self) -> str:
        return f"{self.listen[0]}:{self.listen[1]}"


def edge_spec(env: str, folder: Path, image: str) -> ContainerSpec:
    """The edge container: host networking, the routes folder mounted, run as the current user."""
    return ContainerSpec(
        name=edge_name(env),
        image=image,
        labels=((ENV, env), (ROLE, "edge"), (ROOT, str(folder))),
        network="host",
        mounts=(f"{folder}:{MOUNT}",),
        user=f"{os.getuid()}:{os.getgid()}",
        command=("python3", f"{MOUNT}/edge_proxy.py", f"{MOUNT}/routes.json", f"{MOUNT}/status.json"),
    )


class Edge:
    """The routes of one environment and the container that serves them."""

    def __init__(self, folder: Path, env: str, image: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.folder, self.env, self.image, self.sleep = folder, env, image, sleep
        self._lock = threading.Lock()  # services of one wave roll out in parallel threads

    @property
    def routes_file(self) -> Path:
        return self.folder / "routes.json"

    def routes(self) -> dict[str, Route]:
        try:
            raw = json.loads(self.routes_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {r["name"]: Route(r["name"], tuple(r["listen"]), tuple(r["target"])) for r in raw.get("routes", [])}

    def _version(self) -> int:
        try:
            return int(json.loads(self.routes_file.read_text(encoding="utf-8")).get("version", 0))
        except (OSError, ValueError):
            return 0

    def update(self, changes: Mapping[str, Route | None], say: Callable[[str], None] = lambda _: None) -> None:
        """Add, replace (or with None remove) routes; returns once the edge serves them."""
        with self._lock:
            self._update(changes, say)

    def _update(self, changes: Mapping[str, Route | None], say: Callable[[str], None]) -> None:
        routes = self.routes()
        for name, route in changes.items():
            if route is None:
                routes.pop(name, None)
            else:
                self._check_free(routes, route)
                routes[name] = route
        version = self._version() + 1
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"version": version, "routes": [asdict(r) for r in sorted(routes.values(), key=lambda r: r.name)]}
        tmp = self.routes_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, self.routes_file)
        self.ensure(say)
        self._wait_applied(version, [r for r in changes.values() if r is not None])

    def _check_free(self, routes: Mapping[str, Route], route: Route) -> None:
        for other in routes.values():
            if other.name != route.name and other.listen == route.listen:
                raise ShipyardError(
                    f"{route.name} and {other.name} both want {route.address}",
                    hint=f"give one of them another port in [tool.shipyard.environments.{self.env}] urls",
                )

    def ensure(self, say: Callable[[str], None] = lambda _: None) -> None:
        """The edge container runs with the current script; (re)created when it does not.

        The environment is this engine's, not one checkout's: an edge left by another
        checkout (a fresh clone, a moved or deleted one) is taken over, and ``say`` tells."""
        self.folder.mkdir(parents=True, exist_ok=True)
        script = self.folder / SCRIPT.name
        changed = not script.is_file() or script.read_bytes() != SCRIPT.read_bytes()
        if changed:
            shutil.copyfile(SCRIPT, script)
        spec = edge_spec(self.env, self.folder, self.image)
        found = inspect([spec.name])
        owner = found[0].labels.get(ROOT, "") if found else ""
        if found and owner == str(self.folder) and found[0].running and not changed:
            return
        if found and owner != str(self.folder):
            say(f"{spec.name} served another checkout ({owner or 'unknown'}); this one takes it over")
        if found:
            docker(remove_command(spec.name), f"replace {spec.name}")
        docker(create_command(spec), f"create {spec.name}")
        docker(start_command(spec.name), f"start {spec.name}")

    def problem(self) -> str:
        """Why the edge does not serve this checkout's routes right now; "" when it does."""
        found = inspect([edge_name(self.env)])
        if not found:
            return "the edge container is missing"
        if found[0].labels.get(ROOT) != str(self.folder):
            return "the edge serves another checkout"
        if not found[0].running:
            return f"the edge container is {found[0].status}"
        if not (self.folder / SCRIPT.name).is_file():
            return "the edge's files are missing"
        return ""

    def _wait_applied(self, version: int, wanted: list[Route]) -> None:
        deadline = time.monotonic() + APPLY_TIMEOUT
        status_file = self.folder / "status.json"
        while True:
            try:
                status = json.loads(status_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                status = {}
            if int(status.get("version", 0)) >= version:
                break
            if time.monotonic() > deadline:
                logs = run(logs_command(edge_name(self.env))).output.strip()
                raise ShipyardError(
                    f"the edge did not apply its routes in {APPLY_TIMEOUT:.0f}s: {logs[-300:]}",
                    hint=f"docker logs {edge_name(self.env)}",
                )
            self.sleep(0.1)
        errors: dict[str, str] = status.get("errors", {})
        for route in wanted:
            # a host port the edge cannot take is one the host already serves on all addresses
            if route.address in errors and route.name.startswith("service:"):
                raise ShipyardError(
                    f"cannot publish {route.name.split(':', 1)[1]} on {route.address}: {errors[route.address]}",
                    hint="something else listens there (docker compose up?): stop it, "
                    f"or choose another port with urls in [tool.shipyard.environments.{self.env}]",
                )

    def remove(self) -> None:
        run(remove_command(edge_name(self.env)))
