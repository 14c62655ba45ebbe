"""The instance's side of the gateway: a kept connection, one exchange at a time.

A response is passed on to the client byte for byte; the parser only finds
where it ends, so the connection can carry the next request. A tunnel (after
an ``Upgrade``) passes bytes both ways without parsing.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import TYPE_CHECKING, cast

import httptools

from kit.sandbox.pipe import Reader

if TYPE_CHECKING:
    from kit.sandbox.gateway.client import ClientConnection
    from kit.sandbox.gateway.exchange import Exchange
    from kit.sandbox.gateway.route import HttpRoute


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
