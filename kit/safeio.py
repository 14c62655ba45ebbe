"""Reading files someone else controls: a customer's app, a container's logs.

An app can hold a FIFO where a file should be (reading it would wait forever), a
link to a host file (``package.json -> /etc/shadow``, whose lines would end up in
a finding or a support bundle), a link loop, or a log of many gigabytes. Files
read here are opened without waiting (``O_NONBLOCK``), read only when they are
regular files, and read up to a limit. :func:`read_file` follows links that stay
inside ``within`` (an app's own links are part of it); :func:`open_beneath`
follows none at all, not even in the folders on the way (a container's home is
the container's to rearrange).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

READ_LIMIT = 64 * 1024 * 1024  # more than any file the kit reads whole should be
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC


def _inside(path: Path, root: Path) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip("/") + "/")


def _regular(fd: int, label: object) -> os.stat_result:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a FIFO, a device or a folder)", label)
    return info


def _read(fd: int, label: object, limit: int) -> bytes:
    try:
        _regular(fd, label)
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise OSError(errno.EFBIG, f"larger than {limit} bytes", label)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_file(path: Path, *, within: Path | None = None, limit: int = READ_LIMIT) -> bytes:
    """The bytes of ``path``: a regular file, reached through no link that leads out of
    ``within`` (when given); OSError otherwise, never a wait."""
    if within is not None and not _inside(path, within):
        raise OSError(errno.EXDEV, "a link out of the app", str(path))
    return _read(os.open(path, _FLAGS), str(path), limit)


def read_text(path: Path, *, within: Path | None = None, limit: int = READ_LIMIT) -> str:
    return read_file(path, within=within, limit=limit).decode("utf-8", errors="replace")


def open_beneath(base: Path, *parts: str, directory: bool = False) -> int:
    """A descriptor of ``base/parts...``, opened without following any link on the way
    (``base`` itself is the platform's); OSError for a link, a FIFO or a device."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index, part in enumerate(parts):
            if part in ("", ".", "..") or "/" in part:
                raise OSError(errno.EINVAL, "not a plain name", part)
            last = index == len(parts) - 1
            flags = _FLAGS | os.O_NOFOLLOW
            if not last or directory:
                flags |= os.O_DIRECTORY
            inner = os.open(part, flags, dir_fd=fd)
            os.close(fd)
            fd = inner
        if not directory:
            _regular(fd, str(base.joinpath(*parts)))
    except OSError:
        os.close(fd)
        raise
    return fd


def regular_files(base: Path, *parts: str, suffix: str = "") -> list[str]:
    """Names of the regular files (no links, FIFOs or folders) in ``base/parts...``,
    sorted; none when that folder cannot be reached without following a link."""
    try:
        fd = open_beneath(base, *parts, directory=True)
    except OSError:
        return []
    found = []
    try:
        for name in sorted(os.listdir(fd)):  # noqa: PTH208 - a descriptor, not a path
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except OSError:
                continue
            if name.endswith(suffix) and stat.S_ISREG(info.st_mode):
                found.append(name)
    finally:
        os.close(fd)
    return found


def regular_folders(path: Path) -> list[str]:
    """Names of the folders (not links to folders) in ``path``, sorted; none when
    ``path`` is not a folder."""
    try:
        with os.scandir(path) as entries:
            return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def read_beneath(base: Path, *parts: str, offset: int = 0, limit: int = READ_LIMIT) -> bytes:
    """At most ``limit`` bytes from ``offset`` of the regular file ``base/parts...``,
    reached as :func:`open_beneath` does."""
    fd = open_beneath(base, *parts)
    try:
        os.set_blocking(fd, True)
        os.lseek(fd, offset, os.SEEK_SET)
        chunks, left = [], limit
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def tail_beneath(
    base: Path, *parts: str, lines: int, limit: int = 1 << 20
) -> tuple[list[str], int]:
    """The last ``lines`` lines of a log (looked for in its last ``limit`` bytes) and its
    size, reached as :func:`open_beneath` does; ([], 0) when it cannot be read so."""
    try:
        fd = open_beneath(base, *parts)
    except OSError:
        return [], 0
    try:
        size = os.fstat(fd).st_size
        start = max(0, size - limit)
        os.set_blocking(fd, True)
        data = os.pread(fd, size - start, start)
    except OSError:
        return [], 0
    finally:
        os.close(fd)
    text = data.decode("utf-8", errors="replace").splitlines()
    if start > 0:
        text = text[1:]  # cut in the middle
    return (text[-lines:] if lines > 0 else []), size
