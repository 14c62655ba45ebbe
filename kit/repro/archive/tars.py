"""Tar archives (plain or gzipped): members judged, devices and fifos refused, then written."""

import gzip
import stat
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from kit.repro.archive.entries import (
    MB,
    ONLY,
    TAR_OVERHEAD,
    TAR_OVERHEAD_PER_ENTRY,
    Budget,
    Entry,
    Limits,
    Tally,
    make_folder,
    make_links,
    parent_folder,
    refuse,
    safe_name,
    special_kind,
    write_member,
)


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Bounded:
    """A stream that refuses to be read past ``limit`` bytes: a tar is read through it,
    unpacked, so a small .tar.gz cannot make the kit decompress gigabytes."""

    def __init__(self, raw: _Readable, limit: int, label: str, max_bytes: int) -> None:
        self.raw, self.limit, self.label, self.max_bytes = raw, limit, label, max_bytes
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise refuse(
                self.label, f"it unpacks to more than {self.max_bytes / MB:g} MB, the limit"
            )
        return data


def _tar_entry(member: tarfile.TarInfo, label: str) -> Entry:
    name = safe_name(label, member.name)
    if member.isdir():
        return Entry(name, "dir", 0, 0o755)
    if member.issym():
        return Entry(name, "symlink", 0, 0o777, member.linkname)
    if member.islnk():
        target = member.linkname.replace("\\", "/")
        if target.startswith("/") or ".." in target.split("/"):
            raise refuse(
                label,
                f"the entry {name!r} is a hard link to {member.linkname!r}, "
                "outside the archive's folder",
            )
        return Entry(name, "hardlink", 0, 0, safe_name(label, target))
    if member.isreg():
        return Entry(name, "file", member.size, member.mode & 0o777)
    kinds = {
        tarfile.CHRTYPE: stat.S_IFCHR,
        tarfile.BLKTYPE: stat.S_IFBLK,
        tarfile.FIFOTYPE: stat.S_IFIFO,
    }
    raise refuse(label, f"the entry {name!r} is {special_kind(kinds.get(member.type, 0))}; {ONLY}")


def _tar_members(
    archive: Path, limits: Limits, label: str
) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    """Each member of the tar (gzipped or not), read as a stream with a bound."""
    with archive.open("rb") as head:
        gzipped = head.read(2) == b"\x1f\x8b"
    bound = limits.max_bytes + limits.max_files * TAR_OVERHEAD_PER_ENTRY + TAR_OVERHEAD
    try:
        with gzip.GzipFile(archive, "rb") if gzipped else archive.open("rb") as raw:
            stream = _Bounded(raw, bound, label, limits.max_bytes)
            with tarfile.open(fileobj=stream, mode="r|") as tf:  # type: ignore[call-overload]
                for member in tf:
                    yield tf, member
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise refuse(label, f"it is not a tar archive that can be read ({exc})") from None


def unpack_tar(archive: Path, dest: Path, limits: Limits, label: str) -> None:
    tally = Tally(label, limits)
    for _tf, member in _tar_members(archive, limits, label):  # headers only, nothing written
        entry = _tar_entry(member, label)
        if entry.name:
            tally.add(entry)
    if not tally.files:
        raise refuse(label, "the archive is empty")
    budget = Budget(label, limits)
    links: list[Entry] = []
    for tf, member in _tar_members(archive, limits, label):
        entry = _tar_entry(member, label)
        if not entry.name:
            continue
        if entry.kind == "dir":
            make_folder(dest, entry, label)
        elif entry.kind == "symlink":
            links.append(entry)
        elif entry.kind == "hardlink":
            # A copy of the file it names: never a real hard link to anything.
            path = parent_folder(dest, entry, label)
            source_path = dest / entry.target
            if source_path.is_symlink() or not source_path.is_file():
                raise refuse(label, f"the entry {entry.name!r} is a hard link to no file")
            info = source_path.stat()
            copy = entry._replace(size=info.st_size, mode=info.st_mode & 0o777)
            with source_path.open("rb") as source:
                write_member(budget, source, path, copy, label)
        else:
            contents = tf.extractfile(member)
            assert contents is not None  # a regular file always has contents
            write_member(budget, contents, parent_folder(dest, entry, label), entry, label)
    make_links(dest, links, label)
