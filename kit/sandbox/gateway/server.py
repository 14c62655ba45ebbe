"""The sandbox's shared front door: one HTTP and one HTTPS port, routed by ``Host``.

Every HTTP service keeps its own port (``dotkit url`` prints it first) and is
also served here by name, as on dotCloud where one gateway served every app:
``http://<service>.<app>.localhost:<http port>/`` and the same over HTTPS. The
two ports are chosen once per ``$DOTKIT_HOME`` and kept in
``gateway/ports.json``, so URLs stay the same across restarts of the platform
process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from functools import partial
from pathlib import Path
from typing import NamedTuple

from kit.private import private_dir, write_private
from kit.sandbox.gateway import names
from kit.sandbox.gateway.client import ClientConnection
from kit.sandbox.gateway.route import HTTP_SUFFIX, HttpRoute
from kit.sandbox.gateway.tls import Certificates
from kit.sandbox.pipe import Route


class Ports(NamedTuple):
    http: int
    https: int


def gateway_dir(home: Path) -> Path:
    return home / "gateway"


def ca_path(home: Path) -> Path:
    return gateway_dir(home) / "ca.pem"


def read_ports(home: Path) -> Ports | None:
    """The gateway's ports, or None before the platform process first chose them."""
    try:
        data = json.loads((gateway_dir(home) / "ports.json").read_text())
        ports = Ports(int(data["http"]), int(data["https"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(0 < p < 65536 for p in ports):
        return None
    return ports


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Gateway:
    """Routes by host name to the HTTP routes of every app, over HTTP and HTTPS."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.routes: dict[str, HttpRoute] = {}  # host name -> route
        self.apps: dict[str, set[str]] = {}  # app -> its services served here
        self.servers: list[asyncio.Server] = []
        self.certificates = Certificates(gateway_dir(home), lambda app: app in self.apps)

    async def publish(self, app: str, route_name: str, route: Route) -> None:
        """Serve the platform's route ``route_name`` of ``app`` by name, if it is HTTP."""
        if isinstance(route, HttpRoute) and route_name.endswith(HTTP_SUFFIX):
            await self.add(app, route_name.removesuffix(HTTP_SUFFIX), route)

    def unpublish(self, app: str, route_name: str) -> None:
        if route_name.endswith(HTTP_SUFFIX):
            self.remove(app, route_name.removesuffix(HTTP_SUFFIX))

    def find(self, host: str) -> HttpRoute | None:
        return self.routes.get(names.host_only(host))

    async def add(self, app: str, service: str, route: HttpRoute) -> None:
        """Serve ``route`` at the names of ``service`` of ``app`` (starting the listeners)."""
        for name in names.names_of(app, service):
            self.routes[name] = route
        self.apps.setdefault(app, set()).add(service)
        if not self.servers:
            await self._listen()

    def remove(self, app: str, service: str) -> None:
        for name in names.names_of(app, service):
            self.routes.pop(name, None)
        services = self.apps.get(app, set())
        services.discard(service)
        if not services:
            self.apps.pop(app, None)
            self.certificates.contexts.pop(app, None)

    async def _listen(self) -> None:
        """Listen on the ports of earlier runs (a port just released may linger a
        moment), or on new ones when those stay taken."""
        ports = read_ports(self.home)
        for attempt in range(51):
            if ports is None or attempt == 50:
                ports = Ports(_free_port(), _free_port())
            try:
                await self._open(ports)
            except OSError:
                self.close()
                if attempt == 50:
                    raise
                await asyncio.sleep(0.1)
                continue
            private_dir(gateway_dir(self.home))
            write_private(gateway_dir(self.home) / "ports.json", json.dumps(ports._asdict()))
            return

    async def _open(self, ports: Ports) -> None:
        loop = asyncio.get_running_loop()
        context = self.certificates.server_context()
        for scheme, port, tls in (("http", ports.http, None), ("https", ports.https, context)):
            factory = partial(ClientConnection, self.find, scheme)
            self.servers.append(
                await loop.create_server(factory, "127.0.0.1", port, ssl=tls, reuse_address=True)
            )
            with contextlib.suppress(OSError):  # browsers try ::1 first for .localhost
                self.servers.append(
                    await loop.create_server(factory, "::1", port, ssl=tls, reuse_address=True)
                )

    def close(self) -> None:
        for server in self.servers:
            server.close()
        self.servers.clear()
