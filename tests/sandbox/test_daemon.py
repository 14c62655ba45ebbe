"""The platform process's own state and its socket: what it restores on start (containers
for real: tests/security/test_faults.py), whom it answers, and what it refuses."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from kit.sandbox.admit import MAX_REQUEST
from kit.sandbox.daemon import answer, handle
from kit.sandbox.layout import Layout
from kit.sandbox.owner import Platform
from kit.sandbox.runtime import Route, Runtime, load_runtime
from kit.sandbox.state import create_app, write_json

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="changes user: needs root")


def _in_thread(scenario: Any) -> Any:
    # A thread of its own: another test module may leave an event loop running here.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario).result()


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[Layout]:
    found = Layout(tmp_path / "home")
    yield found
    shutil.rmtree(found.runtime, ignore_errors=True)


def test_a_damaged_runtime_costs_only_its_own_app(
    layout: Layout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = layout.app("good"), layout.app("bad")
    for app in (good, bad):
        app.root.mkdir(parents=True)
    listen = (f"unix:{layout.service_sockets('good')}/www.http.sock",)
    elsewhere = (f"unix:{tmp_path}/www.tcp.sock",)  # not the app's own socket folder
    routes = {
        "www.http": Route(listen, ("container:www.0-d1:8080",)),
        "www.tcp": Route(elsewhere, ("container:www.0-d1:9000",)),
    }
    write_json(good.runtime, Runtime(routes=routes).to_data())
    bad.runtime.write_text('{"containers": {"www.0-d1": {"cid": "www.0-d1"')

    async def scenario() -> dict[str, Any]:
        platform = Platform(layout, backend="bwrap")
        await platform.restore()
        status = await platform.op_status()
        await platform.op_unroute(app="good", name="www.http")
        return status

    status = _in_thread(scenario())
    assert status["containers"] == {}
    assert status["routes"]["www.http"]["listen"] == list(listen)
    assert status["routes"]["www.http"]["backends"] == ["container:www.0-d1:8080"]
    assert "www.tcp" not in status["routes"]
    err = capsys.readouterr().err
    assert f"not restoring bad: {bad.runtime} ends in the middle of its JSON" in err
    own = f"unix:{layout.service_sockets('good')}/www.tcp.sock"
    assert (
        f"not restoring good/www.tcp: route www.tcp may listen on tcp:127.0.0.1:PORT or {own}, "
        f"not '{elsewhere[0]}'"
    ) in err
    assert load_runtime(good) == Runtime()  # written back as it now is: nothing routed


def test_requests_are_answered_or_refused_with_the_reason(layout: Layout) -> None:
    create_app(layout, "shop")
    home = layout.app("shop").container("www.0-d1")
    spec = {
        "cid": "www.0-d1", "app": "shop", "service": "www", "instance": 0,
        "home": "/etc", "sockets": str(layout.container_sockets("shop", "www.0-d1")),
        "services": str(layout.service_sockets("shop")), "env": {}, "http": True,
        "tcp_ports": {}, "peers": [], "hidden": layout.hidden, "backend": "bwrap",
    }  # fmt: skip
    lines = [
        {"op": "ping"},
        {"op": "start", "spec": json.dumps(spec)},
        {"op": "__init__", "layout": "/"},
        {"op": "retire", "app": "shop", "name": "www.http", "cids": ["www.0-d1"],
         "backends": [], "remove": ["/"]},
        {"op": "stop", "cid": "../../x", "app": "shop"},
    ]  # fmt: skip

    async def scenario() -> list[dict[str, Any]]:
        platform = Platform(layout, backend="bwrap")
        return [await answer(platform, json.dumps(line).encode()) for line in lines]

    ping, start, init, retire, stop = _in_thread(scenario())
    assert ping["ok"]["home"] == str(layout.home)
    assert start == {
        "error": f"Refused: container www.0-d1: home should be {str(home)!r}, not '/etc'"
    }
    assert init == {"error": 'Refused: there is no op "__init__"'}
    assert retire == {"error": "Refused: retiring www.0-d1 may not remove '/'"}
    assert stop["error"].startswith("Refused: cid should be a container id like www.0-d3")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    """A platform process's handler on a socket every local user can reach (so that
    only its own checks stand in the way); the socket's path."""
    layout = Layout(tmp_path / "home")
    folder = Path(tempfile.mkdtemp(prefix="dotkit-test-"))
    folder.chmod(0o755)
    path = folder / "platform.sock"
    ready = asyncio.Event()
    stop: list[asyncio.Event] = []

    async def serve() -> None:
        platform = Platform(layout, backend="bwrap")
        server = await asyncio.start_unix_server(
            functools.partial(handle, platform), str(path), limit=MAX_REQUEST
        )
        path.chmod(0o777)
        stop.append(asyncio.Event())
        ready.set()
        await stop[0].wait()
        server.close()

    with ThreadPoolExecutor(1) as pool:
        loop = asyncio.new_event_loop()
        done = pool.submit(loop.run_until_complete, serve())
        try:
            while not path.exists():
                assert not done.done(), done.result()
                time.sleep(0.01)
            yield path
        finally:
            loop.call_soon_threadsafe(lambda: stop[0].set())
            done.result(timeout=10)
            loop.close()
            shutil.rmtree(folder)


ASK = (
    "import json, socket, sys\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    "s.connect(sys.argv[1])\n"
    "try:\n"
    "    s.sendall(json.dumps({'op': 'ping'}).encode() + b'\\n')\n"
    "except BrokenPipeError:\n"
    "    pass  # refused at once: the reason is waiting to be read\n"
    "print(s.makefile().readline().strip())\n"
)


def _ask(path: Path, *prefix: str) -> dict[str, Any]:
    done = subprocess.run(
        [*prefix, "/usr/bin/python3", "-c", ASK, str(path)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    reply: dict[str, Any] = json.loads(done.stdout)
    return reply


def test_the_owner_is_answered(served: Path) -> None:
    assert _ask(served)["ok"]["pid"] == os.getpid()


@as_root
def test_another_local_user_is_refused(served: Path) -> None:
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    reply = _ask(served, *nobody)
    assert reply == {"error": f"refused: uid 65534 is not the sandbox's owner (uid {os.geteuid()})"}


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
def test_the_owners_process_in_another_user_namespace_is_refused(served: Path) -> None:
    # What a container is: the same user on the host, in namespaces of its own.
    probe = subprocess.run(["unshare", "--user", "--pid", "--fork", "true"], check=False)
    if probe.returncode != 0:
        pytest.skip("user namespaces are not available here")
    reply = _ask(served, "unshare", "--user", "--pid", "--fork", "--")
    assert reply["error"].startswith("refused: process ")
    assert "runs in a container" in reply["error"]


def test_a_request_past_the_limit_gets_an_error_not_a_hang(served: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(served))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # closed after reading
            sock.sendall(b'{"op": "ping", "x": "' + b"a" * (MAX_REQUEST + 10) + b'"}\n')
        reply = json.loads(sock.makefile().readline())
    assert reply == {"error": f"a request is limited to {MAX_REQUEST} bytes"}


def test_a_64_kb_environment_value_fits_in_a_request(layout: Layout) -> None:
    create_app(layout, "shop")
    line = json.dumps({"op": "status", "app": "shop", "note": "v" * 65536}).encode()

    async def scenario() -> dict[str, Any]:
        return await answer(Platform(layout, backend="bwrap"), line)

    # Read whole and refused for its unknown argument, not cut short.
    assert _in_thread(scenario()) == {"error": "Refused: status takes no argument 'note'"}
