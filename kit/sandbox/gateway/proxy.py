"""The gateway's two sides of a request: the client's connection and a backend's.

A client connection is parsed as HTTP (llhttp, through ``httptools``): each
request gets the platform's headers and its own backend, chosen when its head
is complete, so a kept-alive client's next request goes wherever the route
points at that moment. Backend connections are kept open between requests and
reused. A response is passed on byte for byte; the parser only finds where it
ends. An ``Upgrade`` request (WebSockets) turns both connections into a byte
pipe until either side closes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from time import monotonic
from typing import TYPE_CHECKING, Protocol, cast

import httptools

from kit.sandbox.gateway import headers, pages
from kit.sandbox.pipe import Reader

if TYPE_CHECKING:
    from kit.sandbox.gateway.route import HttpRoute

MAX_HEAD = 64 * 1024  # bytes of request line and headers
REPLAY_LIMIT = 64 * 1024  # a request this small is kept until answered, to retry it
MAX_QUEUED = 4  # pipelined requests read ahead before the client is paused


class RouteFinder(Protocol):
    def __call__(self, host: str) -> HttpRoute | None: ...


class Exchange:
    """One request, from its complete head to the end of its response."""

    __slots__ = (
        "answered",
        "chunked",
        "client_keep_alive",
        "complete",
        "conn",
        "method",
        "page",
        "pending",
        "replay",
        "replay_size",
        "route",
        "upgrade",
    )

    def __init__(
        self,
        route: HttpRoute | None,
        head: bytes,
        method: bytes,
        *,
        upgrade: bool = False,
        chunked: bool = False,
        keep_alive: bool = True,
        page: bytes = b"",
    ) -> None:
        self.route = route
        self.method = method
        self.upgrade = upgrade
        self.chunked = chunked
        self.client_keep_alive = keep_alive
        self.pending: list[bytes] = [head]  # to send once a backend connection is attached
        self.replay: list[bytes] | None = None  # what was sent, while a retry is possible
        self.replay_size = 0
        self.conn: BackendConnection | None = None
        self.complete = False  # the whole request has been read from the client
        self.answered = False  # a byte of the response has gone to the client
        self.page = page  # the gateway answers itself (404, 400)

    def send(self, data: bytes) -> None:
        conn = self.conn
        if conn is None:
            self.pending.append(data)
            return
        if self.replay is not None:
            self.replay_size += len(data)
            if self.replay_size > REPLAY_LIMIT:
                self.replay = None
            else:
                self.replay.append(data)
        conn.write(data)

    def attach(self, conn: BackendConnection, replayable: bool) -> None:
        self.conn = conn
        data, self.pending = self.pending, []
        if len(data) == 1:  # the usual case: a head without a body yet
            whole = data[0]
        else:
            whole = b"".join(data)
            data = [whole]
        if replayable and len(whole) <= REPLAY_LIMIT:
            self.replay, self.replay_size = data, len(whole)
        conn.write(whole)

    def detach_for_retry(self) -> bool:
        """Make the exchange sendable again from the start, if what was sent is known."""
        if self.replay is None or self.answered or not self.complete:
            return False
        self.pending, self.replay, self.conn = self.replay, None, None
        return True


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
        if close or not ex.complete or self.eof:
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


class BackendConnection(Reader):
    """A connection to one instance, carrying one exchange at a time, then kept."""

    def __init__(self, route: HttpRoute, backend: str) -> None:
        self.route = route
        self.backend = backend
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.client: ClientConnection | None = None
        self.parser: httptools.HttpResponseParser | None = None
        self.raw = False
        self.uses = 0
        self.idle_since = 0.0
        self.last_read = 0.0
        self.closed = False

    # -- asyncio -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def pause_writing(self) -> None:
        if self.client is not None and self.client.transport is not None:
            self.client.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.client is not None and self.client.transport is not None:
            self.client.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        client, ex = self.client, self.exchange
        if client is None or ex is None:
            self.close()  # bytes nobody asked for: this connection cannot be trusted
            return
        ex.answered = True
        ex.replay = None
        client.write(data)
        if self.raw:
            return
        self.last_read = monotonic()
        if self.parser is None:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.raw = True  # a 101 to a request that did not ask: pass bytes on
        except httptools.HttpParserError:
            self.close()
            client.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        client, ex = self.client, self.exchange
        self.client = self.exchange = None
        self.route.lost(self)
        if client is None or ex is None or client.closed:
            return
        if self.raw or ex.answered:
            # A tunnel ended, or a response ended with the connection (read until
            # close) or was cut: either way the client learns it by the close.
            client.close()
            return
        if self.uses > 1 and ex.detach_for_retry():
            self.route.dispatch(ex, client, fresh=True)  # a kept connection the instance closed
            return
        self.route.no_answer(self.backend)
        self.route.failed += 1
        client.fail(ex, 502)

    # -- exchanges -----------------------------------------------------------------------

    def attach(self, ex: Exchange, client: ClientConnection) -> None:
        self.exchange, self.client = ex, client
        self.uses += 1
        self.raw = ex.upgrade
        self.parser = (
            None
            if self.raw
            else httptools.HttpResponseParser(
                _HeadResponse(self, ex) if ex.method == b"HEAD" else _Response(self, ex)
            )
        )
        self.last_read = monotonic()
        ex.attach(self, replayable=self.uses > 1)

    def finished(self, keep: bool) -> None:
        """The response has ended; ``keep``: the instance keeps the connection open."""
        ex, client = self.exchange, self.client
        self.parser = None
        self.exchange = self.client = None
        if ex is None or client is None:
            return
        reuse = keep and ex.client_keep_alive and ex.complete
        self.route.release(self, reuse)
        client.done(ex, close=not reuse)

    def timed_out(self, timeout: float) -> None:
        """Nothing came from the instance for ``timeout`` seconds: 504, or cut."""
        ex, client = self.exchange, self.client
        self.client = self.exchange = None
        self.close()
        if ex is None or client is None:
            return
        self.route.saw_error(self.backend)
        if not ex.answered:
            self.route.failed += 1
            client.fail(ex, 504, timeout)
        else:
            client.close()

    def abandon(self) -> None:
        """The client went away: this connection's state is unknown, close it."""
        self.client = self.exchange = None
        self.close()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()


