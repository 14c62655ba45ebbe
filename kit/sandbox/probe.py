"""Is the new instance responsive? Asked of the instance itself, never by a fixed sleep.

Three sources, polled every few milliseconds: an HTTP request to port 8080,
supervisord's own view of its programs (over its XML-RPC socket), and the
container's listening sockets, read from ``/proc/<pid>/net/tcp`` of a process in
its network namespace.

The request is what a browser sends (``Accept``, ``Accept-Language``, the
service's own ``Host``), since an app may route on them. It goes the way the
router's requests go: from a socket made inside the container's network
namespace, straight to ``127.0.0.1:8080``. A refused connection then means that
nothing listened, and one taken and closed without an answer means that the app
took the request and dropped it, with nothing in between to blur the two. Where
the namespace cannot be entered (a host process, or no right to setns) the
request goes through the container's relay socket, and a drop counts as the
app's only if the app was seen listening a moment before. Either way, an app
that crashes on its first request must not look like one that never started.
"""

import socket
import time
import xmlrpc.client
from pathlib import Path
from typing import Any, NamedTuple

from kit.sandbox.pipe import socket_in_netns

POLL = 0.005
SUPERVISOR_POLL = 0.1
LISTEN_MEMORY = 0.5  # seconds a sighting of the app on 8080 counts for
WRONG_PORT_GRACE = 0.3


