"""The platform process: one per ``$DOTKIT_HOME``, owner of containers and the router.

``dotkit push`` returns while the app keeps running, so something must own the
containers: this process, started on demand and detached. It answers the CLI
with one JSON object per line over a Unix socket, restarts a container whose
process tree dies, and on start re-creates what the state files say should be
running (so a killed platform process leaves nothing the next command cannot
find). bubblewrap's ``--die-with-parent`` (and, on a Docker engine, the
launcher's, passed on to ``docker run``) ties every container to it: if it is
killed, its containers go with it, and its keeper (:mod:`kit.sandbox.keeper`)
starts it again at once, which brings them back. What it owns, and how each
request is carried out, is :class:`kit.sandbox.owner.Platform`.

The socket is the control plane: it sits in the owner's 0700 ``platform``
folder, answers only the owner's processes outside every container (peer
credentials), and every request is checked by :mod:`kit.sandbox.admit` first.
"""

import asyncio
import contextlib
import fcntl
import functools
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from kit.errors import KitError
from kit.peers import peer_credentials, peer_refusal
from kit.sandbox import admit
from kit.sandbox.keeper import EXIT_REFUSED
from kit.sandbox.layout import Layout
from kit.sandbox.owner import Platform
from kit.sandbox.pipe import run_loop
from kit.sandbox.rundir import ensure_home, ensure_runtime


async def handle(
    platform: Platform, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answer one client, one JSON line per request, if it may ask at all."""
    refusal = _refusal(writer)
    try:
        if refusal is not None:
            print(f"refused a connection: {refusal}", file=sys.stderr)  # to platform.log
            await _reply(writer, {"error": f"refused: {refusal}"})
            return
        while True:
            try:
                line = await reader.readline()
            except (asyncio.LimitOverrunError, ValueError):
                too_long = f"a request is limited to {admit.MAX_REQUEST} bytes"
                await _reply(writer, {"error": too_long})
                return
            if not line:
                return
            await _reply(writer, await answer(platform, line))
    except (ConnectionError, asyncio.CancelledError):
        pass  # the client went away, or the platform process is shutting down
    finally:
        writer.close()


async def answer(platform: Platform, line: bytes) -> dict[str, Any]:
    """The reply to one request line: ``{"ok": ...}`` or ``{"error": why}``."""
    try:
        op, args = admit.check_request(platform.layout, platform.backend, json.loads(line))
        if op in ("start", "route"):  # what makes sockets: in the owner-only folder
            ensure_runtime(platform.layout)
        return {"ok": await getattr(platform, f"op_{op}")(**args)}
    except (ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    except KitError as exc:
        return {"error": str(exc)}


async def _reply(writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
    writer.write(json.dumps(reply).encode() + b"\n")
    await writer.drain()


def _refusal(writer: asyncio.StreamWriter) -> str | None:
    """Why the process at the other end may not talk to the platform, or None."""
    sock = writer.get_extra_info("socket")
    try:
        pid, uid, _ = peer_credentials(sock)
    except (OSError, TypeError, AttributeError):
        return "the peer's credentials cannot be read"
    return peer_refusal(pid, uid)


async def serve(layout: Layout) -> None:
    platform = Platform(layout)
    ensure_home(layout)
    runtime = ensure_runtime(layout)
    with contextlib.suppress(FileNotFoundError):
        layout.socket.unlink()
    old_mask = os.umask(0o077)  # the socket is the owner's alone from its first moment
    try:
        server = await asyncio.start_unix_server(
            functools.partial(handle, platform), str(layout.socket), limit=admit.MAX_REQUEST
        )
    finally:
        os.umask(old_mask)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, platform.stop.set)
    await platform.restore()
    layout.pidfile.write_text(f"{os.getpid()}\n")
    health = asyncio.create_task(platform.monitor())
    await platform.stop.wait()
    health.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await health
    server.close()
    await platform.shutdown()
    with contextlib.suppress(FileNotFoundError):
        layout.socket.unlink()
    with contextlib.suppress(FileNotFoundError):
        layout.pidfile.unlink()
    with contextlib.suppress(OSError):
        runtime.rmdir()  # only when no application left anything in it


def main(argv: list[str]) -> int:
    try:
        layout = ensure_home(Layout(Path(argv[0])))
    except KitError as exc:
        print(f"the platform process cannot start: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    lock = open(layout.lockfile, "a+")  # noqa: SIM115 - held for the process's lifetime
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("another platform process owns this DOTKIT_HOME", file=sys.stderr)
        return EXIT_REFUSED
    try:
        run_loop(serve(layout))
    except KitError as exc:  # its socket folder is not the owner's alone, say
        print(f"the platform process cannot run: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
