"""Docker commands of the local target, as values; and the few facts read back from the engine.

Containers are named ``shipyard-<env>-<service>-<id>`` and labelled, so the target finds
its own containers (and only those) with label filters. Every docker call is a Command
built here and run by ``shipyard.run.proc.run``; tests compare the commands exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.run.proc import Command, command, run

ENV, SERVICE, FINGERPRINT, RELEASE = "shipyard.env", "shipyard.service", "shipyard.core.fingerprint", "shipyard.release"
ARTIFACT, GIT_SHA, ROLE, ROOT = "shipyard.artifact", "shipyard.git-sha", "shipyard.role", "shipyard.root"
HOST_ALIAS = "host.docker.internal"  # the host, as containers see it (Docker Desktop's name)


def container_name(env: str, service: str, ident: str) -> str:
    return f"shipyard-{env}-{service}-{ident}"


def network_name(env: str) -> str:
    return f"shipyard-{env}"


def edge_name(env: str) -> str:
    return f"shipyard-{env}-edge"


@dataclass(frozen=True)
class ContainerSpec:
    """One container to create: image, labels, network, settings (by file), mounts, command."""

    name: str
    image: str
    labels: tuple[tuple[str, str], ...]
    network: str
    aliases: tuple[str, ...] = ()
    env_file: str = ""  # the settings: a 0600 file, so values never appear in argv
    hosts: tuple[tuple[str, str], ...] = ()  # --add-host name:ip
    mounts: tuple[str, ...] = ()  # --volume values: "host path:container path:ro"
    user: str = ""
    restart: str = "unless-stopped"
    command: tuple[str, ...] = ()


def create_command(spec: ContainerSpec) -> Command:
    argv = ["docker", "create", "--name", spec.name, "--restart", spec.restart, "--network", spec.network]
    for key, value in spec.labels:
        argv += ["--label", f"{key}={value}"]
    for alias in spec.aliases:
        argv += ["--network-alias", alias]
    for host, ip in spec.hosts:
        argv += ["--add-host", f"{host}:{ip}"]
    if spec.env_file:
        argv += ["--env-file", spec.env_file]
    for mount in spec.mounts:
        argv += ["--volume", mount]
    if spec.user:
        argv += ["--user", spec.user]
    return command(*argv, spec.image, *spec.command)


def start_command(name: str) -> Command:
    return command("docker", "start", name)


def stop_command(name: str, timeout: int = 10) -> Command:
    """SIGTERM, then SIGKILL after ``timeout`` seconds: in-flight requests finish."""
    return command("docker", "stop", "--time", str(timeout), name)


def remove_command(*names: str) -> Command:
    return command("docker", "rm", "--force", *names)


def logs_command(name: str, tail: int = 20) -> Command:
    return command("docker", "logs", "--tail", str(tail), name)


def list_command(labels: Mapping[str, str]) -> Command:
    """Ids of every container (running or not) carrying all ``labels``."""
    argv = ["docker", "ps", "--all", "--quiet", "--no-trunc"]
    for key, value in labels.items():
        argv += ["--filter", f"label={key}={value}"]
    return command(*argv)


def inspect_command(*names: str) -> Command:
    return command("docker", "container", "inspect", *names)


def network_inspect_command(name: str) -> Command:
    return command("docker", "network", "inspect", name)


def network_create_command(name: str, env: str) -> Command:
    return command("docker", "network", "create", "--label", f"{ENV}={env}", name)


@dataclass(frozen=True)
class Container:
    """What the engine says about one container."""

    id: str
    name: str
    image: str
    labels: Mapping[str, str]
    status: str  # created | running | exited | ...
    health: str  # "" (no HEALTHCHECK) | starting | healthy | unhealthy
    exit_code: int
    restarts: int
    created: str
    started: str
    ips: Mapping[str, str]  # network -> address
    env: Mapping[str, str]  # the container's environment (image ENV included): compare, never print

    @property
    def running(self) -> bool:
        return self.status == "running"


def parse_container(raw: Mapping[str, Any]) -> Container:
    state = raw.get("State", {})
    networks = raw.get("NetworkSettings", {}).get("Networks") or {}
    return Container(
        id=raw["Id"],
        name=raw["Name"].lstrip("/"),
        image=raw.get("Config", {}).get("Image", ""),
        labels=raw.get("Config", {}).get("Labels") or {},
        status=state.get("Status", ""),
        health=(state.get("Health") or {}).get("Status", ""),
        exit_code=int(state.get("ExitCode", 0)),
        restarts=int(raw.get("RestartCount", 0)),
        created=raw.get("Created", ""),
        started=state.get("StartedAt", ""),
        ips={net: info.get("IPAddress", "") for net, info in networks.items()},
        env=dict(item.partition("=")[::2] for item in raw.get("Config", {}).get("Env") or []),
    )


def docker(cmd: Command, what: str) -> str:
    """Run a docker command; its output, or ShipyardError naming ``what`` failed."""
    done = run(cmd)
    if not done.ok:
        lines = done.output.strip().splitlines()
        raise ShipyardError(
            f"cannot {what}: {lines[-1] if lines else f'docker exited {done.returncode}'}",
            hint="is the Docker engine running? (`docker info`)",
        )
    return done.output


def inspect(names: Sequence[str]) -> list[Container]:
    """The containers named (or with these ids) that exist; missing ones are left out."""
    found = []
    for name in names:
        done = run(inspect_command(name))
        if done.ok:
            found += [parse_container(raw) for raw in json.loads(done.output)]
    return found


def find(labels: Mapping[str, str]) -> list[Container]:
    """Every container with ``labels``, oldest first."""
    ids = docker(list_command(labels), "list containers").split()
    return sorted(inspect(ids), key=lambda c: c.created)


def network_gateway(name: str, env: str) -> str:
    """The gateway address of the environment's network, created when missing."""
    done = run(network_inspect_command(name))
    if not done.ok:
        run(network_create_command(name, env))  # may lose a race with another deploy: inspect decides
        done = run(network_inspect_command(name))
    if not done.ok:
        docker(network_create_command(name, env), f"create the docker network {name}")
    configs = json.loads(done.output)[0].get("IPAM", {}).get("Config") or []
    gateway = next((c.get("Gateway", "") for c in configs if c.get("Gateway")), "")
    if not gateway:
        raise ShipyardError(f"the docker network {name} has no IPv4 gateway", hint=f"docker network rm {name}")
    return str(gateway)