class _Response:
    """The parser's callbacks for one response; stale once its exchange is over."""

    __slots__ = ("conn", "exchange", "status")

    def __init__(self, conn: BackendConnection, exchange: Exchange) -> None:
        self.conn = conn
        self.exchange = exchange
        self.status = 0

    def _current(self) -> bool:
        return self.conn.exchange is self.exchange

    def on_headers_complete(self) -> None:
        if not self._current() or self.conn.parser is None:
            return
        self.status = self.conn.parser.get_status_code()
        if self.status >= 500:
            self.conn.route.saw_error(self.conn.backend)
        if self.exchange.method == b"HEAD" and self.status >= 200:
            self.conn.finished(self.keeps_alive())

    def keeps_alive(self) -> bool:
        return self.conn.parser is not None and self.conn.parser.should_keep_alive()

    def on_message_complete(self) -> None:
        if not self._current() or self.conn.parser is None:
            return
        if 100 <= self.status < 200 and self.status != 101:
            return  # an interim answer (100 Continue): the real one follows
        self.conn.finished(self.conn.parser.should_keep_alive())


class _HeadResponse(_Response):
    """The answer to a HEAD request has no body whatever its headers say, so the
    parser's own keep-alive verdict (which waits for a body it cannot size) is not
    used: the version and the ``Connection`` header decide."""

    __slots__ = ("connection",)

    def __init__(self, conn: BackendConnection, exchange: Exchange) -> None:
        super().__init__(conn, exchange)
        self.connection = b""

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"connection":
            self.connection += b"," + value.lower()

    def keeps_alive(self) -> bool:
        if self.conn.parser is None:
            return False
        if self.conn.parser.get_http_version() == "1.1":
            return b"close" not in self.connection
        return b"keep-alive" in self.connection
