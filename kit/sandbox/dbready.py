"""Is a MySQL or PostgreSQL server ready? Asked in its own protocol, without a client library.

An open port is not enough: PostgreSQL listens while it is still recovering
and turns clients away with "the database system is starting up". So the
probe reads what the server says first. MariaDB greets every client with a
handshake packet (protocol version 10), or an error packet. PostgreSQL answers
a startup message with an authentication request when it takes clients, and
with error ``57P03`` while it cannot yet. The parsing is pure; :func:`probe`
and :func:`wait_ready` do the talking, over whatever ``connect`` returns (a TCP
socket, or the sandbox's Unix-socket relay to the container's port).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from typing import NamedTuple

from kit.errors import OperationFailed

_PG_PROTOCOL_3 = 196608
_PG_STARTING = "57P03"  # cannot_connect_now: starting up, shutting down, or recovering
_READ = 4096


class Probe(NamedTuple):
    ready: bool
    detail: str  # what the server said, in a few words


class NotReady(OperationFailed):
    """The server did not answer as ready in time."""


def mysql_greeting(data: bytes) -> Probe:
    """Read a MySQL/MariaDB server's first packet."""
    if len(data) < 5:
        return Probe(False, "no greeting yet" if not data else "a truncated greeting")
    payload = data[4:]
    if payload[0] == 0x0A:
        version = payload[1:].split(b"\0", 1)[0].decode("ascii", errors="replace")
        return Probe(True, f"greeted as {version}")
    if payload[0] == 0xFF and len(payload) >= 3:
        code = struct.unpack("<H", payload[1:3])[0]
        message = payload[3:].decode("utf-8", errors="replace")
        return Probe(False, f"error {code}: {message}")
    return Probe(False, "an unexpected greeting (is this a MySQL server?)")


def pg_startup(user: str, database: str) -> bytes:
    """A protocol 3.0 startup message."""
    body = struct.pack("!I", _PG_PROTOCOL_3)
    for key, value in (("user", user), ("database", database)):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def pg_reply(data: bytes) -> Probe:
    """Read a PostgreSQL server's answer to a startup message."""
    if not data:
        return Probe(False, "no answer yet")
    kind = data[:1]
    if kind == b"R":
        return Probe(True, "asks for authentication")
    if kind == b"v":
        return Probe(True, "negotiates the protocol version")
    if kind == b"E":
        fields = _pg_fields(data[5:])
        code, message = fields.get("C", "?"), fields.get("M", "")
        return Probe(code != _PG_STARTING, f"{code}: {message}")
    return Probe(False, "an unexpected answer (is this a PostgreSQL server?)")


def _pg_fields(data: bytes) -> dict[str, str]:
    fields = {}
    for part in data.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", errors="replace")
    return fields


def probe(kind: str, sock: socket.socket, *, login: str = "root") -> Probe:
    """Ask the server at the other end of ``sock``; the caller closes it."""
    try:
        if kind == "postgresql":
            sock.sendall(pg_startup(login, "postgres"))
            return pg_reply(sock.recv(_READ))
        return mysql_greeting(sock.recv(_READ))
    except OSError as exc:
        return Probe(False, exc.strerror or str(exc))


def tcp(host: str, port: int, timeout: float = 2.0) -> Callable[[], socket.socket]:
    """A ``connect`` for :func:`wait_ready` that dials ``host:port``."""
    return lambda: socket.create_connection((host, port), timeout=timeout)


def wait_ready(
    kind: str,
    connect: Callable[[], socket.socket],
    timeout: float,
    *,
    login: str = "root",
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Wait until the server answers as ready; return what it said, or raise :class:`NotReady`."""
    deadline = clock() + timeout
    last = "nothing tried yet"
    while True:
        try:
            with connect() as sock:
                result = probe(kind, sock, login=login)
        except OSError as exc:
            result = Probe(False, exc.strerror or str(exc))
        if result.ready:
            return result.detail
        last = result.detail
        if clock() >= deadline:
            raise NotReady(
                f"the {kind} server was not ready after {timeout:g} s (last answer: {last})"
            )
        sleep(0.2)
