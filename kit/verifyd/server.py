"""The verify server: `dotkit verify` re-runs answered from memory, changes from inotify.

``dotkit verify --serve`` starts it in the background (one per user, DOTKIT_HOME,
kit version and Python) and later ``dotkit verify`` commands hand their command
line to it (:mod:`kit.verifyd.client`). It runs each one exactly as the CLI would,
in its own folder, and answers with the output and exit code; only the work
behind it is shorter: no start-up, the app's memo already in memory, and the
:class:`kit.verifyd.watch.Watcher` saying which files changed, so the rest are not
even stat-ed.

It listens on an abstract Unix socket, answers only its own user's processes
outside every container (checked with SO_PEERCRED, :mod:`kit.peers`), handles
one request at a time, declines requests from another environment (see
:data:`kit.verifyd.client.ENV_KEYS`) and stops after
:data:`IDLE_S` without requests, or when asked (``dotkit verify --stop-server``).
What goes wrong inside it goes to ``server.log`` beside the memos, and the client
then runs the command itself.
"""

import contextlib
import io
import os
import selectors
import socket
import sys
import time
import traceback

from kit.peers import peer_credentials, peer_refusal
from kit.verify.runner import VERIFY_TRACKER, Tracker
from kit.verifyd.client import PROTOCOL, decode, environment, identity, same_user, server_address
from kit.verifyd.control import idle_seconds

_REQUEST_TIMEOUT_S = 5.0
_MAX_REQUEST = 1 << 20


# --- the server process ---------------------------------------------------------------


def serve() -> None:
    """Bind the socket and answer requests until idle or stopped."""
    from kit.verifyd.watch import Watcher

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(server_address())
    except OSError:
        return  # another server took the address first: it serves
    listener.listen(16)
    watcher = Watcher()
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
                stop = _answer(listener, env, watcher) == "stop"
                watcher.run_later()  # the client has its answer: now write the memo
                if stop:
                    _note("asked to stop")
                    return
    finally:
        watcher.close()
        listener.close()


def _answer(listener: socket.socket, env: list[str], tracker: Tracker) -> str | None:
    connection, _ = listener.accept()
    with connection:
        if not same_user(connection) or not _outside_containers(connection):
            return None
        try:
            fields = decode(_read(connection))
        except (OSError, ValueError):
            return None
        answer, stop = _reply(fields, env, tracker)
        with contextlib.suppress(OSError):  # the client gave up: nothing to do
            connection.sendall(answer)
        return "stop" if stop else None


def _outside_containers(connection: socket.socket) -> bool:
    """Whether the client runs outside every container: the socket is abstract, so a
    build container (which shares the host's network for npm) can reach it, and,
    where the sandbox runs without root, as the same user."""
    pid, uid, _ = peer_credentials(connection)
    return peer_refusal(pid, uid, euid=os.getuid()) is None


def _reply(fields: list[str], env: list[str], tracker: Tracker) -> tuple[bytes, bool]:
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
    return _run(rest[1 + count], rest[2 + count :], tracker), False


def _read(connection: socket.socket) -> bytes:
    connection.settimeout(_REQUEST_TIMEOUT_S)
    chunks, size = [], 0
    while chunk := connection.recv(1 << 16):
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_REQUEST:
            raise ValueError("request too large")
    return b"".join(chunks)


def _run(cwd: str, argv: list[str], tracker: Tracker) -> bytes:
    if argv[:1] != ["verify"]:
        return b"declined\0only verify is served"
    from kit.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            # The tracker reaches verify through the click context; `--serve` sees
            # it and runs here rather than starting another server.
            code = main(argv, obj={VERIFY_TRACKER: tracker})
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
    serve()
