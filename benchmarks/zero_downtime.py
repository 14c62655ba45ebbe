"""Requests during a push: failed/total and latency, before the push and while it runs.

Converts the guide's sample app, pushes it to a fresh sandbox, then sends a
steady load (default 300 requests/s, a new connection each, open loop) to Gear1
through the router: first for a few seconds with nothing happening, then while
a second push replaces the containers. Prints failed/total and p50/p99 latency
for both phases. Targets: 0 failed; p99 during the push at most 3x p99 before.

Usage: .venv/bin/python benchmarks/zero_downtime.py [--rate N] [--seconds N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "sample_apps" / "nodesocket-guide"


def dotkit(home: Path, cwd: Path | None, *args: str) -> str:
    """Run the CLI; on failure show its output and the platform process's log."""
    env = {**os.environ, "DOTKIT_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "kit", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if proc.returncode != 0:
        log = home / "platform" / "platform.log"
        tail = log.read_text()[-3000:] if log.exists() else ""
        raise SystemExit(f"dotkit {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}\n{tail}")
    return proc.stdout


async def one_request(host: str, port: int) -> float | None:
    """Latency of one GET / on a new connection, or None if it failed."""
    start = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
        writer.write(b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n")
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    except (OSError, TimeoutError):
        return None
    return time.perf_counter() - start if data.startswith(b"HTTP/1.1 200") else None


async def load(url: str, rate: int, stop: threading.Event, limit: float) -> list[float | None]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    tasks: list[asyncio.Task[float | None]] = []
    start = time.perf_counter()
    n = 0
    while not stop.is_set() and time.perf_counter() - start < limit:
        tasks.append(asyncio.create_task(one_request(host, port)))
        n += 1
        delay = start + n / rate - time.perf_counter()  # open loop: a fixed schedule
        await asyncio.sleep(max(0.0, delay))
    return list(await asyncio.gather(*tasks))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, results: list[float | None], seconds: float) -> float:
    ok = [r for r in results if r is not None]
    failed = len(results) - len(ok)
    p50, p99 = percentile(ok, 0.5) * 1000, percentile(ok, 0.99) * 1000
    print(
        f"{name:<16} {failed}/{len(results)} failed, {len(results) / seconds:,.0f} requests/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    return p99


def phase(
    url: str,
    rate: int,
    seconds: float,
    during: list[str] | None = None,
    home: Path | None = None,
    cwd: Path | None = None,
) -> tuple[list[float | None], float]:
    stop = threading.Event()
    box: dict[str, list[float | None]] = {}
    thread = threading.Thread(
        target=lambda: box.update(r=asyncio.run(load(url, rate, stop, seconds + 60)))
    )
    start = time.perf_counter()
    thread.start()
    if during is not None and home is not None:
        time.sleep(0.5)
        out = dotkit(home, cwd, *during)
        failed_line = next((line for line in out.splitlines() if "failed request(s)" in line), "")
        print(f"  push log: {failed_line.split('---> ', 1)[-1]}")
        time.sleep(0.5)
    else:
        time.sleep(seconds)
    stop.set()
    thread.join()
    return box["r"], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=300, help="requests per second")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the quiet phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dotkit-zero-") as tmp:
        home, app = Path(tmp) / "home", Path(tmp) / "portedapp"
        dotkit(home, None, "convert", str(GUIDE), "-o", str(app), "--fix")
        try:
            dotkit(home, app, "create", "zero")
            dotkit(home, app, "push")
            url = dotkit(home, app, "url", "gear1").strip()
            print(f"load: {args.rate} requests/s on new connections to {url}")
            before, before_s = phase(url, args.rate, args.seconds)
            during, during_s = phase(url, args.rate, 0, ["push"], home, app)
            p99_before = report("before the push", before, before_s)
            p99_during = report("during the push", during, during_s)
            failed = sum(r is None for r in during)
            ratio = p99_during / p99_before
            print(
                f"failed during the push: {failed}  (target 0)  {'OK' if failed == 0 else 'MISSED'}"
            )
            verdict = "OK" if ratio <= 3 else "MISSED"
            print(f"p99 during / before: {ratio:.2f}  (target <= 3)  {verdict}")
        finally:
            dotkit(home, app, "-y", "destroy")
            log = home / "platform" / "platform.log"
            if log.exists() and log.read_text().strip():
                print("platform log:\n" + log.read_text()[-3000:])


if __name__ == "__main__":
    main()
