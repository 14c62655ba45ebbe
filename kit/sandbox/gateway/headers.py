"""A request's head as the gateway forwards it: the platform's headers added.

Hipache, dotCloud's router, set ``X-Forwarded-For``, ``X-Real-IP``,
``X-Forwarded-Proto``, ``X-Forwarded-Protocol`` and ``X-Forwarded-Port`` on
every request, keeping a value the client had sent because it sat behind other
proxies. The sandbox's gateway is the edge, where a client's own value proves
nothing, so it sets ``X-Real-IP``, the protocol and the port itself and appends
the peer to ``X-Forwarded-For`` (what nginx's ``$proxy_add_x_forwarded_for``
does): an app that reads the last address gets the true one.
"""

from __future__ import annotations

# Lower-case names of the headers the gateway writes itself.
REPLACED = frozenset(
    {
        b"x-forwarded-for",
        b"x-real-ip",
        b"x-forwarded-proto",
        b"x-forwarded-protocol",
        b"x-forwarded-port",
    }
)
_WATCHED = REPLACED | {b"host", b"transfer-encoding"}


class Head:
    """A request's headers as they are read, in one pass.

    Ordinary headers are kept as the lines to forward; the few the gateway reads
    (``Host``, ``Transfer-Encoding``, the forwarding headers) are set apart. The
    parser has already refused bytes that cannot be in a header.
    """

    __slots__ = ("chunked", "forwarded_for", "hosts", "lines")

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.hosts: list[bytes] = []
        self.forwarded_for: list[bytes] = []
        self.chunked = False

    def add(self, name: bytes, value: bytes) -> None:
        low = name.lower()
        if low in _WATCHED:
            if low == b"host":
                self.hosts.append(value)
            elif low == b"transfer-encoding":
                self.chunked = self.chunked or b"chunked" in value.lower()
            elif low == b"x-forwarded-for":
                if value.strip():
                    self.forwarded_for.append(value.strip())
                return
            else:
                return  # written by the gateway itself
        self.lines.append(name + b": " + value + b"\r\n")

    def host(self) -> str | None:
        """The ``Host`` header, ``""`` without one, None when there are several
        (a request that two parties could read as going to two different hosts)."""
        if len(self.hosts) > 1:
            return None
        return self.hosts[0].decode("latin-1") if self.hosts else ""

    def render(
        self, method: bytes, target: bytes, version: str, *, peer: str, scheme: str, port: int
    ) -> bytes:
        """The head to send to the backend, ending with the blank line."""
        address = peer.encode("ascii")
        chain = b", ".join([*self.forwarded_for, address])
        proto = scheme.encode("ascii")
        return b"".join(
            [
                method + b" " + target + b" HTTP/" + version.encode("ascii") + b"\r\n",
                *self.lines,
                b"X-Forwarded-For: %s\r\nX-Real-IP: %s\r\nX-Forwarded-Proto: %s\r\n"
                b"X-Forwarded-Protocol: %s\r\nX-Forwarded-Port: %d\r\n\r\n"
                % (chain, address, proto, proto, port),
            ]
        )
