"""One request on its way through the gateway, from its head to the end of its answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kit.sandbox.gateway.backend import BackendConnection
    from kit.sandbox.gateway.route import HttpRoute

REPLAY_LIMIT = 64 * 1024  # a request this small is kept until answered, to retry it


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
