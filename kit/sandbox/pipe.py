"""Byte pipes between TCP ports, Unix sockets and container networks: relays and router.

Containers have their own network namespace, so nothing outside can reach a
port inside one. The router connects straight into a container's namespace (a
socket created there with setns), and each container runs a relay from a Unix
socket to ``127.0.0.1:8080`` and from the other services' addresses to their
router endpoints. A connection that cannot reach its first backend is retried
on the next one before a byte has been sent, so switching backends never fails
a request. Pipes are asyncio protocols: bytes go from one transport to the
other without a coroutine per chunk, with back-pressure both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import sys
import threading
from collections.abc import Callable, Coroutine, Sequence
from functools import partial
from pathlib import Path
from typing import Any, cast

CONNECT_TIMEOUT = 5.0
CLONE_NEWNET = 0x40000000
_NETNS_LOCK = threading.Lock()


def die_with_parent() -> None:
    """In a child before exec: be sent SIGTERM when the parent dies (PR_SET_PDEATHSIG).

    Here rather than in the backend because this module also runs inside
    containers (relays, cinit), where only a few kit modules are present.
    """
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on asyncio's own event loop.

    uvloop was tried for its speed and dropped: under a push with hundreds of new
    connections a second, sockets handed to it with ``create_connection(sock=...)``
    ended in "file descriptor used by another transport" and a crash.
    """
    asyncio.run(main)


def parse_endpoint(spec: str) -> tuple[str, str, int]:
    """``unix:/path``, ``tcp:host:port`` or ``netns:pid:host:port`` to its parts."""
    kind, _, rest = spec.partition(":")
    if kind == "unix" and rest:
        return "unix", rest, 0
    if kind in ("tcp", "netns"):
        host, _, port = rest.rpartition(":")
        if host and port.isdigit():
            return kind, host, int(port)
    raise ValueError(f"not an endpoint: {spec!r} (use unix:/path or tcp:host:port)")


