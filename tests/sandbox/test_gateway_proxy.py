"""The gateway's HTTP proxying, against real Node.js servers on this machine.

The gateway runs on its own event loop in a thread; the tests are its clients,
with raw sockets where the bytes matter and http.client where they do not.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kit.sandbox.gateway.route import HttpRoute
from kit.sandbox.gateway.server import Gateway, read_ports
from kit.sandbox.pipe import listen

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
T = TypeVar("T")

APP = r"""
var http = require('http');
var name = process.argv[3], broken = process.argv[4] === 'broken', checks = 0;
var server = http.createServer(function (req, res) {
  if (req.url === '/CloudHealthCheck') checks++;
  if (broken) { res.writeHead(500); res.end('broken ' + name + ' checks=' + checks); return; }
  if (req.url === '/hang') return;
  if (req.url === '/chunks') { res.write('a'); res.write('b'); res.end('c'); return; }
  var body = '';
  req.on('data', function (d) { body += d; });
  req.on('end', function () {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({name: name, method: req.method, url: req.url,
                            headers: req.headers, body: body, checks: checks}));
  });
});
server.on('upgrade', function (req, socket, head) {
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
  if (head.length) socket.write(head);
  socket.on('data', function (d) { socket.write(d); });
});
server.listen(Number(process.argv[2]), '127.0.0.1', function () { console.log('ready'); });
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Loop:
    """An event loop in a thread, for the gateway under test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def call(self, fn: Callable[[], T]) -> T:
        async def wrapped() -> T:
            return fn()

        return self.run(wrapped())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.stop()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start a Node.js app; returns its backend spec (``tcp:127.0.0.1:PORT``)."""
    script = tmp_path / "app.js"
    script.write_text(APP)
    procs: list[subprocess.Popen[str]] = []

    def start(name: str, *flags: str) -> str:
        port = _free_port()
        proc = subprocess.Popen(
            ["node", str(script), str(port), name, *flags], stdout=subprocess.PIPE, text=True
        )
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return f"tcp:127.0.0.1:{port}"

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def _route(loop: Loop, backends: list[str], **kw: Any) -> tuple[HttpRoute, int]:
    port = _free_port()

    async def make() -> HttpRoute:
        route = HttpRoute(backends, **kw)
        await listen(f"tcp:127.0.0.1:{port}", route)
        return route

    return loop.run(make()), port


def _get(port: int, path: str = "/", **kw: Any) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(kw.pop("method", "GET"), path, **kw)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def _raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data``, read until the gateway closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        return out


def test_requests_arrive_with_the_platforms_headers_and_their_bodies(
    loop: Loop, node: Callable[..., str]
) -> None:
    route, port = _route(loop, [node("a")])
    status, body = _get(port, "/x?y=1", headers={"X-Forwarded-For": "10.1.2.3", "X-Real-IP": "x"})
    seen = json.loads(body)
    assert status == 200 and seen["url"] == "/x?y=1"
    assert seen["headers"]["x-forwarded-for"] == "10.1.2.3, 127.0.0.1"
    assert seen["headers"]["x-real-ip"] == "127.0.0.1"
    assert seen["headers"]["x-forwarded-proto"] == seen["headers"]["x-forwarded-protocol"] == "http"
    assert seen["headers"]["x-forwarded-port"] == str(port)
    assert seen["headers"]["host"] == f"127.0.0.1:{port}"
    status, body = _get(port, "/up", method="POST", body=b"k=v")
    assert json.loads(body)["body"] == "k=v"
    chunked = _raw(
        port,
        b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    )
    assert json.loads(chunked.partition(b"\r\n\r\n")[2])["body"] == "abcde"
    assert b"abc" in _get(port, "/chunks")[1]
    assert loop.call(lambda: route.draining(route.backends)) == 0


def test_a_kept_alive_client_follows_the_switch_and_old_connections_close(
    loop: Loop, node: Callable[..., str]
) -> None:
    old, new = node("old"), node("new")
    route, port = _route(loop, [old])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/1")
    assert json.loads(conn.getresponse().read())["name"] == "old"
    assert loop.call(lambda: len(route.idle.get(old, []))) == 1  # kept for the next request
    loop.call(lambda: route.set_backends([new]))
    conn.request("GET", "/2")  # the same client connection
    assert json.loads(conn.getresponse().read())["name"] == "new"
    conn.close()
    assert loop.call(lambda: (route.idle.get(old), route.draining([old]))) == (None, 0)


def test_round_robin_per_request(loop: Loop, node: Callable[..., str]) -> None:
    _, port = _route(loop, [node("a"), node("b")])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    names = []
    for _ in range(4):
        conn.request("GET", "/")
        names.append(json.loads(conn.getresponse().read())["name"])
    conn.close()
    assert sorted(names) == ["a", "a", "b", "b"]


