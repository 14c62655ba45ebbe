"""The readiness probe against real processes in their own network namespace.

Each "app" is a small Python server run under bubblewrap with ``--unshare-net``
(loopback up, nothing else), so that port 8080 is its own, as in a container.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kit.sandbox.probe import DROPPED, REFUSED, NotReady, Ready, netns_probe, wait_ready

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")

PRELUDE = """\
import os, socket, sys, time
print(os.getpid(), flush=True)
"""

ANSWERS = (
    PRELUDE
    + """\
s = socket.create_server(("127.0.0.1", 8080))
while True:
    c, _ = s.accept()
    c.recv(4096)
    c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
    c.close()
"""
)

# Listens after a moment, then dies on the first request it takes: the case where
# the probe's look at the ports and its request straddle the moment it starts.
CRASHES_ON_REQUEST = (
    PRELUDE
    + """\
time.sleep(0.2)
s = socket.create_server(("127.0.0.1", 8080))
c, _ = s.accept()
c.recv(4096)
os._exit(3)
"""
)

NEVER_LISTENS = (
    PRELUDE
    + """\
time.sleep(0.3)
sys.exit(1)
"""
)


class App:
    def __init__(self, script: str) -> None:
        self.process = subprocess.Popen(
            ["bwrap", "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent",
             sys.executable, "-c", script],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.pid = int(self.process.stdout.readline())

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


Start = Callable[[str], App]


@pytest.fixture
def app() -> Iterator[Start]:
    started: list[App] = []

    def start(script: str) -> App:
        one = App(script)
        started.append(one)
        return one

    yield start
    for one in started:
        one.close()


def _wait(pid: int, tmp_path: Path, timeout: float = 20.0) -> Ready:
    return wait_ready(
        sockets=tmp_path,
        pid=pid,
        expect_http=True,
        tcp_ports=[],
        timeout=timeout,
        log_dir=tmp_path,
        netns=True,
    )


def _can_enter(pid: int) -> bool:
    return netns_probe(pid) is not None


def test_an_answering_app_is_ready_over_http(app: Start, tmp_path: Path) -> None:
    one = app(ANSWERS)
    if not _can_enter(one.pid):
        pytest.skip("no right to enter another network namespace (setns)")
    ready = _wait(one.pid, tmp_path)
    assert ready.how == "http"


def test_a_crash_on_the_probe_request_is_named_every_time(app: Start, tmp_path: Path) -> None:
    # Ten times over, since the failure this guards against was a race.
    for _ in range(10):
        one = app(CRASHES_ON_REQUEST)
        if not _can_enter(one.pid):
            pytest.skip("no right to enter another network namespace (setns)")
        with pytest.raises(NotReady) as failed:
            _wait(one.pid, tmp_path)
        assert failed.value.message.startswith("the container stopped; it crashed while answering")
        assert "GET / with Host: localhost" in failed.value.message


def test_an_app_that_never_listens_is_not_said_to_have_crashed_on_a_request(
    app: Start, tmp_path: Path
) -> None:
    one = app(NEVER_LISTENS)
    if not _can_enter(one.pid):
        pytest.skip("no right to enter another network namespace (setns)")
    with pytest.raises(NotReady) as failed:
        _wait(one.pid, tmp_path)
    assert failed.value.message == "the container stopped"


def test_a_taken_and_dropped_request_is_a_drop(app: Start) -> None:
    one = app(CRASHES_ON_REQUEST)
    if not _can_enter(one.pid):
        pytest.skip("no right to enter another network namespace (setns)")
    for _ in range(200):
        answer = netns_probe(one.pid)
        if answer != REFUSED:
            break
        time.sleep(0.01)
    assert answer == DROPPED


def test_a_namespace_that_cannot_be_entered_hands_over_to_the_relay() -> None:
    assert netns_probe(2**22 + 12345) is None  # no such process
