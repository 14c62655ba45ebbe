"""The platform process's side of the limits: what was killed, and cleaning up.

The kernel kills a process of a container that goes past its memory limit and
counts it; :func:`note_kills` turns a new count into a line in the
container's log (``killed: out of memory (limit 512M)``) that ``dotkit logs``
and the deploy log can show, and :func:`report` answers the CLI. When a
container stops, :func:`release` kills whatever is left in its control group
and removes the group, so no directory is left behind.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kit.sandbox.isolation import cgroups
from kit.sandbox.isolation.limits import format_size

if TYPE_CHECKING:
    from kit.sandbox.backend import ContainerSpec


@functools.cache
def hierarchy() -> cgroups.Hierarchy:
    """Read once per process: the cgroup mounts do not move under the platform."""
    return cgroups.discover()


def group(spec: ContainerSpec, kind: str = "service") -> cgroups.Group:
    from kit.sandbox.backend import group_of, sandbox_key

    app, cid = group_of(spec, kind)
    return cgroups.Group(hierarchy(), cgroups.relative(sandbox_key(spec), app or "-", cid))


@contextlib.contextmanager
def open_log(path: Path) -> Iterator[IO[bytes]]:
    """Append to a platform log without following a link put in its place."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "ab") as handle:
        yield handle


def release(spec: ContainerSpec) -> None:
    if spec.backend != "bwrap":
        return
    found = group(spec)
    if found.enabled:
        with contextlib.suppress(cgroups.CgroupError):
            found.remove()


def report(spec: ContainerSpec) -> dict[str, Any]:
    from kit.sandbox.backend import limits_of

    limits = limits_of(spec, "service")
    found = group(spec)
    usage = found.usage() if found.enabled else cgroups.Usage(0, 0, 0)
    return {
        "memory": limits.memory,
        "memory_text": format_size(limits.memory),
        "pids": limits.pids,
        "cpu_shares": limits.cpu_shares,
        "enforced": found.enabled,
        "oom_kills": usage.oom_kills,
        "forks_refused": usage.forks_refused,
        "message": cgroups.oom_message(limits) if usage.oom_kills else None,
    }


def note_kills(spec: ContainerSpec, seen: dict[str, int]) -> list[str]:
    """Log each new OOM kill or refused fork of ``spec``'s container; the lines written."""
    found = group(spec)
    if not found.enabled:
        return []
    usage = found.usage()
    lines = []
    info = report(spec)
    if usage.oom_kills > seen.get("oom_kills", 0):
        lines.append(f"{info['message']} ({usage.oom_kills} so far)")
    if usage.forks_refused > seen.get("forks_refused", 0):
        lines.append(f"fork refused: process limit reached (limit {info['pids']})")
    seen.update(oom_kills=usage.oom_kills, forks_refused=usage.forks_refused)
    if lines:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        path = Path(spec.home) / ".dotkit" / "container.log"
        with contextlib.suppress(OSError), open_log(path) as out:
            out.write("".join(f"{stamp} dotkit: {line}\n" for line in lines).encode())
    return lines


def mechanism() -> str:
    """One line for ``dotkit doctor``: how limits are enforced here."""
    return hierarchy().describe()
