"""An HTTP service's route: its instances, their kept connections and their health.

Extends the byte router's :class:`~kit.sandbox.pipe.Route` (round-robin order,
atomic switch, drain by counting what is open per backend) with what needs
HTTP: a backend per request, connections kept between requests, and the
platform's health check. What counts as open for a drain is a request in
progress (or an upgraded tunnel), not an idle kept connection: those to an
instance that left the route are closed at the switch.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from functools import partial
from time import monotonic

from kit.sandbox.gateway.backend import BackendConnection
from kit.sandbox.gateway.client import ClientConnection
from kit.sandbox.gateway.exchange import Exchange
from kit.sandbox.gateway.health import CHECK_EVERY, Health, probe
from kit.sandbox.pipe import CONNECT_TIMEOUT, Route, connect_to

HTTP_SUFFIX = ".http"  # the platform's route names for HTTP services: "www.http"
GATEWAY_TIMEOUT = 60.0  # seconds without a byte from the instance before a 504
IDLE_KEEP = 4.0  # a kept connection idle longer is not reused (Node.js closes at 5 s)


def new_route(name: str, resolve: Callable[[str], str]) -> Route:
    """The route for the platform's route ``name``: HTTP services (``SVC.http``) get the
    gateway, TCP ports and data services a byte router."""
    return HttpRoute(resolve=resolve) if name.endswith(HTTP_SUFFIX) else Route(resolve=resolve)


class HttpRoute(Route):
    def __init__(
        self,
        backends: Sequence[str] = (),
        resolve: Callable[[str], str] | None = None,
        *,
        timeout: float = GATEWAY_TIMEOUT,
        check_every: float | None = None,
    ) -> None:
        super().__init__(backends, resolve)
        self.timeout = timeout
        self.idle: dict[str, list[BackendConnection]] = {}
        self.busy: set[BackendConnection] = set()
        self.health = Health(self._probe, check_every or CHECK_EVERY)
        self.loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None

    # -- the byte router's interface ------------------------------------------------------

    def protocol(self) -> asyncio.BaseProtocol:
        """A protocol for one accepted connection on this service's own listeners."""
        return ClientConnection(lambda host: self, "http")

    def set_backends(self, backends: Sequence[str]) -> None:
        super().set_backends(backends)
        keep = set(self.backends)
        for backend in [b for b in self.idle if b not in keep]:
            for conn in self.idle.pop(backend):
                conn.close()
        self.health.forget(keep)

    def out_of_rotation(self) -> list[str]:
        return sorted(self.health.out & set(self.backends))

    def close(self) -> None:
        """Close kept connections and stop health checks (the route is gone)."""
        for conns in self.idle.values():
            for conn in conns:
                conn.close()
        self.idle.clear()
        self.health.forget(set())
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    # -- requests -------------------------------------------------------------------------

    def dispatch(self, ex: Exchange, client: ClientConnection, fresh: bool = False) -> None:
        """Send ``ex`` to the next instance in rotation, on a kept connection if one is idle."""
        self.connections += 1
        order = self._rotation()
        if not fresh and not ex.upgrade:
            for backend in order[:1]:
                conn = self._idle_conn(backend)
                if conn is not None:
                    self._send_on(conn, ex, client)
                    return
        task = self.loop.create_task(self._connect_and_send(ex, client, order))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _rotation(self) -> list[str]:
        """Round-robin order, instances out of rotation last (tried only if all are out)."""
        if len(self.backends) == 1:
            return list(self.backends)
        order = self._order()
        out = self.health.out
        if not out:
            return order
        return [b for b in order if b not in out] + [b for b in order if b in out]

    def _idle_conn(self, backend: str) -> BackendConnection | None:
        conns = self.idle.get(backend)
        now = monotonic()
        while conns:
            conn = conns.pop()
            if not conn.closed and now - conn.idle_since < IDLE_KEEP:
                return conn
            conn.close()
        return None

    def _send_on(self, conn: BackendConnection, ex: Exchange, client: ClientConnection) -> None:
        self.busy.add(conn)
        self.active[conn.backend] = self.active.get(conn.backend, 0) + 1
        conn.attach(ex, client)
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(self._sweep_every(), self._sweep)

    async def _connect_and_send(
        self, ex: Exchange, client: ClientConnection, order: list[str]
    ) -> None:
        for backend in order:
            if client.closed:
                return
            conn = BackendConnection(self, backend)
            try:
                spec = self.resolve(backend) if self.resolve else backend
                await asyncio.wait_for(connect_to(spec, partial(_same, conn)), CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                self.last_error = f"{backend}: {type(exc).__name__}: {exc}"
                self.health.refused(backend)
                continue
            if client.closed:
                self._keep(conn)
                return
            self._send_on(conn, ex, client)
            return
        self.failed += 1
        print(f"gateway: no instance answered ({self.last_error})", file=sys.stderr, flush=True)
        client.fail(ex, 502)

    def _sweep_every(self) -> float:
        return min(1.0, self.timeout / 4)

    def _sweep(self) -> None:
        """Time out requests whose instance has sent nothing for ``timeout`` seconds.

        One timer per route, not one per request: requests are many and short.
        """
        self._sweeper = None
        now = monotonic()
        for conn in [c for c in self.busy if not c.raw and now - c.last_read >= self.timeout]:
            conn.timed_out(self.timeout)
        if self.busy:
            self._sweeper = self.loop.call_later(self._sweep_every(), self._sweep)

    def _end(self, conn: BackendConnection) -> None:
        if conn in self.busy:
            self.busy.discard(conn)
            self.active[conn.backend] -= 1

    def _keep(self, conn: BackendConnection) -> None:
        if conn.backend in self.backends and not conn.closed:
            conn.idle_since = monotonic()
            self.idle.setdefault(conn.backend, []).append(conn)
        else:
            conn.close()

    def release(self, conn: BackendConnection, reuse: bool) -> None:
        """``conn`` finished a response: keep it for the next request, or close it."""
        self._end(conn)
        if reuse:
            self._keep(conn)
        else:
            conn.close()

    def lost(self, conn: BackendConnection) -> None:
        """``conn`` closed (either side)."""
        self._end(conn)
        conns = self.idle.get(conn.backend)
        if conns and conn in conns:
            conns.remove(conn)

    # -- health ---------------------------------------------------------------------------

    def saw_error(self, backend: str) -> None:
        """A 5xx or a timeout from ``backend``: the health check starts watching it."""
        self.health.suspect(backend)

    def no_answer(self, backend: str) -> None:
        self.health.refused(backend)

    async def _probe(self, backend: str) -> bool:
        spec = self.resolve(backend) if self.resolve else backend
        return await probe(spec)


def _same(conn: BackendConnection) -> BackendConnection:
    return conn
