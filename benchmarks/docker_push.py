"""A push on the docker backend against the bubblewrap backend, in one run.

For each backend, in a fresh ``DOTKIT_HOME``: the guide's sample converted
(``--fix``), ``dotkit create`` (with ``--backend docker`` for the engine), then

- a cold push (no build cache, no containers; the platform image is already in
  the engine: building it is measured and printed apart),
- a warm push of the same code (the build cache restored, npm skipped, new
  containers started and switched to),

timed from the command's start to its exit (the app answering on every
instance is part of a push). Each is repeated ``--runs`` times (median printed).

Needs root, bubblewrap, docker.io and debootstrap, node and npm. A private
dockerd is started and removed at the end unless ``DOCKER_HOST`` names one.
Usage: .venv/bin/python benchmarks/docker_push.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kit.engine.daemon import Daemon, start_daemon, stop_daemon  # noqa: E402
from kit.engine.docker import Engine  # noqa: E402
from kit.engine.image import build_platform_image  # noqa: E402

GUIDE = REPO / "sample_apps" / "nodesocket-guide"
DOTKIT = [sys.executable, "-m", "kit"]


def dotkit(env: dict[str, str], cwd: Path, *args: str) -> float:
    started = time.monotonic()
    done = subprocess.run(
        [*DOTKIT, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"dotkit {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.monotonic() - started


def one_run(work: Path, backend: str, engine: Engine) -> tuple[float, float]:
    home = work / f"home-{backend}"
    env = {**os.environ, "DOTKIT_HOME": str(home), "DOCKER_HOST": engine.host}
    app = work / f"app-{backend}"
    dotkit(env, work, "convert", str(GUIDE), "-o", str(app), "--fix")
    create = ["-y", "create", "bench"] + (["--backend", "docker"] if backend == "docker" else [])
    dotkit(env, app, *create)
    try:
        cold = dotkit(env, app, "push")
        warm = dotkit(env, app, "push")
    finally:
        dotkit(env, app, "-y", "destroy")
        platform = home / "platform" / "platform.pid"
        if platform.is_file():  # the sandbox's platform process goes with its run
            subprocess.run(["kill", platform.read_text().strip()], check=False)
    return cold, warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    root = Path(tempfile.mkdtemp(prefix="dk-bench-", dir="/tmp"))
    daemon: Daemon | None = None
    try:
        if os.environ.get("DOCKER_HOST"):
            engine = Engine(os.environ["DOCKER_HOST"])
        else:
            daemon = start_daemon(root / "d")
            engine = daemon.engine
        started = time.monotonic()
        cache = Path(os.environ.get("DOTKIT_IMAGE_CACHE") or root / "image-cache")
        image, built = build_platform_image(
            engine, "platform", cache, lambda line: None, node_cache=cache / "node"
        )
        took = time.monotonic() - started
        print(f"platform image {image.runtime}: {'built' if built else 'present'} in {took:.1f} s")
        times: dict[str, list[tuple[float, float]]] = {"bwrap": [], "docker": []}
        for n in range(runs):
            for backend in ("bwrap", "docker"):
                work = root / f"run{n}-{backend}"
                work.mkdir()
                times[backend].append(one_run(work, backend, engine))
        print(f"push of the guide's two-gear sample, median of {runs} run(s):")
        medians = {}
        for backend, pairs in times.items():
            cold = statistics.median(c for c, _ in pairs)
            warm = statistics.median(w for _, w in pairs)
            medians[backend] = (cold, warm)
            print(f"  {backend:6}  cold {cold:6.1f} s   warm {warm:6.1f} s")
        for label, index in (("cold", 0), ("warm", 1)):
            ratio = medians["docker"][index] / medians["bwrap"][index]
            print(f"  docker / bwrap, {label}: {ratio:.2f}x")
    finally:
        if daemon is not None:
            stop_daemon(daemon)
        subprocess.run(["rm", "-rf", str(root)], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
