"""Real concurrent HTTP load on a service while a notebook pushes, request by request.

Three kinds of clients run at once, each in a thread of its own:

- keep-alive clients send request after request on one connection, and open a new
  one every ``recycle`` requests (as browsers and HTTP libraries do);
- new-connection clients open a connection for every request;
- slow clients take ``slow_seconds`` to send each request (the headers trickle in,
  as over a poor mobile link), so one of their requests is always in flight.

The sandbox's router picks a container when a connection opens, so a request
that started before a push switched the traffic is answered by the old
container, after the switch: that is what "old connections drain" means. Every
request is kept (:class:`Request`) with wall-clock times, which compare directly
with the deployment record's ``started``, ``finished`` and ``ready_at``.
"""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from .deployments import Deployment


class Request(NamedTuple):
    """One request of the load, and how it ended."""

    client: str  # "keep-alive 1", "new connection 2", "slow 1"
    kind: str  # "keep-alive", "new connection" or "slow"
    start: float  # wall clock, when the client began (connecting included)
    end: float  # when the answer was read, or the client gave up
    status: int | None  # the HTTP status, None when there was no answer
    error: str  # what went wrong, or ""
    answered_by: str  # what the answer says about the process that sent it, or ""

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def seconds(self) -> float:
        return self.end - self.start


