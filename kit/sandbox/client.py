"""Talking to the platform process, starting it when it is not running."""

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

from kit.errors import OperationFailed
from kit.sandbox.layout import Layout

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
    sock.settimeout(None)
    return sock


def running(layout: Layout) -> bool:
    """Whether a platform process holds this home's lock."""
    if not layout.lockfile.exists():
        return False
    with open(layout.lockfile, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def connect(layout: Layout, *, start: bool = True) -> Client | None:
    """A client of the platform process; start it first if needed (and allowed)."""
    sock = _try_connect(layout)
    if sock is not None:
        return Client(layout, sock)
    if not start:
        return None
    layout.platform.mkdir(parents=True, exist_ok=True)
    if not running(layout):
        with contextlib.suppress(FileNotFoundError):
            layout.socket.unlink()  # left by a platform process that was killed
        with open(layout.daemon_log, "ab") as log:
            subprocess.Popen(
                [sys.executable, "-m", "kit.sandbox.daemon", str(layout.home)],
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
        time.sleep(0.02)
    raise PlatformError(
        f"the platform process did not start within {START_TIMEOUT:.0f} s; see {layout.daemon_log}"
    )
