"""Starting, finding and stopping the verify server, from a client's side.

The server itself (:mod:`kit.verifyd.server`) runs the CLI; this module only
spawns it and talks to it through :mod:`kit.verifyd.client`, so the commands
that start or stop it never import the CLI.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from kit.paths import cache_dir
from kit.verifyd.client import ask_pid

IDLE_S = 20 * 60
_STARTUP_TIMEOUT_S = 10.0


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
            [sys.executable, "-m", "kit.verifyd.server"],
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
