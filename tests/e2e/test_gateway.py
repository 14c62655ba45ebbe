"""The gateway for real: pushed apps behind it, over HTTP and HTTPS, by port and by name.

Python's resolver does not know ``*.localhost`` here (glibc needs the
``myhostname`` module for that; browsers and curl need nothing), so requests
by name connect to 127.0.0.1 and send the name as ``Host`` and TLS server name,
which is what a browser does once the name resolved.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import Sandbox, converted_guide, needs_node

pytestmark = [pytest.mark.e2e, needs_node]

APP = r"""
var http = require('http');
var REVISION = 'first';
var id = process.env.DOTCLOUD_SERVICE_ID, brokenUntil = 0, checks = 0, sockets = [];
var server = http.createServer(function (req, res) {
  if (req.url === '/CloudHealthCheck') checks++;
  if (Date.now() < brokenUntil) { res.writeHead(500); res.end('broken ' + id); return; }
  if (req.url.indexOf('/break?s=') === 0) {
    brokenUntil = Date.now() + 1000 * Number(req.url.slice(9));
    res.end('breaking ' + id);
    return;
  }
  if (req.url === '/hang') return;
  if (req.url === '/close') {  // stop listening and drop every connection: as if it died
    res.setHeader('Connection', 'close');
    res.end('closing ' + id);
    server.close();
    setTimeout(function () { sockets.forEach(function (s) { s.destroy(); }); }, 50);
    return;
  }
  var body = JSON.stringify({id: id, revision: REVISION, url: req.url, headers: req.headers,
                            checks: checks});
  res.setHeader('Content-Type', 'application/json');
  // Node.js 0.8 (the platform's) answers in chunks unless told the length.
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
});
server.on('connection', function (s) { sockets.push(s); });
server.on('upgrade', function (req, socket) {
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
               'Connection: Upgrade\r\n\r\n');
  socket.on('data', function (d) { socket.write(d); });
});
server.listen(8080);
"""


class Answer:
    def __init__(self, status: int, head: str, body: bytes) -> None:
        self.status, self.head, self.body = status, head, body

    def json(self) -> Any:
        return json.loads(self.body)


def _fetch(url: str, ca: Path | None = None, path: str = "/", method: str = "GET") -> Answer:
    """One request to ``url`` (any host name is reached at 127.0.0.1)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock = socket.create_connection(("127.0.0.1", port), timeout=90)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        sock = context.wrap_socket(sock, server_hostname=host)
    with sock:
        request = f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
    head = "".join(f"{k}: {v}\n" for k, v in response.getheaders())
    return Answer(response.status, head, body)


def _urls(box: Sandbox, app: Path) -> dict[str, str]:
    done = box.dotkit("url", cwd=app)
    assert done.code == 0, done.text
    return dict(line.split(": ", 1) for line in done.out.splitlines() if ": " in line)


def _status(box: Sandbox, app: str) -> dict[str, Any]:
    from kit.sandbox.client import connect
    from kit.sandbox.layout import Layout

    client = connect(Layout(box.home), start=False)
    assert client is not None
    with client:
        return client.call("status", app=app)


def _make_app(root: Path, instances: int = 1) -> Path:
    (root / "www").mkdir(parents=True)
    (root / "dotcloud.yml").write_text(
        f"www:\n  type: nodejs\n  approot: www\n  process: node server.js\n  instances: {instances}\n"
    )
    (root / "www" / "server.js").write_text(APP)
    return root


def _push(box: Sandbox, app: Path, name: str | None = None) -> None:
    if name:
        assert box.dotkit("create", name, cwd=app).code == 0
    push = box.dotkit("push", cwd=app)
    assert push.code == 0, push.text


