"""The platform process's router: named routes per application, each listening on its
endpoints (a TCP port for the URL, Unix sockets for other containers) and forwarding
to its backends, which can be replaced at once (the switch of a push)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from kit.sandbox.gateway.route import new_route
from kit.sandbox.pipe import Route, listen
from kit.sandbox.runtime import Route as RouteRecord

DRAIN_POLL = 0.02


class RouteEntry:
    def __init__(self, name: str, listen_on: list[str], resolve: Callable[[str], str]) -> None:
        self.route: Route = new_route(name, resolve)  # HTTP services get the gateway
        self.listen_on = listen_on
        self.servers: list[asyncio.Server] = []

    def close(self) -> None:
        for server in self.servers:
            server.close()
        self.route.close()


class Router:
    def __init__(self) -> None:
        self.routes: dict[str, RouteEntry] = {}  # "app/name" -> entry

    async def set(
        self,
        app: str,
        name: str,
        listen_on: list[str],
        backends: list[str],
        resolve: Callable[[str], str],
    ) -> list[str]:
        """Route ``name`` of ``app`` to ``backends`` (listening anew if its endpoints
        changed); the backends it had."""
        key = f"{app}/{name}"
        entry = self.routes.get(key)
        if entry is None or entry.listen_on != listen_on:
            if entry is not None:
                entry.close()
            entry = RouteEntry(name, listen_on, resolve)
            for spec in listen_on:
                entry.servers.append(await _listen_retry(spec, entry.route))
            self.routes[key] = entry
        previous = list(entry.route.backends)
        entry.route.set_backends(backends)
        return previous

    def route(self, app: str, name: str) -> Route | None:
        entry = self.routes.get(f"{app}/{name}")
        return entry.route if entry is not None else None

    def remove(self, app: str, name: str) -> bool:
        entry = self.routes.pop(f"{app}/{name}", None)
        if entry is not None:
            entry.close()
        return entry is not None

    async def drain(self, app: str, name: str, backends: list[str], timeout: float) -> int:
        """Wait until no connection to ``backends`` is open (or ``timeout``); how many are."""
        entry = self.routes.get(f"{app}/{name}")
        deadline = time.monotonic() + timeout
        while entry is not None and entry.route.draining(backends) and time.monotonic() < deadline:
            await asyncio.sleep(DRAIN_POLL)
        return entry.route.draining(backends) if entry else 0

    def records(self, app: str) -> dict[str, RouteRecord]:
        """``app``'s routes as runtime.json keeps them."""
        return {
            key.split("/", 1)[1]: RouteRecord(tuple(e.listen_on), tuple(e.route.backends))
            for key, e in self.routes.items()
            if key.split("/", 1)[0] == app
        }


async def _listen_retry(spec: str, route: Route) -> asyncio.Server:
    # A port just released by an earlier platform process may linger briefly.
    for attempt in range(50):
        try:
            return await listen(spec, route)
        except OSError:
            if attempt == 49:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")
