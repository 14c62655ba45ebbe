"""The client's side of the gateway: HTTP requests in, answers out, one at a time.

A client connection is parsed as HTTP (llhttp, through ``httptools``). Each
request gets the platform's headers and its own backend, chosen when its head
is complete, so a kept-alive client's next request goes wherever the route
points at that moment. Pipelined requests wait their turn; an ``Upgrade``
request (WebSockets) turns the connection into a byte pipe.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Protocol, cast

import httptools

from kit.sandbox.gateway import headers, pages
from kit.sandbox.gateway.exchange import Exchange
from kit.sandbox.pipe import Reader

if TYPE_CHECKING:
    from kit.sandbox.gateway.route import HttpRoute

MAX_HEAD = 64 * 1024  # bytes of request line and headers
MAX_QUEUED = 4  # pipelined requests read ahead before the client is paused


class RouteFinder(Protocol):
    def __call__(self, host: str) -> HttpRoute | None: ...


class ClientConnection(Reader):
    """A connection from a client: HTTP requests in, responses out, one at a time."""

    def __init__(self, find_route: RouteFinder, scheme: str) -> None:
        self.find_route = find_route
        self.scheme = scheme
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.peer = "127.0.0.1"
        self.port = 443 if scheme == "https" else 80
        self.queue: deque[Exchange] = deque()
        self.reading: Exchange | None = None  # the request whose body is being read
        self.url = b""
        self.head = headers.Head()
        self.head_bytes = -1  # counting while a head is being read
        self.tunnel: Exchange | None = None  # an upgraded exchange: bytes pass as they are
        self.closed = False
        self.eof = False
        self.paused = False

    # -- asyncio -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self.peer = str(peer[0])
        where = transport.get_extra_info("sockname")
        if isinstance(where, tuple) and len(where) >= 2:
            self.port = int(where[1])

    def data_received(self, data: bytes) -> None:
        if self.tunnel is not None:
            self.tunnel.send(data)
            return
        if self.head_bytes >= 0:
            self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            rest = data[int(exc.args[0]) :]
            if self.reading is not None and self.reading.upgrade:
                self.tunnel = self.reading
                if rest:
                    self.tunnel.send(rest)
            else:
                self._refuse(400)
            return
        except httptools.HttpParserError:
            self._refuse(400)
            return
        if self.head_bytes > MAX_HEAD:
            self._refuse(431)

    def eof_received(self) -> bool:
        """The client has sent all it will: answer a complete request, then close.

        A tunnel is closed at once: WebSockets have no use for half a connection.
        """
        self.eof = True
        if self.tunnel is not None:
            return False
        return bool(self.queue) and self.queue[-1].complete

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for ex in self.queue:
            if ex.conn is not None:
                ex.conn.abandon()
        self.queue.clear()

    def pause_writing(self) -> None:
        if self.queue and self.queue[0].conn is not None:
            self.queue[0].conn.pause_reading()

    def resume_writing(self) -> None:
        if self.queue and self.queue[0].conn is not None:
            self.queue[0].conn.resume_reading()

    # -- httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.url = b""
        self.head = headers.Head()
        self.head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head.add(name, value)

    def on_headers_complete(self) -> None:
        self.head_bytes = -1
        parser = self.parser
        method = parser.get_method()
        host = self.head.host()
        route = self.find_route(host) if host is not None else None
        keep = parser.should_keep_alive()
        if route is None:
            status = 400 if host is None else 404
            page = pages.page(status, detail=host or "", head=method == b"HEAD")
            ex = Exchange(None, b"", method, keep_alive=False, page=page)
        else:
            head = self.head.render(
                method, self.url, parser.get_http_version(),
                peer=self.peer, scheme=self.scheme, port=self.port,
            )  # fmt: skip
            ex = Exchange(
                route, head, method, upgrade=parser.should_upgrade(), chunked=self.head.chunked,
                keep_alive=keep,
            )  # fmt: skip
        self.reading = ex
        self.queue.append(ex)
        if len(self.queue) == 1:
            self._start(ex)
        elif len(self.queue) >= MAX_QUEUED and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def on_body(self, body: bytes) -> None:
        ex = self.reading
        if ex is None or ex.page:
            return
        if ex.chunked:
            ex.send(b"%x\r\n%s\r\n" % (len(body), body))
        else:
            ex.send(bytes(body))

    def on_message_complete(self) -> None:
        ex = self.reading
        if ex is None:
            return
        if ex.chunked:
            ex.send(b"0\r\n\r\n")
        ex.complete = True
        if not ex.upgrade:
            self.reading = None

    # -- exchanges -----------------------------------------------------------------------

    def _start(self, ex: Exchange) -> None:
        if ex.route is None:
            self.write(ex.page)
            self.close()
            return
        ex.route.dispatch(ex, self)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def done(self, ex: Exchange, close: bool) -> None:
        """The response to ``ex`` has been passed on entirely."""
        if self.queue and self.queue[0] is ex:
            self.queue.popleft()
        if close or not ex.complete or (self.eof and not self.queue):
            self.close()
            return
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        if self.queue:
            self._start(self.queue[0])

    def fail(self, ex: Exchange, status: int, timeout: float = 60.0) -> None:
        """Answer ``ex`` with the gateway's own page, then close."""
        if self.queue and self.queue[0] is ex:
            self.queue.popleft()
        if not ex.answered:
            self.write(pages.page(status, timeout=timeout, head=ex.method == b"HEAD"))
        self.close()

    def _refuse(self, status: int) -> None:
        busy = bool(self.queue) and self.queue[0].answered
        if not busy:
            self.write(pages.page(status))
        self.close()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()
            for ex in self.queue:
                if ex.conn is not None:
                    ex.conn.abandon()
            self.queue.clear()
