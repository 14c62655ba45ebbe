"""A container's processes as the host sees them: finding its supervisord, stopping it,
reading bubblewrap's report of the first process, and waking supervisord.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kit.sandbox.owner import Running


def main_pid(running: Running) -> int | None:
    """The container's supervisord: the first child of the namespace's init.

    bubblewrap's init (and the docker backend's tini) is PID 1 in its namespace,
    so a graceful stop has to reach supervisord itself.
    """
    if running.process is None:
        return None
    pid = running.child_pid or running.process.pid
    if running.spec.backend not in ("bwrap", "docker"):  # docker's init: its --init
        return pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def terminate(running: Running) -> None:
    target = main_pid(running)
    with contextlib.suppress(ProcessLookupError, TypeError):
        os.kill(target, signal.SIGTERM)  # type: ignore[arg-type]


def ping(sock: Path) -> None:
    from kit.sandbox.probe import programs

    programs(sock)


def read_child_pid(fd: int) -> int | None:
    with os.fdopen(fd, "rb") as info:
        data = info.read()
    try:
        pid = json.loads(data)["child-pid"]
    except (ValueError, KeyError):
        return None
    return int(pid)
