"""Who is at the other end of a Unix socket: its user, and whether it is in a container.

The kit's own servers (the platform process, the verify server) answer only their
owner's processes that run outside every container: a container's processes have
user, PID and mount namespaces of their own, even where they run as the owner's
user on the host (bubblewrap without root maps only that user).
"""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

NAMESPACES = ("user", "pid", "mnt")


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of a Unix socket."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return pid, uid, gid


def _namespaces(pid: int | str, proc: Path) -> tuple[str, ...]:
    return tuple(str((proc / str(pid) / "ns" / name).readlink()) for name in NAMESPACES)


def peer_refusal(
    pid: int, uid: int, *, euid: int | None = None, proc: Path = Path("/proc")
) -> str | None:
    """Why the process ``pid`` (of user ``uid``) may not use the platform socket, or None.

    It must be the owner's (or root's), and share the platform process's user, PID
    and mount namespaces: a process inside any container has its own.
    """
    euid = os.geteuid() if euid is None else euid
    if uid not in (euid, 0):
        return f"uid {uid} is not the sandbox's owner (uid {euid})"
    if pid <= 0:
        return "the process is outside the platform's PID namespace"
    try:
        theirs, ours = _namespaces(pid, proc), _namespaces("self", proc)
    except OSError:
        return f"the namespaces of process {pid} cannot be read"
    if theirs != ours:
        return f"process {pid} runs in a container (namespaces {', '.join(theirs)})"
    return None