def _upgrade(sock: socket.socket, host: str) -> None:
    sock.sendall(
        f"GET /chat HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    for message in (b"hello", b"\x81\x05frame"):
        sock.sendall(message)
        assert sock.recv(4096) == message


def test_headers_https_names_and_websockets(sandbox: Sandbox, tmp_path: Path) -> None:
    app = _make_app(tmp_path / "front")
    _push(sandbox, app, "front")
    urls = _urls(sandbox, app)
    own, by_name, https = urls["www"], urls["www (by name)"], urls["www (HTTPS)"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", own)
    assert re.fullmatch(r"http://front\.localhost:\d+/", by_name)
    assert re.fullmatch(r"https://front\.localhost:\d+/", https)
    ca = sandbox.home / "gateway" / "ca.pem"
    assert "dotkit url --trust" in sandbox.dotkit("url", cwd=app).out
    trust = sandbox.dotkit("url", "--trust", cwd=app)
    assert trust.code == 0 and f"curl --cacert {ca}" in trust.out
    assert "update-ca-certificates" in trust.out and "certutil" in trust.out

    for url, proto in ((own, "http"), (by_name, "http"), (https, "https")):
        answer = _fetch(url, ca, "/who?x=1")
        assert answer.status == 200, answer.head
        seen = answer.json()["headers"]
        port = str(urlsplit(url).port)
        assert seen["host"] == urlsplit(url).netloc
        assert seen["x-forwarded-for"] == seen["x-real-ip"] == "127.0.0.1"
        assert seen["x-forwarded-proto"] == seen["x-forwarded-protocol"] == proto
        assert seen["x-forwarded-port"] == port
    assert _fetch(https.replace("front.", "www.front."), ca).json()["id"] == "0"
    unknown = _fetch(by_name.replace("front.", "nothing-here."))
    assert unknown.status == 404 and b"nothing-here.localhost" in unknown.body
    with pytest.raises(ssl.SSLCertVerificationError):
        _fetch(https)  # not trusted without the sandbox's CA
    if shutil.which("curl"):  # curl resolves *.localhost itself, as browsers do
        out = subprocess.run(
            ["curl", "-sS", "--cacert", str(ca), https], capture_output=True, text=True, check=False
        )
        assert json.loads(out.stdout)["headers"]["x-forwarded-proto"] == "https", out.stderr

    # WebSockets: the upgrade becomes a byte pipe, by port, by name and over TLS.
    port = urlsplit(own).port or 80
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        _upgrade(sock, "x")
    gateway_port = urlsplit(https).port or 443
    context = ssl.create_default_context(cafile=str(ca))
    raw = socket.create_connection(("127.0.0.1", gateway_port), timeout=10)
    with context.wrap_socket(raw, server_hostname="front.localhost") as tls:
        _upgrade(tls, "front.localhost")
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_a_dead_instance_gets_a_502_page_and_comes_back(sandbox: Sandbox, tmp_path: Path) -> None:
    app = _make_app(tmp_path / "dies")
    _push(sandbox, app, "dies")
    url = _urls(sandbox, app)["www"]
    assert _fetch(url, path="/close").status == 200
    time.sleep(0.2)
    dead = _fetch(url)
    assert dead.status == 502, dead.head
    assert b"502 Bad Gateway" in dead.body and "Connection: close" in dead.head, dead.head
    assert _status(sandbox, "dies")["routes"]["www.http"]["failed"] >= 1
    assert sandbox.dotkit("restart", "www.0", cwd=app).code == 0
    deadline = time.monotonic() + 30
    while (answer := _fetch(url)).status != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert answer.status == 200
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_a_silent_instance_gets_a_504_after_60_seconds(sandbox: Sandbox, tmp_path: Path) -> None:
    app = _make_app(tmp_path / "slow")
    _push(sandbox, app, "slow")
    url = _urls(sandbox, app)["www (by name)"]
    start = time.monotonic()
    answer = _fetch(url, path="/hang")
    waited = time.monotonic() - start
    assert answer.status == 504, answer.head
    assert b"more than 60 seconds" in answer.body
    assert waited >= 59  # the platform's limit, not a figure of speed
    assert _fetch(url).status == 200  # the instance still serves other requests
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_the_health_check_takes_a_failing_instance_out_of_rotation(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = _make_app(tmp_path / "twice", instances=2)
    _push(sandbox, app, "twice")
    url = _urls(sandbox, app)["www"]
    assert {_fetch(url).json()["id"] for _ in range(4)} == {"0", "1"}
    broken = _fetch(url, path="/break?s=8").body.decode().split()[-1]
    healthy = {"0", "1"} - {broken}
    # Its next request fails; the gateway then checks it and keeps it out while it fails.
    answers = [_fetch(url) for _ in range(2)]
    assert sorted(a.status for a in answers) == [200, 500]
    route = "www.http"
    deadline = time.monotonic() + 10
    while not _status(sandbox, "twice")["routes"][route]["out_of_rotation"]:
        assert time.monotonic() < deadline, "the failing instance stayed in rotation"
        time.sleep(0.1)
    out = _status(sandbox, "twice")["routes"][route]["out_of_rotation"]
    cid = next(c for c, info in _status(sandbox, "twice")["containers"].items()
               if info["service"] == "www" and str(info["instance"]) == broken)  # fmt: skip
    assert out == [f"container:{cid}:8080"]
    assert {_fetch(url).json()["id"] for _ in range(6)} == healthy
    # Once it answers HEAD /CloudHealthCheck below 500 again, it is back.
    deadline = time.monotonic() + 30
    while _status(sandbox, "twice")["routes"][route]["out_of_rotation"]:
        assert time.monotonic() < deadline, "the instance never came back"
        time.sleep(0.2)
    seen = {}
    for _ in range(4):
        body = _fetch(url).json()
        seen[body["id"]] = body["checks"]
    assert set(seen) == {"0", "1"}
    assert seen[broken] >= 2  # it was asked HEAD /CloudHealthCheck while it failed
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_a_kept_alive_client_reaches_the_new_revision_after_a_push(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = _make_app(tmp_path / "keep")
    _push(sandbox, app, "keep")
    port = urlsplit(_urls(sandbox, app)["www"]).port or 80
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    reader = sock.makefile("rb")

    def ask() -> dict[str, Any]:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: keep\r\n\r\n")
        length = 0
        while (line := reader.readline()) != b"\r\n":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return dict(json.loads(reader.read(length)))

    assert ask()["revision"] == "first"
    server = app / "www" / "server.js"
    server.write_text(server.read_text().replace("'first'", "'second'"))
    _push(sandbox, app)
    assert ask()["revision"] == "second"  # the same connection, the new containers
    reader.close()
    sock.close()
    routes = _status(sandbox, "keep")["routes"]
    assert routes["www.http"]["failed"] == 0
    deadline = time.monotonic() + 30  # the old container drains, then stops
    while len(_status(sandbox, "keep")["containers"]) > 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_status(sandbox, "keep")["containers"]) == 1
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_the_guides_sample_answers_over_http_and_https(sandbox: Sandbox, tmp_path: Path) -> None:
    app = converted_guide(sandbox, tmp_path / "portedapp", "--fix")
    _push(sandbox, app, "portedapp")
    urls = _urls(sandbox, app)
    ca = sandbox.home / "gateway" / "ca.pem"
    for service, gear in (("gear1", "Gear1"), ("gear2", "Gear2")):
        assert urls[f"{service} (by name)"].startswith(f"http://{service}.portedapp.localhost:")
        for key in (service, f"{service} (by name)", f"{service} (HTTPS)"):
            answer = _fetch(urls[key], ca)
            assert answer.status == 200, (key, answer.head)
            assert answer.json()["gear"] == gear
    sandbox.dotkit("-y", "destroy", cwd=app)
    assert sandbox.leftovers() == []
