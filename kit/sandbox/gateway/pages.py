"""The pages the gateway answers with itself: 502, 504, and what it cannot route.

Like Hipache's error pages: small HTML, never cached, and the connection closed
after them (the client may have sent more than the gateway read).
"""

from __future__ import annotations

import html

TITLES = {
    400: "Bad Request",
    404: "Not Found",
    421: "Misdirected Request",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}

EXPLAIN = {
    400: "The request could not be read as HTTP.",
    404: "No application of this sandbox answers at this host name.",
    431: "The request's head is larger than the gateway accepts.",
    502: "The application did not answer: no instance of this service could be reached "
    "(it may be stopped, crashed, or not listening on port 8080).",
    504: "The application took too long to answer (more than {timeout:g} seconds).",
}


def page(status: int, *, timeout: float = 60.0, detail: str = "", head: bool = False) -> bytes:
    """A complete HTTP/1.1 response with ``Connection: close``.

    ``detail`` (e.g. the host name asked for) is escaped: it comes from the client.
    ``head`` leaves the body out, for a HEAD request.
    """
    title = f"{status} {TITLES[status]}"
    text = EXPLAIN[status].format(timeout=timeout)
    if detail:
        text = f"{text} ({detail})"
    body = (
        f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n"
        f"<body><h1>{title}</h1>\n<p>{html.escape(text)}</p>\n"
        "<hr><p>dotkit sandbox gateway</p></body></html>\n"
    ).encode()
    head_lines = (
        f"HTTP/1.1 {title}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-cache\r\nPragma: no-cache\r\nExpires: -1\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return head_lines if head else head_lines + body
