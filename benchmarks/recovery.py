"""How long an app is unreachable after its process, or the platform process, is killed.

Pushes a one-service app to a fresh sandbox, then, five times: kills the Node.js
process from the host with SIGKILL and measures the time until the app answers
again through the router (supervisord restarts it). Target: under 2 s.
Then, three times: kills the platform process itself with SIGKILL (its
containers die with it) and measures the time until the app answers again, with
no command run (its keeper starts it again, and it restores the app). Target:
under 5 s.

Usage: .venv/bin/python benchmarks/recovery.py
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

APP = """\
require('http').createServer(function (q, s) { s.end(String(process.pid)); }).listen(8080);
"""


def dotkit(home: Path, cwd: Path, *args: str) -> str:
    env = {**os.environ, "DOTKIT_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "kit", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"dotkit {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def answer(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return str(response.read().decode())
    except OSError:
        return None


def container_pid(home: Path) -> int:
    from kit.sandbox.client import connect
    from kit.sandbox.layout import Layout

    client = connect(Layout(home), start=False)
    assert client is not None
    with client:
        containers = client.call("status", app="recovery")["containers"]
    return int(next(iter(containers.values()))["child_pid"])


def wait_running(home: Path) -> None:
    from kit.sandbox.layout import Layout
    from kit.sandbox.probe import programs

    layout = Layout(home)
    sockets = layout.runtime / "recovery" / "c"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for sock in sockets.glob("*/supervisor.sock"):
            states = programs(sock)
            if states and all(p["statename"] == "RUNNING" for p in states):
                return
        time.sleep(0.05)
    raise SystemExit("the app never reached RUNNING")


def host_pid(inner: str, namespace_of: int) -> int:
    """The host's number for the container's node process (NSpid: host ... inner)."""
    namespace = Path(f"/proc/{namespace_of}/ns/pid").readlink()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            status = (proc / "status").read_text()
        except OSError:
            continue
        if not cmd.startswith(b"node"):
            continue
        nspid = next(
            (line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), []
        )
        try:
            same = (proc / "ns" / "pid").readlink() == namespace
        except OSError:
            continue
        if same and len(nspid) > 1 and nspid[-1] == inner:
            return int(nspid[0])
    raise SystemExit(f"no node process with the namespace pid {inner}")


def platform_kills(home: Path, url: str, count: int) -> list[float]:
    """Seconds from each kill -9 of the platform process until the app answers again."""
    times = []
    for _ in range(count):
        wait_running(home)
        assert answer(url), "the app does not answer"
        pid = int((home / "platform" / "platform.pid").read_text())
        start = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        while time.perf_counter() - start < 60:
            if not Path(f"/proc/{pid}").exists() and answer(url):
                break
            time.sleep(0.005)
        else:
            raise SystemExit("the app did not come back within 60 s")
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dotkit-recovery-") as tmp:
        home, app = Path(tmp) / "home", Path(tmp) / "app"
        (app / "www").mkdir(parents=True)
        (app / "dotcloud.yml").write_text(
            "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
        )
        (app / "www" / "server.js").write_text(APP)
        try:
            dotkit(home, app, "create", "recovery")
            dotkit(home, app, "push")
            url = dotkit(home, app, "url", "www").strip()
            times = []
            for _ in range(5):
                # Kill only a program supervisord considers started (RUNNING, past its
                # startsecs): one killed while still starting counts as a failed start,
                # and three of those in a row leave it FATAL, as on the platform.
                wait_running(home)
                inner = answer(url)
                assert inner, "the app does not answer"
                pid = host_pid(inner, container_pid(home))
                start = time.perf_counter()
                os.kill(pid, signal.SIGKILL)
                while time.perf_counter() - start < 30:
                    now = answer(url)
                    if now and now != inner:
                        break
                    time.sleep(0.005)
                else:
                    raise SystemExit("the app did not come back within 30 s")
                times.append(time.perf_counter() - start)
            med, worst = statistics.median(times), max(times)
            verdict = "OK" if worst < 2 else "MISSED"
            print(f"kill -9 of the app -> answering again: median {med:.2f} s, worst {worst:.2f} s "
                  f"over {len(times)} kills  (target < 2 s)  {verdict}")  # fmt: skip
            platform = platform_kills(home, url, 3)
            med, worst = statistics.median(platform), max(platform)
            verdict = "OK" if worst < 5 else "MISSED"
            print(f"kill -9 of the platform process -> answering again, no command: median "
                  f"{med:.2f} s, worst {worst:.2f} s over {len(platform)} kills  (target < 5 s)  "
                  f"{verdict}")  # fmt: skip
        finally:
            dotkit(home, app, "-y", "destroy")


if __name__ == "__main__":
    main()