class NotReady(Exception):
    """The instance failed, or did not become responsive in time."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.log_tail = log_tail


class Ready(NamedTuple):
    seconds: float
    how: str  # "http", "tcp" or "running"


ANSWERED, REFUSED, DROPPED = "answered", "refused", "dropped"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) dotkit-readiness-probe"


def probe_request(host: str) -> bytes:
    """The readiness probe's request: what a browser asking for ``/`` sends."""
    lines = [
        "GET / HTTP/1.1",
        f"Host: {host}",
        f"User-Agent: {USER_AGENT}",
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language: en-US,en;q=0.5",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def describe_request(host: str) -> str:
    return f"GET / with Host: {host} and a browser's Accept headers"


def http_probe(sock_path: Path, host: str = "localhost", timeout: float = 1.0) -> str:
    """Send the probe's request through the relay socket: ``ANSWERED`` (any HTTP
    answer), ``DROPPED`` (taken, then the connection closed with no answer) or
    ``REFUSED`` (not taken, or no answer in ``timeout``)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        return _exchange(sock, str(sock_path), host, timeout)


def netns_probe(
    pid: int, host: str = "localhost", port: int = 8080, timeout: float = 1.0
) -> str | None:
    """The probe's request from inside ``pid``'s network namespace: ``ANSWERED``,
    ``DROPPED`` (the connection was taken, then closed or reset with no answer) or
    ``REFUSED`` (nothing listens, or no answer in ``timeout``). None when the
    namespace cannot be entered (the caller then goes through the relay)."""
    try:
        sock = socket_in_netns(pid)
    except OSError:
        return None
    with sock:
        return _exchange(sock, ("127.0.0.1", port), host, timeout)


def _exchange(
    sock: socket.socket, address: str | tuple[str, int], host: str, timeout: float
) -> str:
    """Connect ``sock`` to ``address``, send the probe's request, classify the answer."""
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except OSError:
        return REFUSED
    try:
        sock.sendall(probe_request(host))
        first = sock.recv(5)
    except (ConnectionResetError, BrokenPipeError):
        return DROPPED
    except OSError:
        return REFUSED
    if first == b"HTTP/":
        return ANSWERED
    return DROPPED if first == b"" else REFUSED


def listening_ports(pid: int) -> set[int] | None:
    """TCP ports in LISTEN state in ``pid``'s network namespace (None if unknown)."""
    ports: set[int] = set()
    found = False
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        found = True
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":
                address, port = fields[1].rsplit(":", 1)
                # 127.0.10.x (little-endian hex "..0A007F") are the sandbox's own relays
                # to other services, not the app.
                if name == "tcp" and address.endswith("0A007F"):
                    continue
                ports.add(int(port, 16))
    return ports if found else None


def supervisor(sock_path: Path) -> Any:
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, serverurl=f"unix://{sock_path}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def programs(sock_path: Path) -> list[dict[str, Any]] | None:
    try:
        info: list[dict[str, Any]] = supervisor(sock_path).supervisor.getAllProcessInfo()
    except (OSError, xmlrpc.client.Error):
        return None
    return info


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def wait_ready(
    *,
    sockets: Path,
    pid: int,
    expect_http: bool | None,
    tcp_ports: list[int],
    timeout: float,
    log_dir: Path,
    netns: bool,
    http_host: str = "localhost",
) -> Ready:
    """Block until the instance answers; raise :class:`NotReady` with the reason."""
    start = time.monotonic()
    deadline = start + timeout
    next_supervisor = start
    running_since: float | None = None
    dropped = ""  # set once the app took the probe's request and closed without an answer
    seen_8080 = -LISTEN_MEMORY  # when the app was last seen listening on 8080
    ask = _Asker(pid, sockets / "http.sock", http_host, direct=netns)
    while True:
        now = time.monotonic()
        if not alive(pid):
            raise NotReady("the container stopped" + dropped, _tail(log_dir))
        listening = listening_ports(pid) if netns else None
        ports_ok = all(p in listening for p in tcp_ports) if listening is not None else True
        answer, sure = ask.once() if expect_http is not False else (REFUSED, False)
        if answer == ANSWERED and ports_ok:
            return Ready(time.monotonic() - start, "http")
        if listening is not None and 8080 in listening:
            seen_8080 = now
        # Through the relay, a drop is the app's only if it was seen listening a
        # moment ago (the look at its ports and the request are not one instant).
        if answer == DROPPED and (sure or now - seen_8080 < LISTEN_MEMORY):
            dropped = (
                "; it crashed while answering the readiness probe's request "
                f"({describe_request(http_host)})"
            )
        if now >= next_supervisor:
            next_supervisor = now + SUPERVISOR_POLL
            states = programs(sockets / "supervisor.sock")
            if states:
                fatal = [p for p in states if p["statename"] == "FATAL"]
                if fatal:
                    name = fatal[0]["name"]
                    raise NotReady(
                        f"program {name!r} could not stay running (supervisord gave up: FATAL)"
                        + dropped,
                        _tail(log_dir, name),
                    )
                if all(p["statename"] == "RUNNING" for p in states):
                    running_since = running_since or now
                else:
                    running_since = None
        if running_since is not None and listening is not None and expect_http is not False:
            others = sorted(p for p in listening if p != 8080 and p not in tcp_ports)
            if 8080 not in listening and others and now - running_since > WRONG_PORT_GRACE:
                raise NotReady(
                    f"the app listens on {', '.join(map(str, others))}, not on 8080, so the "
                    "router can never reach it",
                    _tail(log_dir),
                )
        if (
            running_since is not None
            and ports_ok
            and (expect_http is False or (expect_http is None and now - running_since > 2.0))
        ):
            return Ready(time.monotonic() - start, "tcp" if tcp_ports else "running")
        if now >= deadline:
            raise NotReady(
                f"the instance did not become responsive within {timeout:g} s" + dropped,
                _tail(log_dir),
            )
        time.sleep(POLL)


class _Asker:
    """Sends the probe's request: inside the namespace until that turns out
    impossible, then through the relay socket."""

    def __init__(self, pid: int, relay: Path, host: str, *, direct: bool) -> None:
        self.pid, self.relay, self.host, self.direct = pid, relay, host, direct

    def once(self) -> tuple[str, bool]:
        """The answer, and whether a drop is certainly the app's."""
        if self.direct:
            answer = netns_probe(self.pid, self.host)
            if answer is not None:
                return answer, True
            self.direct = False
        if not self.relay.exists():
            return REFUSED, False
        return http_probe(self.relay, self.host), False


def _tail(log_dir: Path, program: str | None = None, lines: int = 15) -> str:
    files = sorted(log_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
    if program:
        files = [f for f in files if f.name.startswith(program)] or files
    out: list[str] = []
    for path in files[-3:]:
        if path.name == "supervisord.log" and program:
            continue
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if text:
            out.append(f"== {path.name} ==")
            out.extend(text[-lines:])
    return "\n".join(out)
