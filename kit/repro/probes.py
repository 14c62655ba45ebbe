"""Asking every service of a reproduction whether it answers, the way its users would.

HTTP services are asked through the router's port (any HTTP status below 500
counts as an answer; 5xx means the router or the app failed). TCP ports and
data services are connected to through the router's socket for them: a
service that speaks first, or waits for the client, answers; a connection
closed at once means nothing listens behind the router.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.platform.model import Service
from kit.repro.model import Probe
from kit.sandbox.layout import Layout

HTTP_TIMEOUT = 5.0
TCP_TIMEOUT = 1.0
EXCERPT_BYTES = 400
NO_ROUTE = "not running: the sandbox has no route to it"


def probe_app(layout: Layout, app: str, services: Sequence[Service]) -> list[Probe]:
    """One probe per HTTP service and per TCP port (data services included)."""
    from kit.sandbox.client import connect
    from kit.sandbox.envfile import port_names

    client = connect(layout, start=False)
    routes: dict[str, Any] = {}
    if client is not None:
        with client:
            routes = client.call("status", app=app)["routes"]
    out: list[Probe] = []
    for svc in services:
        if svc.is_code:
            out.append(_http(svc.name, _listen(routes, f"{svc.name}.http", "tcp:")))
        for port in port_names(svc):
            out.append(_tcp(svc.name, port, _listen(routes, f"{svc.name}.{port}", "unix:")))
    return out


def _listen(routes: dict[str, Any], name: str, scheme: str) -> str | None:
    route = routes.get(name)
    if route is None:
        return None
    found = [a[len(scheme) :] for a in route.get("listen", []) if a.startswith(scheme)]
    return found[0] if found else None


def _http(service: str, address: str | None) -> Probe:
    if address is None:
        return Probe(service, "http", "-", False, None, NO_ROUTE, 0.0)
    url = f"http://{address}/"
    ok, status, detail, seconds = http_get(url)
    return Probe(service, "http", url, ok, status, detail, seconds)


def http_get(url: str, timeout: float = HTTP_TIMEOUT) -> tuple[bool, int | None, str, float]:
    """(answered, status, the body's first bytes or why not, seconds); never raises."""
    # No proxy: a proxy from the environment must not stand between us and 127.0.0.1.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"User-Agent": "dotkit-repro"})
    start = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            status, body = int(response.status), response.read(EXCERPT_BYTES)
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            body = exc.read(EXCERPT_BYTES)
        except OSError:
            body = b""
        exc.close()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, None, f"no answer: {reason}", time.monotonic() - start
    seconds = time.monotonic() - start
    return status < 500, status, body.decode("utf-8", errors="replace"), seconds


def _tcp(service: str, port: str, sock_path: str | None) -> Probe:
    target = f"{service}.{port}"
    if sock_path is None:
        return Probe(service, "tcp", target, False, None, NO_ROUTE, 0.0)
    ok, detail, seconds = tcp_connect(Path(sock_path))
    return Probe(service, "tcp", target, ok, None, detail, seconds)


def tcp_connect(sock_path: Path, timeout: float = TCP_TIMEOUT) -> tuple[bool, str, float]:
    """Connect through the router's socket and listen briefly; never raises."""
    start = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(sock_path))
        except OSError as exc:
            return False, f"cannot connect: {exc.strerror or exc}", time.monotonic() - start
        try:
            data = sock.recv(EXCERPT_BYTES)
        except TimeoutError:
            return (
                True,
                "connected; the service waits for the client to speak first",
                time.monotonic() - start,
            )
        except OSError as exc:
            return False, f"connected, then: {exc.strerror or exc}", time.monotonic() - start
    seconds = time.monotonic() - start
    if not data:
        return (
            False,
            "the connection was closed at once: nothing answers behind the router",
            seconds,
        )
    return True, "connected; it said: " + data.decode("utf-8", errors="replace"), seconds
