"""The local target: services as containers on this machine's Docker engine (no cloud account).

A deploy creates ``shipyard-<env>-<service>-<id>`` (the id hashes image, settings and
command, so an identical release is the container already running) on the
environment's network, next to the live one, and waits for it to become healthy: the
image's HEALTHCHECK, else HTTP GET on the unit's health-path, else a few seconds up
without a restart. Only then does the edge (edge.py) send the service's port to it and
the old container is stopped — kept, stopped, for rollbacks (the newest few). When the
new container does not become healthy it is removed; the old one never stopped serving.
A first deploy that fails later (its smoke check, another service) is taken out again:
its route and live pointer go, its container is removed.

Settings reach containers through a 0600 ``--env-file`` that is deleted as soon as the
container exists; loopback addresses in them (DATABASE_URL=...@127.0.0.1:5432/...) are
rewritten to ``host.docker.internal``, which the edge forwards to the host's loopback.
Static units are served from the base image with ``python -m http.server``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shipyard.core.config import IMAGE_FIELDS
from shipyard.core.errors import ShipyardError
from shipyard.core.project import Unit
from shipyard.core.secrets import REDACTED, Sensitive, redact
from shipyard.deploy.target import Change, DeployFailed, Progress, Release, Running, TargetContext
from shipyard.deploy.targets import containers as dk
from shipyard.deploy.targets.edge import Edge, Route
from shipyard.run.proc import run

if TYPE_CHECKING:
    from shipyard.deploy.targets.runtime_config import RuntimeFile
    from shipyard.settings import Settings

KEEP_STOPPED = 3  # stopped containers kept per service, for rollbacks
POLL = 1.0
MIN_UPTIME = 3.0  # no HEALTHCHECK and no health URL: this long up without a restart is healthy
STATIC_PORT = 8080
SITE_MOUNT = "/srv"
_LOOPBACK = re.compile(r"(?:(?<=[@/])|^)(?:127\.0\.0\.1|localhost)(?=:(\d+))")

Value = str | Sensitive


def rewrite_loopback(value: str) -> tuple[str, tuple[int, ...]]:
    """``value`` with loopback host:port pairs pointed at the host alias, and those ports."""
    ports = tuple(sorted({int(m.group(1)) for m in _LOOPBACK.finditer(value)}))
    return _LOOPBACK.sub(dk.HOST_ALIAS, value), ports


@dataclass(frozen=True)
class Plan:
    """One container to make live for one service."""

    service: str
    spec: dk.ContainerSpec
    env: tuple[tuple[str, Value], ...]  # written to spec.env_file only while `docker create` runs
    port: int  # the container port behind the edge; 0 when nothing is published
    public: tuple[str, int] | None
    health_path: str
    host_ports: tuple[int, ...]  # loopback ports of the host the container needs
    site: tuple[str, str] = ("", "")  # static: (built folder, release folder it is copied to)
    site_files: tuple[str, ...] = ()  # static: the published files
    site_config: RuntimeFile | None = None  # static: the environment's runtime config, written beside them


class LocalTarget:
    """One environment on the local Docker engine."""

    name = "local"

    def __init__(self, ctx: TargetContext, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.project, self.env, self.environment, self.sleep = ctx.project, ctx.env, ctx.environment, sleep
        self.state = ctx.project.root / ".shipyard" / "local" / ctx.env
        self.timeout = float(ctx.environment.get("deploy-timeout", 900))
        # the edge and static sites run on the base image: the one image every build already needs
        self.image = str(ctx.project.settings["image"].get("base-image") or IMAGE_FIELDS["base-image"].default)
        self.network = dk.network_name(ctx.env)
        self.edge = Edge(self.state / "edge", ctx.env, self.image, sleep=sleep)
        self._lock = threading.Lock()  # services of one wave roll out in parallel threads

    # -- the protocol -----------------------------------------------------------------------
    def current(self, unit: Unit) -> Running | None:
        live = self._live(unit)
        return self._running(live) if live else None

    def diff(self, unit: Unit, release: Release, settings: Settings) -> list[Change]:
        plan = self.plan(unit, release, settings, gateway="")
        live = self._live(unit)
        if live and live.name == plan.spec.name:
            problem = self._problem(plan, live)
            return [Change("serving", f"no: {problem}", "yes")] if problem else []
        changes = [Change("container", live.name if live else "(none)", plan.spec.name)]
        old_artifact = live.labels.get(dk.ARTIFACT, "") if live else ""
        if old_artifact != _label(plan, dk.ARTIFACT):
            changes.append(Change("image", old_artifact or "(none)", _label(plan, dk.ARTIFACT)))
        old_env = live.env if live else {}
        for key, value in plan.env:
            new = value.reveal() if isinstance(value, Sensitive) else value
            if old_env.get(key) != new:
                secret = isinstance(value, Sensitive)
                changes.append(
                    Change(
                        f"setting {key}",
                        REDACTED if secret and key in old_env else old_env.get(key, "(unset)"),
                        REDACTED if secret else new,
                    )
                )
        return changes

    def deploy(self, unit: Unit, release: Release, settings: Settings, progress: Progress) -> Running:
        if unit.has_image and not release.artifact:
            raise ShipyardError(f"{unit.name}: no image to deploy", hint="build and push it: invoke push --env local")
        plan = self.plan(unit, release, settings, gateway=self._gateway())
        return self._make_live(unit, plan, progress)

    def rollback(self, unit: Unit, previous: Running, progress: Progress) -> Running:
        found = dk.inspect([previous.revision])
        if not found:
            raise DeployFailed(
                f"cannot put {previous.revision} back: the container was removed (only the newest "
                f"{KEEP_STOPPED} stopped containers are kept); deploy that release again"
            )
        spec = dk.ContainerSpec(found[0].name, found[0].image, tuple(found[0].labels.items()), self.network)
        port, public = self.ports(unit)
        plan = Plan(unit.name, spec, (), port, public, self._health_path(unit), ())
        return self._make_live(unit, plan, progress)

    def undo_first_deploy(self, unit: Unit, progress: Progress) -> None:
        live = self._live(unit)
        if live is None:
            return
        route = f"service:{unit.name}"
        if route in self.edge.routes():
            self.edge.update({route: None}, progress)
        self._set_live(unit.name, None)
        progress(f"first deploy taken out of service: remove {live.name}")
        dk.docker(dk.remove_command(live.name), f"remove {live.name}")

    # -- planning -----------------------------------------------------------------------------
    def plan(self, unit: Unit, release: Release, settings: Settings | None, *, gateway: str) -> Plan:
        """The container that would make ``release`` live (``gateway``: the network's, "" to only compare)."""
        if unit.kind == "static":
            return self._static_plan(unit, release, settings)
        env, host_ports = self._values(unit, settings)
        command = tuple(unit.settings["command"])
        ident = _digest(release.artifact, *(f"{k}={_reveal(v)}" for k, v in env), *command)
        name = dk.container_name(self.env, unit.name, ident)
        spec = dk.ContainerSpec(
            name=name,
            image=release.artifact,
            labels=self._labels(unit, release, ident, release.artifact),
            network=self.network,
            aliases=(unit.name,),
            env_file=str(self.state / "env" / f"{name}.env"),
            hosts=((dk.HOST_ALIAS, gateway),) if gateway else (),
            command=command,
        )
        port, public = self.ports(unit)
        return Plan(unit.name, spec, env, port, public, self._health_path(unit), host_ports)

    def _static_plan(self, unit: Unit, release: Release, settings: Settings | None) -> Plan:
        from shipyard.deploy.targets.runtime_config import revision
        from shipyard.deploy.targets.site import build_site, site_config
        from shipyard.images.static import build_env

        config = site_config(self.project, self.env, unit, settings)  # refuses a secret before the build
        values = build_env(self.project, self.env, unit, settings)
        site = build_site(self.project, unit, release.fingerprint, values)
        # the config is part of what runs (a container and a folder of its own), not of the release
        ident = _digest(site.release_id, self.image, *((config.digest,) if config else ()))
        folder = self.state / "sites" / unit.name / revision(site.release_id, config.digest if config else "")
        spec = dk.ContainerSpec(
            name=dk.container_name(self.env, unit.name, ident),
            image=self.image,
            labels=self._labels(unit, release, ident, release.artifact or site.release_id),
            network=self.network,
            aliases=(unit.name,),
            mounts=(f"{folder}:{SITE_MOUNT}:ro",),
            command=("python3", "-m", "http.server", str(STATIC_PORT), "--directory", SITE_MOUNT),
        )
        port, public = self.ports(unit)
        files = tuple(f.path for f in site.files)
        return Plan(unit.name, spec, (), port, public, "/", (), (str(site.root), str(folder)), files, config)

    def _labels(self, unit: Unit, release: Release, ident: str, artifact: str) -> tuple[tuple[str, str], ...]:
        return (
            (dk.ENV, self.env),
            (dk.SERVICE, unit.name),
            (dk.FINGERPRINT, release.fingerprint),
            (dk.RELEASE, ident),
            (dk.ARTIFACT, artifact),
            (dk.GIT_SHA, release.git_sha),
        )

    def _values(self, unit: Unit, settings: Settings | None) -> tuple[tuple[tuple[str, Value], ...], tuple[int, ...]]:
        """The resolved settings, loopback addresses rewritten; and the host ports they use."""
        from shipyard.settings import resolve

        if settings is None:
            return (), ()
        resolved: Mapping[str, Value] = resolve(settings, self.environment)
        env: list[tuple[str, Value]] = []
        ports: set[int] = set()
        for key, value in sorted(resolved.items()):
            text, used = rewrite_loopback(_reveal(value))
            if "\n" in text:
                raise ShipyardError(
                    f"{unit.name}: setting {key} spans several lines",
                    hint="docker --env-file takes one line per setting",
                )
            env.append((key, Sensitive(text) if isinstance(value, Sensitive) else text))
            ports.update(used)
        return tuple(env), tuple(sorted(ports))

    def ports(self, unit: Unit) -> tuple[int, tuple[str, int] | None]:
        """(container port, public 127.0.0.1 address): ``urls.<service>`` wins, else the unit's port."""
        port = STATIC_PORT if unit.kind == "static" else int(unit.settings["port"])
        url = self.environment.get("urls", {}).get(unit.name, "")
        public = urlsplit(url).port if url else None
        public = public or port or None
        return port, (("127.0.0.1", public) if public and port else None)

    def _health_path(self, unit: Unit) -> str:
        return "/" if unit.kind == "static" else str(unit.settings["health-path"])

    # -- making a container live ----------------------------------------------------------------
    def _make_live(self, unit: Unit, plan: Plan, progress: Progress) -> Running:
        live = self._live(unit)
        if live and live.name == plan.spec.name:
            problem = self._problem(plan, live)
            if not problem:
                progress(f"{live.name} is already live")
                self._retire(unit, live.name, progress)
                return self._running(live)
            # the same release, but not reachable (its checkout's .shipyard was removed, or
            # another checkout deployed it): start it afresh, the way a new release starts
            progress(f"{live.name} runs but does not serve ({problem}): replacing it")
            dk.docker(dk.remove_command(live.name), f"remove {live.name}")
        gateway = self._gateway()
        if plan.host_ports:
            self.edge.update(
                {f"host:{p}": Route(f"host:{p}", (gateway, p), ("127.0.0.1", p)) for p in plan.host_ports}, progress
            )
        created = not dk.inspect([plan.spec.name])
        if created:
            self._create(plan, progress)
        try:
            dk.docker(dk.start_command(plan.spec.name), f"start {plan.spec.name}")
            container = self._wait_healthy(plan, progress)
            self._publish(plan, container, progress)
        except BaseException:
            self._discard(plan.spec.name, created, progress)
            raise
        self._set_live(unit.name, container.name)
        self._retire(unit, container.name, progress)
        return self._running(container)

    def _create(self, plan: Plan, progress: Progress) -> None:
        from shipyard.images.ecr import login_for_pull

        built, folder = plan.site
        if built and not Path(folder).is_dir():
            _copy_site(Path(built), Path(folder), plan.site_files, plan.site_config)
        progress(f"create {plan.spec.name} ({plan.spec.image})")
        env_file = Path(plan.spec.env_file) if plan.spec.env_file else None
        if env_file:
            _write_private(env_file, "".join(f"{k}={_reveal(v)}\n" for k, v in plan.env))
        try:
            login_for_pull(plan.spec.image, self.environment)  # `docker create` pulls what is not here
            dk.docker(dk.create_command(plan.spec), f"create {plan.spec.name}")
        finally:
            if env_file:
                env_file.unlink(missing_ok=True)

    def _wait_healthy(self, plan: Plan, progress: Progress) -> dk.Container:
        deadline, up_since, said = time.monotonic() + self.timeout, 0.0, ""
        while True:
            progress.check()
            found = dk.inspect([plan.spec.name])
            if not found:
                raise DeployFailed(f"{plan.spec.name} disappeared while starting")
            c = found[0]
            if c.status in ("exited", "dead", "restarting") or c.restarts:
                how = "keeps restarting" if c.restarts or c.status == "restarting" else "exited"
                raise DeployFailed(f"{c.name} {how} (exit code {c.exit_code}){self._logs(c.name)}")
            if c.health == "unhealthy":
                raise DeployFailed(f"{c.name} is unhealthy: its HEALTHCHECK fails{self._logs(c.name)}")
            if c.health == "healthy" or (not c.health and self._answers(plan, c)):
                progress(f"{c.name} is healthy")
                return c
            if not c.health and not (plan.port and plan.health_path) and c.running:
                up_since = up_since or time.monotonic()
                if time.monotonic() - up_since >= MIN_UPTIME:
                    progress(f"{c.name} is up (no health check defined)")
                    return c
            if time.monotonic() > deadline:
                raise DeployFailed(
                    f"{c.name} did not become healthy in {self.timeout:.0f}s "
                    f"(health: {c.health or 'no answer'}){self._logs(c.name)}"
                )
            if c.health != said:
                progress(f"waiting for {c.name} (health: {c.health or 'starting'})")
                said = c.health
            self.sleep(POLL)

    def _answers(self, plan: Plan, c: dk.Container) -> bool:
        """HTTP GET on the health path at the container's own address answers 2xx/3xx."""
        ip = c.ips.get(self.network, "")
        if not (plan.port and plan.health_path and ip):
            return False
        try:
            with urllib.request.urlopen(f"http://{ip}:{plan.port}{plan.health_path}", timeout=2) as response:
                return 200 <= int(response.status) < 400
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _publish(self, plan: Plan, c: dk.Container, progress: Progress) -> None:
        if not plan.public:
            return
        name = f"service:{plan.service}"
        before = self.edge.routes().get(name)
        try:
            self.edge.update({name: Route(name, plan.public, (c.ips[self.network], plan.port))}, progress)
        except BaseException:
            self.edge.update({name: before}, progress)
            raise
        progress(f"http://{plan.public[0]}:{plan.public[1]} -> {c.name}")

    def _problem(self, plan: Plan, live: dk.Container) -> str:
        """Why ``live`` (the container ``plan`` would make) is not reachable; "" when it is."""
        folder = plan.site[1]
        if folder and not Path(folder).is_dir():
            return "its site files are missing"
        if not (plan.public or plan.host_ports):
            return ""
        edge = self.edge.problem()
        if edge:
            return edge
        routes = self.edge.routes()
        missing = [p for p in plan.host_ports if f"host:{p}" not in routes]
        if missing:
            return f"no route to the host's port {missing[0]}"
        route = routes.get(f"service:{plan.service}")
        if plan.public and (route is None or route.target != (live.ips.get(self.network, ""), plan.port)):
            return f"nothing routes {plan.public[0]}:{plan.public[1]} to it"
        return ""

    def _discard(self, name: str, created: bool, progress: Progress) -> None:
        """Take a container that did not make it out again: removed if this deploy made it."""
        progress(f"{'remove' if created else 'stop'} {name}")
        run(dk.remove_command(name) if created else dk.stop_command(name))

    def _retire(self, unit: Unit, live: str, progress: Progress) -> None:
        """Stop the service's other containers; keep the newest few stopped ones for rollbacks."""
        mine = [c for c in dk.find({dk.ENV: self.env, dk.SERVICE: unit.name}) if c.name != live]
        for c in mine:
            if c.status in ("running", "restarting", "paused"):
                progress(f"stop {c.name}")
                dk.docker(dk.stop_command(c.name), f"stop {c.name}")
        old = [c.name for c in mine][: max(0, len(mine) - KEEP_STOPPED)]
        if old:
            run(dk.remove_command(*old))

    # -- what runs -------------------------------------------------------------------------------
    def _live(self, unit: Unit) -> dk.Container | None:
        running = [c for c in dk.find({dk.ENV: self.env, dk.SERVICE: unit.name}) if c.running]
        pointer = self._pointers().get(unit.name)
        return next((c for c in running if c.name == pointer), running[-1] if running else None)

    def _running(self, c: dk.Container) -> Running:
        service = c.labels.get(dk.SERVICE, "")
        route = self.edge.routes().get(f"service:{service}")
        details = {
            "container": c.name,
            "image": c.image,
            "network": self.network,
            "gitSha": c.labels.get(dk.GIT_SHA, ""),
        }
        if route and route.target[0] == c.ips.get(self.network):
            details["url"] = f"http://{route.listen[0]}:{route.listen[1]}"
        return Running(service, c.name, c.labels.get(dk.ARTIFACT, c.image), c.labels.get(dk.FINGERPRINT, ""), details)

    def _pointers(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads((self.state / "live.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data

    def _set_live(self, service: str, name: str | None) -> None:
        """Point ``service`` at container ``name`` (None: at nothing)."""
        with self._lock:
            pointers = {k: v for k, v in self._pointers().items() if k != service}
            if name is not None:
                pointers[service] = name
            _write_private(self.state / "live.json", json.dumps(pointers, indent=1))

    def _gateway(self) -> str:
        with self._lock:
            return dk.network_gateway(self.network, self.env)

    def _logs(self, name: str) -> str:
        lines = redact(run(dk.logs_command(name, 8)).output).strip()
        return f"; last log lines:\n{lines}" if lines else ""


def _label(plan: Plan, key: str) -> str:
    return dict(plan.spec.labels).get(key, "")


def _reveal(value: Value) -> str:
    return value.reveal() if isinstance(value, Sensitive) else value


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it may hold settings), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _copy_site(built: Path, folder: Path, files: tuple[str, ...], config: RuntimeFile | None = None) -> None:
    """The release's own copy of the site (with its runtime config), so a rollback serves exactly what it served."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for rel in files:
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built / rel, tmp / rel)
    if config is not None:
        (tmp / config.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / config.path).write_bytes(config.body)
    os.replace(tmp, folder)
