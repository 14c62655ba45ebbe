"""The platform's health check: ``HEAD /CloudHealthCheck`` after an error.

On dotCloud, an instance that answered with a 5xx was checked every 3 seconds
with ``HEAD /CloudHealthCheck``; while the check got a 5xx or no answer, the
instance was out of rotation. Any answer below 500 (a 404 from an app that does
not know the path is fine) puts it back, and the checks stop. An instance that
refuses connections is out at once, and checked the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from kit.sandbox.pipe import connect_to

CHECK_EVERY = 3.0
CHECK_TIMEOUT = 3.0
CHECK_REQUEST = (
    b"HEAD /CloudHealthCheck HTTP/1.0\r\n"
    b"Host: localhost\r\nUser-Agent: dotkit-gateway health check\r\n\r\n"
)


class Health:
    """Which instances are out of rotation, and the checks that may bring them back."""

    def __init__(self, check: Callable[[str], Awaitable[bool]], every: float = CHECK_EVERY) -> None:
        self.check = check
        self.every = every
        self.out: set[str] = set()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.checks = 0  # how many checks were made (status shows it)

    def suspect(self, backend: str) -> None:
        """Start checking ``backend`` (unless it is already being checked)."""
        if backend not in self.tasks:
            self.tasks[backend] = asyncio.get_running_loop().create_task(self._watch(backend))

    def refused(self, backend: str) -> None:
        self.out.add(backend)
        self.suspect(backend)

    def forget(self, keep: set[str]) -> None:
        """Stop checking instances that are no longer in the route."""
        for backend in [b for b in self.tasks if b not in keep]:
            self.tasks.pop(backend).cancel()
        self.out &= keep

    async def _watch(self, backend: str) -> None:
        while True:
            self.checks += 1
            if await self.check(backend):
                self.out.discard(backend)
                del self.tasks[backend]  # (a cancelled watch was removed by forget)
                return
            self.out.add(backend)
            await asyncio.sleep(self.every)


class _Status(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[int]) -> None:
        self.done = done
        self.data = b""

    def data_received(self, data: bytes) -> None:
        self.data += data
        if b"\r\n" in self.data and not self.done.done():
            self.done.set_result(status_of(self.data))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(status_of(self.data))


def status_of(data: bytes) -> int:
    """The status code of a response's first line; 0 when there is none."""
    parts = data.split(b"\r\n", 1)[0].split()
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return 0


async def probe(spec: str, timeout: float = CHECK_TIMEOUT) -> bool:
    """One check of the instance at ``spec``: did it answer below 500 in time?"""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()
    try:
        transport = await asyncio.wait_for(connect_to(spec, lambda: _Status(done)), timeout)
    except (OSError, TimeoutError, ValueError):
        return False
    try:
        transport.write(CHECK_REQUEST)
        status = await asyncio.wait_for(done, timeout)
    except TimeoutError:
        return False
    finally:
        with contextlib.suppress(OSError):
            transport.close()
    return 0 < status < 500