def test_502_when_no_instance_answers(loop: Loop) -> None:
    dead = f"tcp:127.0.0.1:{_free_port()}"
    route, port = _route(loop, [dead], check_every=60)
    reply = _raw(port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert b"\r\nConnection: close\r\n" in reply
    assert loop.call(lambda: (route.failed, route.out_of_rotation())) == (1, [dead])


def test_504_when_the_instance_stays_silent(loop: Loop, node: Callable[..., str]) -> None:
    route, port = _route(loop, [node("a")], timeout=1.0)
    reply = _raw(port, b"GET /hang HTTP/1.1\r\nHost: a\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 504 Gateway Timeout\r\n")
    assert b"more than 1 seconds" in reply
    assert loop.call(lambda: (route.failed, route.draining(route.backends))) == (1, 0)


def test_an_upgrade_becomes_a_byte_pipe(loop: Loop, node: Callable[..., str]) -> None:
    route, port = _route(loop, [node("a")])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101 ")
        assert loop.call(lambda: route.draining(route.backends)) == 1  # a tunnel is open
        for message in (b"hello", b"\x00\xff binary"):
            sock.sendall(message)
            assert sock.recv(4096) == message
    deadline = time.monotonic() + 5
    while loop.call(lambda: route.draining(route.backends)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert loop.call(lambda: route.draining(route.backends)) == 0


def test_pipelined_requests_are_answered_in_order(loop: Loop, node: Callable[..., str]) -> None:
    _, port = _route(loop, [node("a")])
    reply = _raw(
        port,
        b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
        b"GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    assert reply.count(b"HTTP/1.1 200 OK") == 3
    assert reply.index(b'"url":"/1"') < reply.index(b'"url":"/3"')
    assert b'"url":"/2"' not in reply  # a HEAD answer has no body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", b"400"),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"400",
        ),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"x" * 70000 + b"\r\n\r\n", b"431"),
    ],
    ids=["garbage", "two-hosts", "length-and-chunked", "huge-head"],
)
def test_requests_that_cannot_be_forwarded_safely_are_refused(
    loop: Loop, node: Callable[..., str], request_bytes: bytes, status: bytes
) -> None:
    route, port = _route(loop, [node("a")])
    assert _raw(port, request_bytes).startswith(b"HTTP/1.1 " + status)
    assert loop.call(lambda: route.draining(route.backends)) == 0


def test_an_instance_answering_5xx_leaves_rotation_after_its_health_check(
    loop: Loop, node: Callable[..., str]
) -> None:
    bad, good = node("bad", "broken"), node("good")
    route, port = _route(loop, [bad, good], check_every=0.1)
    statuses = [_get(port)[0] for _ in range(2)]
    assert sorted(statuses) == [200, 500]
    deadline = time.monotonic() + 5
    while loop.call(route.out_of_rotation) != [bad] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert loop.call(route.out_of_rotation) == [bad]
    replies = [_get(port) for _ in range(6)]
    assert {status for status, _ in replies} == {200}
    assert {json.loads(body)["name"] for _, body in replies} == {"good"}
    # It is still checked, with HEAD /CloudHealthCheck, while it fails.
    while loop.call(lambda: route.health.checks) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    loop.call(lambda: route.set_backends([bad]))
    status, body = _get(port)
    assert status == 500 and int(body.split(b"checks=")[1]) >= 2


def test_the_shared_gateway_routes_by_host_name(
    loop: Loop, node: Callable[..., str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    gateway = Gateway(home)

    shop_app, blog_app = node("shop"), node("blog-api")

    async def setup() -> None:
        shop, blog = HttpRoute([shop_app]), HttpRoute([blog_app])
        await gateway.add("shop", "www", shop)
        await gateway.add("blog", "api", blog)

    loop.run(setup())
    ports = read_ports(home)
    assert ports is not None
    for host, name in [
        ("shop.localhost", "shop"),
        ("www.shop.localhost:80", "shop"),
        ("API.blog.localhost.", "blog-api"),
    ]:
        status, body = _get(ports.http, headers={"Host": host})
        assert (status, json.loads(body)["name"]) == (200, name)
    assert _get(ports.http, headers={"Host": "nope.localhost"})[0] == 404
    loop.call(lambda: gateway.remove("shop", "www"))
    assert _get(ports.http, headers={"Host": "shop.localhost"})[0] == 404
    loop.call(gateway.close)
    again = Gateway(home)
    backend = node("blog-api")

    async def restart() -> None:
        await again.add("blog", "api", HttpRoute([backend]))

    loop.run(restart())
    assert read_ports(home) == ports  # the same URLs after a restart
    loop.call(again.close)


def test_a_client_that_stops_sending_still_gets_every_answer(
    loop: Loop, node: Callable[..., str]
) -> None:
    _, port = _route(loop, [node("a")])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.count(b"HTTP/1.1 200 OK") == 2
    assert b'"url":"/2"' in reply