def socket_in_netns(pid: int) -> socket.socket:
    """A TCP socket created inside ``pid``'s network namespace.

    A socket belongs to the namespace it was created in, so the router can
    connect to 127.0.0.1:8080 *inside* a container without a relay in between.
    setns() changes only the calling thread; the lock keeps one switch at a time.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    with _NETNS_LOCK:
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        except OSError:
            os.close(own)
            raise
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"cannot enter the network of process {pid}")
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            finally:
                if libc.setns(own, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "cannot return to the host network")
        finally:
            os.close(own)
            os.close(target)
    sock.setblocking(False)
    return sock


async def connect_to(spec: str, factory: Callable[[], asyncio.BaseProtocol]) -> asyncio.Transport:
    """Connect to ``spec`` (``unix:``, ``tcp:`` or ``netns:``) with a protocol from ``factory``."""
    loop = asyncio.get_running_loop()
    kind, where, port = parse_endpoint(spec)
    if kind == "unix":
        transport, _ = await loop.create_unix_connection(factory, where)
    elif kind == "netns":
        sock = await loop.run_in_executor(None, socket_in_netns, int(where.split(":")[0]))
        host = where.split(":", 1)[1]
        try:
            await loop.sock_connect(sock, (host, port))
        except OSError:
            sock.close()
            raise
        transport, _ = await loop.create_connection(factory, sock=sock)
    else:
        transport, _ = await loop.create_connection(factory, where, port)
    return transport


def _same(protocol: asyncio.BaseProtocol) -> asyncio.BaseProtocol:
    return protocol


READ_SIZE = 64 * 1024
_READ_BUFFER = memoryview(bytearray(READ_SIZE))


class Reader(asyncio.BufferedProtocol):
    """A protocol that reads into one shared buffer and hands on exact-size bytes.

    asyncio's plain protocols receive into a fresh 256 KiB object every read and
    shrink it; where memory calls are dear (a sandboxed kernel) that costs more
    than the read itself. Every transport calls ``buffer_updated`` right after
    filling the buffer, on the one thread of the loop, so one buffer serves all.
    """

    def get_buffer(self, sizehint: int) -> memoryview:
        return _READ_BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(_READ_BUFFER[:nbytes]))

    def data_received(self, data: bytes) -> None:
        raise NotImplementedError


class _Half(Reader):
    """One side of a pipe: what it receives is written to its peer."""

    def __init__(self, on_close: Callable[[], None]) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Half | None = None
        self.pending: list[bytes] = []
        self.eof = False
        self.closed = False
        self.on_close = on_close

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def link(self, peer: _Half) -> None:
        self.peer = peer
        for chunk in self.pending:
            peer.send(chunk)
        self.pending.clear()
        if self.eof:
            peer.send_eof()

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send_eof(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if self.transport.can_write_eof():
                self.transport.write_eof()
            else:
                self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.peer is None:
            self.pending.append(data)
        else:
            self.peer.send(data)

    def eof_received(self) -> bool:
        self.eof = True
        if self.peer is not None:
            self.peer.send_eof()
        return True  # keep the other direction open (half-close)

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()
        self.on_close()


class Route:
    """One listening endpoint and the backends its connections go to, round-robin.

    ``set_backends`` swaps the list atomically: new connections go to the new
    backends while connections already open finish where they are (they drain).
    ``resolve`` turns a backend's name into where to connect at that moment.
    """

    def __init__(
        self, backends: Sequence[str] = (), resolve: Callable[[str], str] | None = None
    ) -> None:
        self.backends: tuple[str, ...] = tuple(backends)
        self.resolve = resolve
        self._cycle = itertools.count()
        self.active: dict[str, int] = {}
        self.connections = 0
        self.failed = 0
        self.last_error = "no backends"
        self._tasks: set[asyncio.Task[None]] = set()

    def set_backends(self, backends: Sequence[str]) -> None:
        self.backends = tuple(backends)

    def _order(self) -> list[str]:
        backends = self.backends
        if not backends:
            return []
        start = next(self._cycle) % len(backends)
        return [*backends[start:], *backends[:start]]

    def protocol(self) -> asyncio.BaseProtocol:
        """A protocol for one accepted connection (the server's factory)."""
        front = _Half(lambda: None)
        self.connections += 1
        task = asyncio.get_running_loop().create_task(self._attach(front))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return front

    async def _attach(self, front: _Half) -> None:
        for backend in self._order():
            if front.closed:
                return
            released = False

            def release(name: str = backend) -> None:
                nonlocal released
                if not released:
                    released = True
                    self.active[name] -= 1

            back = _Half(release)
            try:
                spec = self.resolve(backend) if self.resolve else backend
                await asyncio.wait_for(connect_to(spec, partial(_same, back)), CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                self.last_error = f"{backend}: {type(exc).__name__}: {exc}"
                continue
            self.active[backend] = self.active.get(backend, 0) + 1
            back.link(front)
            front.link(back)
            if front.closed and back.transport is not None:
                back.transport.close()
            return
        self.failed += 1
        print(f"router: no backend answered ({self.last_error})", file=sys.stderr, flush=True)
        if front.transport is not None:
            front.transport.close()

    def draining(self, backends: Sequence[str]) -> int:
        """Connections still open to any of ``backends``."""
        return sum(self.active.get(b, 0) for b in backends)

    def out_of_rotation(self) -> list[str]:
        """Backends skipped for now (a byte router has no health check: none)."""
        return []

    def close(self) -> None:
        """Release what the route holds besides its connections (nothing here)."""


async def listen(spec: str, route: Route) -> asyncio.Server:
    """Serve ``route`` on ``spec`` (``unix:/path`` or ``tcp:host:port``)."""
    loop = asyncio.get_running_loop()
    kind, where, port = parse_endpoint(spec)
    if kind == "unix":
        path = Path(where)
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        server = await loop.create_unix_server(route.protocol, where)
        path.chmod(0o666)
        return server
    return await loop.create_server(route.protocol, where, port, reuse_address=True)