def process_label(body: bytes) -> str:
    """Which process answered, from a JSON body: Gear1's ``started`` (the moment its
    node process started), else an ``instance`` number, else ``""``."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return str(data.get("started") or data.get("instance") or "")


def _parse(raw: bytes) -> tuple[int | None, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1]), body
    return None, body


class Load:
    """Concurrent requests to ``url`` while the ``with`` block runs (see the module)."""

    def __init__(
        self,
        url: str,
        *,
        keep_alive: int = 3,
        new_connections: int = 2,
        slow: int = 2,
        slow_seconds: float = 0.6,
        pause: float = 0.02,
        recycle: int = 20,
        timeout: float = 3.0,
        tail: float = 0.5,
        label: Callable[[bytes], str] = process_label,
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.clients = {"keep-alive": keep_alive, "new connection": new_connections, "slow": slow}
        self.slow_seconds, self.pause, self.recycle = slow_seconds, pause, recycle
        self.timeout, self.tail, self.label = timeout, tail, label
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=work, args=(f"{kind} {n}",), daemon=True)
            for kind, work in (
                ("keep-alive", self._keep_alive),
                ("new connection", self._new_connection),
                ("slow", self._slow),
            )
            for n in range(1, self.clients[kind] + 1)
        ]

    # -- the clients ---------------------------------------------------------------------

    def _keep(self, client: str, start: float, status: int | None, error: str, body: bytes) -> None:
        kind = client.rsplit(" ", 1)[0]
        who = self.label(body) if status == 200 else ""
        with self._lock:
            self.requests.append(Request(client, kind, start, time.time(), status, error, who))

    def _keep_alive(self, client: str) -> None:
        conn: http.client.HTTPConnection | None = None
        sent = 0
        while not self._stop.is_set():
            if conn is None:
                conn, sent = (
                    http.client.HTTPConnection(self.host, self.port, timeout=self.timeout),
                    0,
                )
            start = time.time()
            try:
                conn.request("GET", self.path)
                response = conn.getresponse()
                body = response.read()
                self._keep(client, start, response.status, "", body)
                sent += 1
                if sent >= self.recycle or response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                self._keep(client, start, None, type(exc).__name__, b"")
                conn.close()
                conn = None
            self._stop.wait(self.pause)
        if conn is not None:
            conn.close()

    def _new_connection(self, client: str) -> None:
        while not self._stop.is_set():
            start = time.time()
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request("GET", self.path, headers={"Connection": "close"})
                response = conn.getresponse()
                self._keep(client, start, response.status, "", response.read())
            except (OSError, http.client.HTTPException) as exc:
                self._keep(client, start, None, type(exc).__name__, b"")
            finally:
                conn.close()
            self._stop.wait(self.pause)

    def _slow(self, client: str) -> None:
        steps = 6
        # Slow clients take turns, so that one of them is always in the middle of a request.
        number = int(client.rsplit(" ", 1)[1])
        self._stop.wait(self.slow_seconds * (number - 1) / max(1, self.clients["slow"]))
        while not self._stop.is_set():
            start = time.time()
            try:
                with socket.create_connection((self.host, self.port), self.timeout) as sock:
                    # HTTP/1.0: the answer comes whole, not in chunks, and ends the connection.
                    sock.sendall(f"GET {self.path} HTTP/1.0\r\nHost: {self.host}\r\n".encode())
                    for _ in range(steps):
                        time.sleep(self.slow_seconds / steps)
                        sock.sendall(b"X-Slow-Client: yes\r\n")
                    sock.sendall(b"\r\n")
                    chunks = []
                    while chunk := sock.recv(65536):
                        chunks.append(chunk)
                status, body = _parse(b"".join(chunks))
                self._keep(client, start, status, "" if status else "no answer", body)
            except OSError as exc:
                self._keep(client, start, None, type(exc).__name__, b"")

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        time.sleep(0.5)  # traffic before whatever comes next
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(self.tail)  # and after
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.requests.sort(key=lambda r: r.start)

    # -- what happened -------------------------------------------------------------------

    @property
    def failed(self) -> list[Request]:
        return [r for r in self.requests if not r.ok]

    @property
    def labels(self) -> list[str]:
        """The processes that answered, in the order of their first answer."""
        seen: dict[str, None] = {}
        for request in sorted(self.requests, key=lambda r: r.end):
            if request.ok and request.answered_by:
                seen.setdefault(request.answered_by, None)
        return list(seen)

    def switch_at(self) -> float | None:
        """When the traffic moved: the start of the first request the second process answered."""
        labels = self.labels
        if len(labels) < 2:
            return None
        return min(r.start for r in self.requests if r.answered_by == labels[1])

    def across_switch(self) -> list[Request]:
        """Requests the old process answered that were sent before the switch and
        answered after it."""
        switch = self.switch_at()
        old = self.labels[:1]
        if switch is None:
            return []
        return [r for r in self.requests if r.answered_by in old and r.start < switch < r.end]

    def kept_on_old(self) -> list[Request]:
        """Requests sent after the switch that the old process still answered (on
        connections opened before it)."""
        switch = self.switch_at()
        old = self.labels[:1]
        if switch is None:
            return []
        return [r for r in self.requests if r.answered_by in old and r.start > switch]

    def longest_gap(self) -> float:
        """The longest time, inside the load, without a successful answer arriving."""
        start, end = self.gap()
        return end - start

    def gap(self) -> tuple[float, float]:
        """Where that longest time without a successful answer was (wall clock)."""
        if not self.requests:
            return (0.0, 0.0)
        ends = sorted(r.end for r in self.requests if r.ok)
        marks = [min(r.start for r in self.requests), *ends, max(r.end for r in self.requests)]
        return max(itertools.pairwise(marks), key=lambda pair: pair[1] - pair[0])

    def summary(self, push: Deployment) -> str:
        """What the load saw during ``push``, in sentences with the measured values."""
        counts = self.clients
        lines = [
            f"push {push.id} under load: {sum(counts.values())} clients "
            f"({counts['keep-alive']} keep-alive, {counts['new connection']} opening a "
            f"connection per request, {counts['slow']} sending each request over "
            f"{self.slow_seconds:.2f} s) sent {len(self.requests)} requests",
            f"failed: {len(self.failed)} requests",
        ]
        labels = self.labels
        by = Counter(r.answered_by for r in self.requests if r.ok)
        switch = self.switch_at()
        if switch is not None and len(labels) == 2:
            across = self.across_switch()
            lines += [
                f"answered by the old container: {by[labels[0]]} requests; "
                f"by the new container: {by[labels[1]]} requests",
                f"traffic moved to the new container {switch - push.started:.2f} s into the "
                f"push (which took {push.seconds or 0:.2f} s)",
                f"in flight across the switch: {len(across)} requests, sent to the old "
                "container before it and answered by that container up to "
                f"{max((r.end - switch for r in across), default=0):.2f} s after it",
                "kept on the old container by connections opened before the switch: "
                f"{len(self.kept_on_old())} requests",
            ]
        lines.append(f"longest time without an answer: {self.longest_gap():.2f} s")
        return "\n".join(lines)
