"""The gateway's pure parts: host names, the forwarded head, its own pages, the health rule."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from kit.sandbox.gateway import headers, names, pages
from kit.sandbox.gateway.health import Health, status_of
from kit.sandbox.gateway.tls import app_of

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: another test's tool (Playwright's sync
    API) may keep an event loop running on the main thread for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(30)


def _head(*pairs: tuple[bytes, bytes]) -> headers.Head:
    head = headers.Head()
    for name, value in pairs:
        head.add(name, value)
    return head


# -- names -----------------------------------------------------------------------------------


def test_each_service_has_a_dotted_name_and_www_also_the_apps_own() -> None:
    assert names.names_of("shop", "api") == ("api.shop.localhost",)
    assert names.names_of("shop", "www") == ("www.shop.localhost", "shop.localhost")
    # An app called "shop-api" and the service "api" of "shop" cannot meet.
    assert names.names_of("shop-api", "www")[-1] != names.names_of("shop", "api")[0]


def test_urls_leave_out_default_ports_and_name_www_by_its_app() -> None:
    assert names.url("http", "shop", "www", 8000) == "http://shop.localhost:8000/"
    assert names.url("https", "shop", "www", 443) == "https://shop.localhost/"
    assert names.url("http", "shop", "api", 80) == "http://api.shop.localhost/"


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Api.Shop.LOCALHOST:8080", "api.shop.localhost"),
        ("shop.localhost.", "shop.localhost"),
        ("shop.localhost", "shop.localhost"),
        ("[::1]:8080", "::1"),
        ("[::1", ""),
        ("  shop.localhost  ", "shop.localhost"),
        ("shop.localhost:http", "shop.localhost:http"),
    ],
)
def test_host_headers_are_reduced_to_a_name(header: str, name: str) -> None:
    assert names.host_only(header) == name


# -- the forwarded head --------------------------------------------------------------------


def test_the_platforms_headers_are_added() -> None:
    head = _head((b"Host", b"shop.localhost:8000"), (b"Accept", b"*/*"))
    out = head.render(b"GET", b"/a?b=1", "1.1", peer="127.0.0.1", scheme="https", port=8443)
    assert out == (
        b"GET /a?b=1 HTTP/1.1\r\nHost: shop.localhost:8000\r\nAccept: */*\r\n"
        b"X-Forwarded-For: 127.0.0.1\r\nX-Real-IP: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
        b"X-Forwarded-Protocol: https\r\nX-Forwarded-Port: 8443\r\n\r\n"
    )


def test_a_clients_forwarding_headers_cannot_pose_as_the_gateway() -> None:
    head = _head(
        (b"X-Real-IP", b"6.6.6.6"),
        (b"x-forwarded-proto", b"https"),
        (b"X-Forwarded-Port", b"443"),
        (b"X-Forwarded-Protocol", b"https"),
        (b"X-Forwarded-For", b"10.0.0.1, 10.0.0.2"),
        (b"X-FORWARDED-FOR", b"  "),
    )
    out = head.render(b"GET", b"/", "1.0", peer="127.0.0.5", scheme="http", port=80)
    assert b"6.6.6.6" not in out and b"https" not in out and b": 443" not in out
    # The address the gateway saw comes last, after what the client claimed.
    assert b"X-Forwarded-For: 10.0.0.1, 10.0.0.2, 127.0.0.5\r\n" in out
    assert out.count(b"X-Forwarded-For") == 1
    assert b"X-Real-IP: 127.0.0.5\r\n" in out


def test_host_and_transfer_encoding_are_read_and_kept() -> None:
    head = _head((b"Host", b"a"), (b"Transfer-Encoding", b"gzip, Chunked"))
    assert head.host() == "a" and head.chunked
    out = head.render(b"POST", b"/", "1.1", peer="127.0.0.1", scheme="http", port=80)
    assert b"\r\nHost: a\r\nTransfer-Encoding: gzip, Chunked\r\n" in out
    assert _head().host() == ""
    assert _head((b"Host", b"a"), (b"host", b"b")).host() is None  # two hosts: refused


# -- pages ---------------------------------------------------------------------------------


def test_pages_are_complete_responses_that_close() -> None:
    page = pages.page(502)
    head, _, body = page.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert b"\r\nConnection: close" in head and b"\r\nCache-Control: no-cache" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert b"504 Gateway Timeout" in pages.page(504, timeout=60)
    assert b"more than 60 seconds" in pages.page(504, timeout=60)
    assert pages.page(502, head=True) == head + b"\r\n\r\n"


def test_a_page_escapes_what_the_client_sent() -> None:
    page = pages.page(404, detail="<script>x</script>.localhost")
    assert b"<script>" not in page and b"&lt;script&gt;" in page


# -- health --------------------------------------------------------------------------------


def test_status_lines() -> None:
    assert status_of(b"HTTP/1.1 503 Service Unavailable\r\n") == 503
    assert status_of(b"HTTP/1.0 200 OK\r\nX: y") == 200
    assert status_of(b"garbage\r\n") == 0
    assert status_of(b"") == 0


def test_an_instance_is_out_while_its_check_fails_and_back_when_it_passes() -> None:
    answers = {"a": [False, False, True]}
    asked: list[str] = []

    async def check(backend: str) -> bool:
        asked.append(backend)
        return answers[backend].pop(0)

    async def run() -> list[set[str]]:
        health = Health(check, every=0.01)
        seen = []
        health.suspect("a")
        health.suspect("a")  # one watcher per instance
        await asyncio.sleep(0)
        seen.append(set(health.out))
        while health.tasks:
            await asyncio.sleep(0.005)
        seen.append(set(health.out))
        return seen

    seen = _run(run())
    assert seen == [{"a"}, set()]
    assert asked == ["a", "a", "a"]


def test_a_refused_instance_is_out_at_once_and_forgotten_when_it_leaves() -> None:
    async def check(backend: str) -> bool:
        await asyncio.sleep(10)
        return True

    async def run() -> tuple[set[str], set[str], int]:
        health = Health(check)
        health.refused("b")
        out_now = set(health.out)
        health.forget({"c"})
        await asyncio.sleep(0)
        return out_now, set(health.out), len(health.tasks)

    assert _run(run()) == ({"b"}, set(), 0)


# -- TLS server names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "app"),
    [
        ("www.shop.localhost", "shop"),
        ("shop.localhost", "shop"),
        ("A.Shop.LOCALHOST.", "shop"),
        ("localhost", None),
        ("shop.example.com", None),
        (".localhost", None),
    ],
)
def test_the_app_of_a_tls_server_name(name: str, app: str | None) -> None:
    assert app_of(name) == app
