"""The verify server: `dotkit verify` re-runs answered from memory, changes from inotify.

``dotkit verify --serve`` starts it in the background (one per user, DOTKIT_HOME,
kit version and Python) and later ``dotkit verify`` commands hand their command
line to it (:mod:`kit.verify.client`). It runs each one exactly as the CLI would,
in its own folder, and answers with the output and exit code; only the work
behind it is shorter: no start-up, the app's memo already in memory, and the
:class:`kit.verify.watch.Watcher` saying which files changed, so the rest are not
even stat-ed.

It listens on an abstract Unix socket, answers only its own user (checked with
SO_PEERCRED), handles one request at a time, declines requests from another
environment (see :data:`kit.verify.client.ENV_KEYS`) and stops after
:data:`IDLE_S` without requests, or when asked (``dotkit verify --stop-server``).
What goes wrong inside it goes to ``server.log`` beside the memos, and the client
then runs the command itself.
"""

import contextlib
import io
import os
import selectors
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

from kit.paths import cache_dir
from kit.verify.client import (
    PROTOCOL,
    ask_pid,
    decode,
    environment,
    identity,
    same_user,
    server_address,
)

IDLE_S = 20 * 60
_STARTUP_TIMEOUT_S = 10.0
_REQUEST_TIMEOUT_S = 5.0
_MAX_REQUEST = 1 << 20
# Set in the server's process: `verify --serve` inside it must not start another.
SERVING = False


def log_path() -> Path:
    return cache_dir() / "verify" / "server.log"


def idle_seconds() -> float:
    try:
        return float(os.environ.get("DOTKIT_VERIFY_SERVER_IDLE", IDLE_S))
    except ValueError:
        return IDLE_S


def running() -> int | None:
    """The pid of this environment's server, if one answers."""
    return ask_pid("ping", timeout=5.0)


def start() -> tuple[int, bool] | None:
    """Make sure a server runs: (its pid, whether it was started now), or None if none could."""
    pid = running()
    if pid is not None:
        return pid, False
    if not sys.platform.startswith("linux"):
        return None
    log = log_path()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", "kit.verify.server"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd="/",
            start_new_session=True,  # not stopped by the terminal's Ctrl-C or hang-up
        )
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        pid = running()
        if pid is not None:
            return pid, True
        time.sleep(0.02)
    return None


def stop() -> int | None:
    """Stop this environment's server; the pid it had, or None if none was running."""
    return ask_pid("stop", timeout=30.0)


# --- the server process ---------------------------------------------------------------


def serve() -> None:
    """Bind the socket and answer requests until idle or stopped."""
    global SERVING
    from kit.verify.runner import set_tracker
    from kit.verify.watch import Watcher

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(server_address())
    except OSError:
        return  # another server took the address first: it serves
    listener.listen(16)
    SERVING = True
    watcher = Watcher()
    set_tracker(watcher)
    env = environment()
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "request")
    selector.register(watcher.fileno(), selectors.EVENT_READ, "events")
    _note(f"serving (pid {os.getpid()})")
    idle = idle_seconds()
    last = time.monotonic()
    try:
        while True:
            ready = selector.select(timeout=max(0.0, last + idle - time.monotonic()))
            if not ready and time.monotonic() >= last + idle:
                _note("idle: stopping")
                return
            for key, _ in ready:
                if key.data == "events":
                    watcher.drain()  # keeps the kernel's queue from overflowing
                    continue
                last = time.monotonic()
                stop = _answer(listener, env) == "stop"
                watcher.run_later()  # the client has its answer: now write the memo
                if stop:
                    _note("asked to stop")
                    return
    finally:
        set_tracker(None)
        watcher.close()
        listener.close()


def _answer(listener: socket.socket, env: list[str]) -> str | None:
    connection, _ = listener.accept()
    with connection:
        if not same_user(connection):
            return None
        try:
            fields = decode(_read(connection))
        except (OSError, ValueError):
            return None
        answer, stop = _reply(fields, env)
        with contextlib.suppress(OSError):  # the client gave up: nothing to do
            connection.sendall(answer)
        return "stop" if stop else None


def _reply(fields: list[str], env: list[str]) -> tuple[bytes, bool]:
    """The answer to a request, and whether to stop after sending it."""
    head = ["dotkit-verify", PROTOCOL, *identity()]
    if fields[: len(head)] != head or len(fields) <= len(head):
        return b"declined\0another kit", False
    kind, rest = fields[len(head)], fields[len(head) + 1 :]
    pid = f"ok\0{os.getpid()}".encode()
    if kind in ("ping", "stop"):
        return pid, kind == "stop"
    if kind != "run" or not rest or not rest[0].isdigit():
        return b"declined\0bad request", False
    count = int(rest[0])
    if rest[1 : 1 + count] != env:
        return b"declined\0another environment", False
    if len(rest) < count + 3:
        return b"declined\0bad request", False
    return _run(rest[1 + count], rest[2 + count :]), False


def _read(connection: socket.socket) -> bytes:
    connection.settimeout(_REQUEST_TIMEOUT_S)
    chunks, size = [], 0
    while chunk := connection.recv(1 << 16):
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_REQUEST:
            raise ValueError("request too large")
    return b"".join(chunks)


def _run(cwd: str, argv: list[str]) -> bytes:
    if argv[:1] != ["verify"]:
        return b"declined\0only verify is served"
    from kit.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except (Exception, SystemExit):  # a bug must not cost the user the run: the client redoes it
        _note(f"request {argv} in {cwd} failed:\n{traceback.format_exc()}")
        return b"declined\0failed"
    finally:
        with contextlib.suppress(OSError):
            os.chdir("/")
    stdout = out.getvalue().encode("utf-8", "surrogateescape")
    stderr = err.getvalue().encode("utf-8", "surrogateescape")
    return f"ok\0{code}\0{len(stdout)}\0".encode() + stdout + stderr


def _note(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} [{os.getpid()}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    # Serve from the module under its own name, so that SERVING is set where the
    # rest of the kit (kit.commands._verify_run) looks for it, not on __main__.
    from kit.verify import server

    server.serve()
