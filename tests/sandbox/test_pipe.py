"""The router's pipes: endpoints, and a route that retries the next backend."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kit.sandbox.pipe import Route, listen, parse_endpoint


def test_endpoints() -> None:
    assert parse_endpoint("tcp:127.0.0.1:80") == ("tcp", "127.0.0.1", 80)
    with pytest.raises(ValueError, match="not an endpoint"):
        parse_endpoint("http://x")


def test_route_retries_the_next_backend_and_counts_failures(tmp_path: Path) -> None:
    async def scenario() -> tuple[bytes, int, int]:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"pong")
            await writer.drain()
            writer.close()

        good = await asyncio.start_unix_server(answer, f"{tmp_path}/good.sock")
        route = Route([f"unix:{tmp_path}/missing.sock", f"unix:{tmp_path}/good.sock"])
        front = await listen("tcp:127.0.0.1:0", route)
        port = front.sockets[0].getsockname()[1]
        replies = []
        for _ in range(4):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            replies.append(await reader.read())
            writer.close()
        route.set_backends([f"unix:{tmp_path}/missing.sock"])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        lost = await reader.read()
        writer.close()
        good.close()
        front.close()
        assert set(replies) == {b"pong"}
        return lost, route.failed, route.connections

    # A thread of its own: another test module may leave an event loop running here.
    with ThreadPoolExecutor(1) as pool:
        lost, failed, connections = pool.submit(asyncio.run, scenario()).result()
    assert (lost, failed, connections) == (b"", 1, 5)
