"""The launch plan of one container: what the launcher (``isolation.enter``) is told.

A plan is plain JSON made from the platform's own state (never from a file the
app can write): the :class:`~kit.sandbox.isolation.rootfs.Box`, the host user
the container's ``dotcloud`` runs as, its control group and limits, and
whether to load the seccomp filter.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kit.sandbox.isolation import cgroups
from kit.sandbox.isolation.limits import Limits
from kit.sandbox.isolation.rootfs import PATH, Box

# Host uids for containers: far above any login account, outside the usual
# subordinate ranges (100000-165535 per user), one per sandbox.
UID_BASE = 1_200_000_000
UID_RANGE = 50_000_000


def _taken(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def host_user(
    sandbox: str, *, euid: int | None = None, taken: Callable[[int], bool] = _taken
) -> tuple[int, int]:
    """The host uid and gid a sandbox's containers run as.

    As root: a uid of their own, derived from the sandbox, that no account
    uses, so the container's files and processes belong to nobody else. As any
    other user, bubblewrap can map only that user, so containers run as it.
    """
    euid = os.geteuid() if euid is None else euid
    if euid != 0:
        return os.getuid(), os.getgid()
    digest = int(hashlib.sha256(sandbox.encode("utf-8", "surrogateescape")).hexdigest(), 16)
    uid = UID_BASE + digest % UID_RANGE
    while taken(uid):
        uid += 1
    return uid, uid


def make(
    box: Box,
    *,
    sandbox: str,
    app: str,
    cid: str,
    limits: Limits | None,
    info_fd: int | None = None,
    use_seccomp: bool = True,
    wait: bool = False,
    hierarchy: cgroups.Hierarchy | None = None,
) -> dict[str, Any]:
    """The plan; with ``wait`` the launcher stays to remove the control group at the end."""
    uid, gid = host_user(sandbox)
    group = None
    if limits is not None and (hierarchy or cgroups.discover()).version:
        group = {"rel": str(cgroups.relative(sandbox, app, cid)), "limits": list(limits)}
    return {
        "box": box._asdict(),
        "uid": uid,
        "gid": gid,
        "cgroup": group,
        "info_fd": info_fd,
        "seccomp": use_seccomp,
        "wait": wait,
    }


def launcher_argv(plan: dict[str, Any]) -> list[str]:
    """The host command that starts the container (it execs bubblewrap itself)."""
    return [sys.executable, "-m", "kit.sandbox.isolation.enter", json.dumps(plan)]


def launcher_env() -> dict[str, str]:
    """The launcher's own environment: nothing of the app's, nothing of the caller's."""
    return {"PATH": PATH, "LANG": "C.UTF-8"}


def kit_root() -> Path:
    return Path(__file__).resolve().parents[3]
