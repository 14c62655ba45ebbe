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

from collections.abc import Sequence

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


def request_head(
    method: bytes,
    target: bytes,
    version: str,
    headers: Sequence[tuple[bytes, bytes]],
    *,
    peer: str,
    scheme: str,
    port: int,
) -> bytes:
    """The head to send to the backend, ending with the blank line.

    ``headers`` are as the client sent them (names in their own case); the
    parser has already refused bytes that cannot be in a header.
    """
    lines = [b"%s %s HTTP/%s\r\n" % (method, target, version.encode("ascii"))]
    earlier: list[bytes] = []
    for name, value in headers:
        low = name.lower()
        if low in REPLACED:
            if low == b"x-forwarded-for":
                earlier.append(value.strip())
            continue
        lines.append(b"%s: %s\r\n" % (name, value))
    address = peer.encode("ascii")
    chain = b", ".join([*[v for v in earlier if v], address])
    proto = scheme.encode("ascii")
    lines.append(
        b"X-Forwarded-For: %s\r\nX-Real-IP: %s\r\nX-Forwarded-Proto: %s\r\n"
        b"X-Forwarded-Protocol: %s\r\nX-Forwarded-Port: %d\r\n\r\n"
        % (chain, address, proto, proto, port)
    )
    return b"".join(lines)


def host_of(headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    """The request's ``Host`` header, ``""`` without one, None when there are several
    (a request that two parties could read as going to two different hosts)."""
    found = [value for name, value in headers if name.lower() == b"host"]
    if len(found) > 1:
        return None
    return found[0].decode("latin-1") if found else ""
