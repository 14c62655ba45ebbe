"""Talking to the platform process, starting it (and its keeper) when it is not running.

The client talks only to a platform process of its own user (the socket's peer
credentials), and the platform process answers only its owner.
"""

import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kit.errors import OperationFailed
from kit.peers import peer_credentials
from kit.sandbox.layout import Layout
from kit.sandbox.rundir import ensure_home

START_TIMEOUT = 15.0


class PlatformError(OperationFailed):
    """The platform process refused or failed a request."""


class Client:
    def __init__(self, layout: Layout, sock: socket.socket) -> None:
        self.layout = layout
        self.sock = sock
        self.reader = sock.makefile("rb")

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        self.sock.sendall(json.dumps({"op": op, **args}).encode() + b"\n")
        line = self.reader.readline()
        if not line:
            raise PlatformError(
                f"the platform process stopped while answering {op!r}; see {self.layout.daemon_log}"
            )
        reply = json.loads(line)
        if "error" in reply:
            raise PlatformError(f"the platform process could not {op}: {reply['error']}")
        result: dict[str, Any] = reply["ok"]
        return result

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _try_connect(layout: Layout) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(layout.socket))
    except OSError:
        sock.close()
        return None
    try:
        _, uid, _ = peer_credentials(sock)
    except OSError:
        uid = -1
    if uid not in (os.geteuid(), 0):
        sock.close()  # not our platform process: never send it a request
        raise PlatformError(
            f"{layout.socket} is served by uid {uid}, not by this user; "
            "the sandbox talks only to its own platform process"
        )
    sock.settimeout(None)
    return sock


def _held(path: Path) -> bool:
    """Whether a live process holds the lock on ``path``."""
    if not path.exists():
        return False
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def running(layout: Layout) -> bool:
    """Whether a platform process holds this home's lock."""
    return _held(layout.lockfile)


def kept(layout: Layout) -> bool:
    """Whether a keeper looks after this home (it restarts a platform process that died)."""
    return _held(layout.keeper_lock)


def connect(layout: Layout, *, start: bool = True) -> Client | None:
    """A client of the platform process; start it (with its keeper) first if needed and
    allowed. A platform process its keeper is bringing back is waited for."""
    sock = _try_connect(layout)
    if sock is not None:
        return Client(layout, sock)
    if not start and not kept(layout):
        return None
    ensure_home(layout)
    if start and not kept(layout) and not running(layout):
        with open(layout.daemon_log, "ab") as log:
            subprocess.Popen(
                [sys.executable, "-m", "kit.sandbox.keeper", str(layout.home)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        sock = _try_connect(layout)
        if sock is not None:
            return Client(layout, sock)
        if not start and not kept(layout):
            return None  # its keeper gave up, or was stopped
        time.sleep(0.02)
    raise PlatformError(
        f"the platform process did not start within {START_TIMEOUT:.0f} s; see {layout.daemon_log}"
    )
