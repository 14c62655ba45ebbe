"""The exported app on a single-node Swarm, measured in one run.

Prints:
- the time from `dotkit export --to swarm --build` to all 3 replicas of the
  guide's Gear2 answering through the router (image builds included; the
  platform image is built first and not counted);
- requests per second through the Swarm router's published port, as a ratio to
  the sandbox's router serving the same app (`dotkit create`/`push` with
  `DOTKIT_HOME` in a temporary folder), with the same load tool (wrk) in the
  same run.

Needs root, docker.io, debootstrap, node and npm; wrk (Debian package `wrk`) is
installed when missing. A private dockerd is started and removed at the end.
Usage: .venv/bin/python benchmarks/swarm.py [--seconds N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kit.engine.daemon import init_swarm, start_daemon, stop_daemon  # noqa: E402
from kit.engine.docker import docker  # noqa: E402
from kit.engine.image import build_platform_image  # noqa: E402

GUIDE = REPO / "sample_apps" / "nodesocket-guide"
DOTKIT = [sys.executable, "-m", "kit"]


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except OSError:
        return None


def wrk(url: str, seconds: int) -> float:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    done = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", url], check=True, capture_output=True, text=True
    )
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    return float(found.group(1)) if found else 0.0


def sandbox_url(work: Path, env: dict[str, str]) -> str:
    app = work / "guide-dotcloud"
    subprocess.run([*DOTKIT, "convert", str(GUIDE), "-o", str(app), "--fix"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([*DOTKIT, "-y", "create", "bench"], cwd=app, env=env, check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([*DOTKIT, "push"], cwd=app, env=env, check=True, capture_output=True)
    shown = subprocess.run([*DOTKIT, "url", "gear2"], cwd=app, env=env, check=True,
                           capture_output=True, text=True)  # fmt: skip
    return re.findall(r"https?://\S+", shown.stdout)[-1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dk-bench-", dir="/tmp"))
    daemon = start_daemon(work / "d")
    env = {**os.environ, "DOCKER_HOST": daemon.engine.host, "DOTKIT_HOME": str(work / "home")}
    try:
        # The builds where the export below (DOTKIT_HOME=work/home) looks for them.
        node_cache = work / "home" / "cache" / "node"
        build_platform_image(
            daemon.engine, "platform", work / "cache", lambda _: None, node_cache=node_cache
        )
        init_swarm(daemon)
        out, port = work / "guide-swarm", 18700
        t0 = time.monotonic()
        subprocess.run([*DOTKIT, "export", str(GUIDE), "--to", "swarm", "-o", str(out), "--name",
                        "guide", "--port-base", str(port), "--build"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        docker(daemon.engine, "stack", "deploy", "-c", "stack.yml", "guide", cwd=out)
        docker(daemon.engine, "service", "scale", "guide_gear2=3", timeout=600)
        while time.monotonic() - t0 < 900:
            shown = docker(daemon.engine, "service", "ls", "--filter", "name=guide_gear2",
                           "--format", "{{.Replicas}}").stdout.strip()  # fmt: skip
            if shown == "3/3" and all(get(f"http://127.0.0.1:{port + 1}/") for _ in range(6)):
                break
            time.sleep(0.2)
        to_answering = time.monotonic() - t0
        swarm_rps = wrk(f"http://127.0.0.1:{port + 1}/", args.seconds)
        sandbox_rps = wrk(sandbox_url(work, env), args.seconds)
        print(f"export to 3 replicas answering on Swarm: {to_answering:.1f} s")
        print(f"requests/s through the Swarm router: {swarm_rps:.0f}")
        print(f"requests/s through the sandbox router: {sandbox_rps:.0f}")
        print(f"ratio Swarm / sandbox: {swarm_rps / sandbox_rps:.2f}" if sandbox_rps else "")
    finally:
        app = work / "guide-dotcloud"
        where = app if app.exists() else work
        subprocess.run([*DOTKIT, "-y", "destroy"], env=env, cwd=where, capture_output=True)
        stop_daemon(daemon)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
