"""``python -m kit.sandbox.relay LISTEN=TARGET ...``: the relay run inside each container.

Each argument pairs a listening endpoint with the one it forwards to, for
example ``unix:/run/dotkit/self/http.sock=tcp:127.0.0.1:8080`` (the router
reaches the app) or ``tcp:127.0.10.2:6379=unix:/run/dotkit/services/db.redis.sock``
(the app reaches another service at the host and port of environment.json).
"""

from __future__ import annotations

import asyncio
import signal
import sys

from kit.sandbox.pipe import Route, listen, run_loop


async def _serve(pairs: list[tuple[str, str]]) -> None:
    servers = [await listen(source, Route([target])) for source, target in pairs]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main(argv: list[str]) -> int:
    pairs = []
    for arg in argv:
        source, sep, target = arg.partition("=")
        if not sep:
            print(f"relay: expected LISTEN=TARGET, got {arg!r}", file=sys.stderr)
            return 2
        pairs.append((source, target))
    run_loop(_serve(pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
