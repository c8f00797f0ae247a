"""The local edge: a TCP forwarder that runs inside a container (stdlib only, any Python 3.8+).

    python edge_proxy.py ROUTES_JSON STATUS_JSON

ROUTES_JSON holds ``{"version": N, "routes": [{"name", "listen": [host, port], "target": [host, port]}]}``.
The file is re-read whenever it changes: listeners are opened and closed to match, and
every new connection goes to the route's current target, so switching a service to new
containers is one atomic rename of that file. Connections already open stay on their old
target until they close. After applying version N the edge writes STATUS_JSON with
``{"version": N, "errors": {"host:port": "why it cannot listen"}}``.

shipyard copies this file next to the routes and runs it with host networking (see local.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import sys
import time
from typing import Any

POLL = 0.2
RETRY = 2.0
CONNECT_TIMEOUT = 5.0
CHUNK = 65536


class Edge:
    def __init__(self, routes_path: str, status_path: str) -> None:
        self.routes_path, self.status_path = routes_path, status_path
        self.servers: dict[str, asyncio.AbstractServer] = {}  # "host:port" -> listener
        self.targets: dict[str, tuple[str, int]] = {}  # "host:port" -> where to forward
        self.seen: tuple[int, int, int] | None = None
        self.failed, self.retry_at = False, 0.0  # listeners that could not open are retried

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.reload()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL)
        for server in self.servers.values():
            server.close()

    async def reload(self) -> None:
        try:
            stat = os.stat(self.routes_path)
        except OSError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp == self.seen and (not self.failed or time.monotonic() < self.retry_at):
            return
        try:
            with open(self.routes_path) as f:
                config = json.load(f)
        except (OSError, ValueError):
            return  # half-written (should not happen: shipyard renames into place); retry next poll
        self.seen = stamp
        errors = await self.apply(config.get("routes", []))
        self.failed, self.retry_at = bool(errors), time.monotonic() + RETRY
        self.write_status({"version": config.get("version", 0), "errors": errors})

    async def apply(self, routes: list[dict[str, Any]]) -> dict[str, str]:
        wanted = {"{}:{}".format(*r["listen"]): r for r in routes}
        for key in list(self.servers):
            if key not in wanted:
                self.servers.pop(key).close()
                self.targets.pop(key, None)
        errors: dict[str, str] = {}
        for key, route in wanted.items():
            self.targets[key] = (str(route["target"][0]), int(route["target"][1]))
            if key not in self.servers:
                try:
                    handler = functools.partial(self.forward, key)
                    host, port = route["listen"]
                    self.servers[key] = await asyncio.start_server(handler, host, port, reuse_address=True)
                except OSError as exc:
                    errors[key] = exc.strerror or str(exc)
        return errors

    def write_status(self, status: dict[str, Any]) -> None:
        tmp = self.status_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(status, f)
        os.replace(tmp, self.status_path)

    async def forward(self, key: str, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        target = self.targets.get(key)
        if target is None:
            client_writer.close()
            return
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(*target), CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))
        for w in (writer, client_writer):
            w.close()


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until EOF, then half-close: HTTP clients may shut down their side after a request."""
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, RuntimeError):
        pass


async def main(routes_path: str, status_path: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await Edge(routes_path, status_path).run(stop)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
