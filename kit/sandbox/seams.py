"""Where the sandbox meets the operating system: the clock, programs, the platform process.

A push is a sequence of decisions over these three; passing them in lets the
decisions be tested with a fake clock, fake programs and a fake platform process
(tests/sandbox/test_push_orchestration.py), while the end-to-end tests run the
real ones. The real ones are what :func:`system` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kit import proc
from kit.sandbox.layout import Layout
from kit.sandbox.probe import Ready

if TYPE_CHECKING:
    from kit.nodejs.fetch import NodeBuild
    from kit.sandbox.dockerbox import DockerTarget


class Clock(Protocol):
    def time(self) -> float: ...  # wall clock: records, revision names, log stamps
    def monotonic(self) -> float: ...  # durations
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Runner(Protocol):
    """How the sandbox starts programs (hooks, copies, git); :mod:`kit.proc`'s shape."""

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        input: bytes | None = None,
    ) -> proc.Completed: ...

    def stream(
        self,
        argv: Sequence[str],
        *,
        on_line: Callable[[str], None],
        timeout: float = 60,
        env: Mapping[str, str] | None = None,
    ) -> int: ...


class HostRunner:
    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        input: bytes | None = None,
    ) -> proc.Completed:
        return proc.run(argv, timeout=timeout, env=env, check=check, input=input)

    def stream(
        self,
        argv: Sequence[str],
        *,
        on_line: Callable[[str], None],
        timeout: float = 60,
        env: Mapping[str, str] | None = None,
    ) -> int:
        return proc.stream(argv, on_line=on_line, timeout=timeout, env=env)


HOST = HostRunner()


class PlatformClient(Protocol):
    """The platform process's requests: start, stop, route, unroute, retire, status."""

    def call(self, op: str, **args: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...


class LazyPlatform:
    """Connects to (and if need be starts) the platform process at its first request."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.client: PlatformClient | None = None

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        if self.client is None:
            from kit.sandbox.client import connect

            self.client = connect(self.layout)
            assert self.client is not None  # connect() starts it or raises
        return self.client.call(op, **args)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


class WaitReady(Protocol):
    """:func:`kit.sandbox.probe.wait_ready`'s shape: block until an instance answers."""

    def __call__(
        self,
        *,
        sockets: Path,
        pid: int,
        expect_http: bool | None,
        tcp_ports: list[int],
        timeout: float,
        log_dir: Path,
        netns: bool,
        http_host: str = "localhost",
    ) -> Ready: ...


class FetchNode(Protocol):
    """:func:`kit.nodejs.fetch.ensure_node`'s job: the build for a
    ``config: node_version``, fetched once; ``say`` gets a line when it downloads."""

    def __call__(self, requested: str, say: Callable[[str], None]) -> NodeBuild: ...


def registry_node(cache: Path) -> FetchNode:
    """Official builds from the npm registry, kept in ``cache``."""

    def fetch(requested: str, say: Callable[[str], None]) -> NodeBuild:
        from kit.nodejs.fetch import ensure_node

        told: list[int] = []

        def progress(done: int, total: int | None) -> None:
            if not told:
                told.append(done)
                size = f" ({total / 1e6:.1f} MB)" if total else ""
                say(f"Fetching Node.js from the npm registry{size}...")

        return ensure_node(requested, cache=cache, progress=progress)

    return fetch


class DockerImage(Protocol):
    """The engine the docker backend drives and the platform image on it, built the
    first time (``say`` gets the build's progress); ``sql``: the image with MariaDB
    and PostgreSQL."""

    def __call__(self, say: Callable[[str], None], sql: bool) -> DockerTarget: ...


def engine_image(cache: Path) -> DockerImage:
    """``DOCKER_HOST`` (else the usual socket), and the image built into ``cache``."""

    def ensure(say: Callable[[str], None], sql: bool) -> DockerTarget:
        from kit.sandbox.dockerbox import ensure_target

        return ensure_target(cache, say, sql)

    return ensure


@dataclass(frozen=True)
class Seams:
    clock: Clock
    runner: Runner
    platform: PlatformClient
    wait_ready: WaitReady
    free_port: Callable[[], int]  # a free TCP port on 127.0.0.1, for a router
    password: Callable[[], str]  # a new data service's password
    node: FetchNode  # the Node.js build a service's config: node_version names
    docker: DockerImage  # the docker backend's engine and platform image, built if need be


def system(layout: Layout) -> Seams:
    """The real clock, programs and platform process."""
    import secrets

    from kit.paths import cache_dir
    from kit.sandbox.probe import wait_ready
    from kit.sandbox.state import free_port

    return Seams(
        clock=SystemClock(),
        runner=HOST,
        platform=LazyPlatform(layout),
        wait_ready=wait_ready,
        free_port=free_port,
        password=lambda: secrets.token_urlsafe(18),
        node=registry_node(layout.home / "cache" / "node"),
        docker=engine_image(cache_dir() / "image"),
    )
