"""Zip archives: each entry's header judged (with its compression ratio), then written."""

import contextlib
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from kit.repro.archive.entries import (
    MAX_LINK_TARGET,
    ONLY,
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


def _zip_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limits: Limits) -> Entry:
    name = safe_name(label, info.filename)
    mode = info.external_attr >> 16 if info.create_system == 3 else 0
    kind = stat.S_IFMT(mode)
    if info.is_dir() or kind == stat.S_IFDIR:
        return Entry(name, "dir", 0, 0o755)
    if kind == stat.S_IFLNK:
        if info.file_size > MAX_LINK_TARGET:
            raise refuse(label, f"the entry {name!r} is a link with a target too long to be one")
        target = _read_member(zf, info, label).decode("utf-8", errors="replace")
        return Entry(name, "symlink", 0, 0o777, target)
    if kind not in (0, stat.S_IFREG):
        raise refuse(label, f"the entry {name!r} is {special_kind(kind)}; {ONLY}")
    packed = max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * packed:
        raise refuse(
            label,
            f"the entry {name!r} would unpack from {info.compress_size} bytes to "
            f"{info.file_size} ({info.file_size // packed}:1, a zip bomb?); "
            f"the limit is {limits.max_ratio}:1",
        )
    return Entry(name, "file", info.file_size, mode & 0o777)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    with _damage(label, info.filename), zf.open(info) as handle:
        return handle.read(MAX_LINK_TARGET + 1)


@contextlib.contextmanager
def _damage(label: str, name: str) -> Iterator[None]:
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise refuse(
            label, f"the entry {name!r} is damaged or its header lies about it ({exc})"
        ) from None


def unpack_zip(archive: Path, dest: Path, limits: Limits, label: str) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise refuse(label, f"it is not a zip archive that can be read ({exc})") from None
    with zf:
        tally = Tally(label, limits)
        members: list[tuple[zipfile.ZipInfo, Entry]] = []
        for info in zf.infolist():
            entry = _zip_entry(zf, info, label, limits)
            if entry.name:
                tally.add(entry)
                members.append((info, entry))
        if not members:
            raise refuse(label, "the archive is empty")
        budget = Budget(label, limits)
        links: list[Entry] = []
        for info, entry in members:
            if entry.kind == "dir":
                make_folder(dest, entry, label)
            elif entry.kind == "symlink":
                links.append(entry)
            else:
                path = parent_folder(dest, entry, label)
                with _damage(label, info.filename), zf.open(info) as source:
                    write_member(budget, source, path, entry, label)
        make_links(dest, links, label)
