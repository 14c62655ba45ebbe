"""Byte pipes between TCP ports and Unix sockets: the relays and the router's core.

Containers have their own network namespace, so nothing outside can reach a
port inside one. Each container runs a relay from a Unix socket in its own
folder to ``127.0.0.1:8080`` (and to its TCP ports); the router on the host and
the relays in other containers connect to those sockets. A connection that
cannot reach its first backend is retried on the next one before a byte has
been sent, so switching backends never fails a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Callable, Sequence
from pathlib import Path

BUFFER = 64 * 1024


def parse_endpoint(spec: str) -> tuple[str, str, int]:
    """``unix:/path`` or ``tcp:host:port`` to (kind, host-or-path, port)."""
    kind, _, rest = spec.partition(":")
    if kind == "unix" and rest:
        return "unix", rest, 0
    if kind == "tcp":
        host, _, port = rest.rpartition(":")
        if host and port.isdigit():
            return "tcp", host, int(port)
    raise ValueError(f"not an endpoint: {spec!r} (use unix:/path or tcp:host:port)")


async def open_endpoint(spec: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    kind, where, port = parse_endpoint(spec)
    if kind == "unix":
        return await asyncio.open_unix_connection(where, limit=BUFFER)
    return await asyncio.open_connection(where, port, limit=BUFFER)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(BUFFER):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def splice(
    a: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    b: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    """Copy both ways until both sides are done, then close both."""
    try:
        await asyncio.gather(_copy(a[0], b[1]), _copy(b[0], a[1]))
    finally:
        for writer in (a[1], b[1]):
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


class Route:
    """One listening endpoint and the backends its connections go to, round-robin.

    ``set_backends`` swaps the list atomically: new connections go to the new
    backends while connections already open finish where they are (they drain).
    """

    def __init__(self, backends: Sequence[str] = ()) -> None:
        self.backends: tuple[str, ...] = tuple(backends)
        self._cycle = itertools.count()
        self.active: dict[str, int] = {}
        self.connections = 0
        self.failed = 0

    def set_backends(self, backends: Sequence[str]) -> None:
        self.backends = tuple(backends)

    def _order(self) -> list[str]:
        backends = self.backends
        if not backends:
            return []
        start = next(self._cycle) % len(backends)
        return [*backends[start:], *backends[:start]]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        for backend in self._order():
            try:
                upstream = await asyncio.wait_for(open_endpoint(backend), timeout=5)
            except (OSError, TimeoutError):
                continue
            self.active[backend] = self.active.get(backend, 0) + 1
            try:
                await splice((reader, writer), upstream)
            finally:
                self.active[backend] -= 1
            return
        self.failed += 1
        writer.close()

    def draining(self, backends: Sequence[str]) -> int:
        """Connections still open to any of ``backends``."""
        return sum(self.active.get(b, 0) for b in backends)


async def listen(
    spec: str, handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]
) -> asyncio.Server:
    kind, where, port = parse_endpoint(spec)
    if kind == "unix":
        path = Path(where)
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        server = await asyncio.start_unix_server(handler, where, limit=BUFFER)  # type: ignore[arg-type]
        os.chmod(where, 0o666)
        return server
    return await asyncio.start_server(handler, where, port, limit=BUFFER, reuse_address=True)  # type: ignore[arg-type]
