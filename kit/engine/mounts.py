"""Unmounting what a tool left mounted under a folder, before the folder is removed."""

from __future__ import annotations

from pathlib import Path

from kit.proc import run


def mounts_under(root: Path, mountinfo: str) -> list[str]:
    """Mount points at or under ``root``, deepest first (``mountinfo``: its text)."""
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = fields[4].replace("\\040", " ")
        if point == str(root) or point.startswith(str(root) + "/"):
            found.append(point)
    return sorted(found, key=len, reverse=True)


def unmount_under(root: Path) -> None:
    """Lazily unmount everything at or under ``root`` (a tool that crashed may leave mounts)."""
    info = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
    for point in mounts_under(root, info):
        run(["umount", "-l", point], check=False, timeout=30)
