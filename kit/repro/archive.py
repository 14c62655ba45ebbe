"""Unpacking a customer's archive without trusting it.

Everything in the archive is judged from its headers before anything is
written: names (no absolute paths, no ``..``), kinds (files, folders and links
only, no devices), where links lead, how many entries there are, how big they
say they are and how hard they are compressed. The limits are enforced again
while writing, because headers can lie. Links are made last, after every
file, so nothing is ever written through one; each must then resolve inside
the folder. On any refusal the folder is removed: nothing of the archive stays.
"""

import contextlib
import gzip
import os
import posixpath
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple, Protocol

from kit.errors import InputError, OperationFailed

SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
MB = 1_000_000
CHUNK = 64 * 1024
MAX_LINK_TARGET = 4096
# Besides the files, a tar stream holds a 512-byte header per entry (and more for long
# names), padding, and its end blocks: the most it may take on top of the files.
TAR_OVERHEAD_PER_ENTRY = 4096
TAR_OVERHEAD = 1 * MB
_DRIVE = re.compile(r"[A-Za-z]:(?:/|$)")  # C:/ or C: (backslashes are made /)


class Limits(NamedTuple):
    """How much an archive may unpack to."""

    max_files: int = 20_000
    max_bytes: int = 500 * MB
    max_ratio: int = 200  # unpacked : packed, per zip entry
    ratio_floor: int = 1 * MB  # smaller entries may compress as well as they like


class ArchiveRefused(InputError):
    """The archive is unsafe or unreadable; nothing of it was kept."""


class Entry(NamedTuple):
    """One archive member, as its header describes it."""

    name: str  # normalised: posix, relative, without "." parts
    kind: str  # "file", "dir", "symlink" or "hardlink"
    size: int
    mode: int
    target: str = ""  # a symlink's target as written, a hard link's (normalised) member


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def archive_stem(path: Path) -> str:
    """``customer-app`` for ``customer-app.tar.gz``."""
    lower = path.name.lower()
    for suffix in SUFFIXES:
        if lower.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.name


DEFAULT_LIMITS = Limits()


def unpack(archive: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Unpack ``archive`` into the new folder ``dest``, or raise :class:`ArchiveRefused`."""
    label = archive.name
    if not archive.is_file():
        raise ArchiveRefused(f"cannot unpack {label}: it is not a file")
    dest.mkdir(parents=True)
    try:
        if archive.name.lower().endswith(".zip"):
            _unpack_zip(archive, dest, limits, label)
        else:
            _unpack_tar(archive, dest, limits, label)
    except OSError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise OperationFailed(f"cannot unpack {label} into {dest}: {exc}") from None
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _refuse(label: str, why: str) -> ArchiveRefused:
    return ArchiveRefused(f"cannot unpack {label}: {why}")


# --- judging the headers -------------------------------------------------------------------


def safe_name(label: str, raw: str) -> str:
    """The member's path inside the folder; "" for the folder itself."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise _refuse(label, f"the entry {raw!r} has an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _refuse(label, f"the entry {raw!r} leads outside the archive's folder (..)")
    if "\0" in name:
        raise _refuse(label, f"the entry {raw!r} has a NUL byte in its name")
    return "/".join(parts)


def _check_link(label: str, entry: Entry) -> None:
    target = entry.target
    if entry.kind == "hardlink":
        return  # its target was normalised by safe_name, which refuses the way out
    if not target:
        raise _refuse(label, f"the entry {entry.name!r} is a link to nothing")
    if target.startswith("/") or _DRIVE.match(target):
        raise _refuse(
            label, f"the entry {entry.name!r} is a link to {target!r}, outside the archive's folder"
        )
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry.name), target))
    if resolved == ".." or resolved.startswith("../"):
        raise _refuse(
            label, f"the entry {entry.name!r} is a link to {target!r}, outside the archive's folder"
        )


class _Tally:
    """Counts entries and declared sizes against the limits, entry by entry."""

    def __init__(self, label: str, limits: Limits) -> None:
        self.label, self.limits = label, limits
        self.files = 0
        self.bytes = 0
        self.kinds: dict[str, str] = {}

    def add(self, entry: Entry) -> None:
        limits = self.limits
        self.files += 1
        if self.files > limits.max_files:
            raise _refuse(
                self.label,
                f"it holds more than {limits.max_files} entries, the limit "
                "(an app's node_modules does not belong in a ticket's archive)",
            )
        if entry.kind == "file":
            self.bytes += entry.size
            if self.bytes > limits.max_bytes:
                raise _refuse(
                    self.label,
                    f"its files would take more than {limits.max_bytes / MB:g} MB unpacked, "
                    "the limit",
                )
        parts = entry.name.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            kind = self.kinds.setdefault(prefix, "dir")
            if kind != "dir":
                raise _refuse(
                    self.label,
                    f"the entry {entry.name!r} is inside {prefix!r}, which is a "
                    f"{'link' if kind == 'symlink' else 'file'}, not a folder",
                )
        if entry.kind in ("symlink", "hardlink"):
            _check_link(self.label, entry)
        if entry.kind == "hardlink" and self.kinds.get(entry.target) != "file":
            raise _refuse(
                self.label,
                f"the entry {entry.name!r} is a hard link to {entry.target!r}, "
                "which is not a file earlier in the archive",
            )
        if entry.name in self.kinds and not (entry.kind == "dir" == self.kinds[entry.name]):
            raise _refuse(self.label, f"the entry {entry.name!r} appears twice")
        self.kinds[entry.name] = entry.kind


class _Budget:
    """Bytes actually written, against the limit: headers can lie."""

    def __init__(self, label: str, limits: Limits) -> None:
        self.label, self.limit, self.spent = label, limits.max_bytes, 0

    def copy(self, source: IO[bytes], path: Path, entry: Entry) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            written = 0
            while chunk := source.read(CHUNK):
                written += len(chunk)
                self.spent += len(chunk)
                if written > entry.size:
                    raise _refuse(
                        self.label,
                        f"the entry {entry.name!r} holds more than the {entry.size} bytes "
                        "its header declares",
                    )
                if self.spent > self.limit:
                    raise _refuse(
                        self.label, f"unpacking went past the limit of {self.limit / MB:g} MB"
                    )
                out.write(chunk)
        os.chmod(path, 0o755 if entry.mode & 0o111 else 0o644)


def _parent(dest: Path, entry: Entry, label: str) -> Path:
    """The entry's path, with its folders made; never through a link or a file."""
    path = dest / entry.name
    folder = dest
    for part in entry.name.split("/")[:-1]:
        folder = folder / part
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise _refuse(label, f"the entry {entry.name!r} is inside a file or a link")
        folder.mkdir(exist_ok=True)
    return path


def _mkdir(dest: Path, entry: Entry, label: str) -> None:
    try:
        _parent(dest, entry, label).mkdir(exist_ok=True)
    except FileExistsError:
        raise _refuse(label, f"the entry {entry.name!r} appears twice") from None


def _make_links(dest: Path, links: list[Entry], label: str) -> None:
    """Symbolic links last, then each must resolve inside ``dest``."""
    root = dest.resolve()
    for entry in links:
        path = _parent(dest, entry, label)
        try:
            path.symlink_to(entry.target)
        except FileExistsError:
            raise _refuse(label, f"the entry {entry.name!r} appears twice") from None
    for entry in links:
        resolved = Path(os.path.realpath(dest / entry.name))
        if resolved != root and not resolved.is_relative_to(root):
            raise _refuse(
                label,
                f"the entry {entry.name!r} is a link that resolves outside the archive's "
                "folder (through another link)",
            )


# --- zip ------------------------------------------------------------------------------------


def _zip_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limits: Limits) -> Entry:
    name = safe_name(label, info.filename)
    mode = info.external_attr >> 16 if info.create_system == 3 else 0
    kind = stat.S_IFMT(mode)
    if info.is_dir() or kind == stat.S_IFDIR:
        return Entry(name, "dir", 0, 0o755)
    if kind == stat.S_IFLNK:
        if info.file_size > MAX_LINK_TARGET:
            raise _refuse(label, f"the entry {name!r} is a link with a target too long to be one")
        target = _read_member(zf, info, label).decode("utf-8", errors="replace")
        return Entry(name, "symlink", 0, 0o777, target)
    if kind not in (0, stat.S_IFREG):
        raise _refuse(label, f"the entry {name!r} is {_special(kind)}; {_ONLY}")
    packed = max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * packed:
        raise _refuse(
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
        raise _refuse(
            label, f"the entry {name!r} is damaged or its header lies about it ({exc})"
        ) from None


def _unpack_zip(archive: Path, dest: Path, limits: Limits, label: str) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(label, f"it is not a zip archive that can be read ({exc})") from None
    with zf:
        tally = _Tally(label, limits)
        members: list[tuple[zipfile.ZipInfo, Entry]] = []
        for info in zf.infolist():
            entry = _zip_entry(zf, info, label, limits)
            if entry.name:
                tally.add(entry)
                members.append((info, entry))
        if not members:
            raise _refuse(label, "the archive is empty")
        budget = _Budget(label, limits)
        links: list[Entry] = []
        for info, entry in members:
            if entry.kind == "dir":
                _mkdir(dest, entry, label)
            elif entry.kind == "symlink":
                links.append(entry)
            else:
                path = _parent(dest, entry, label)
                with _damage(label, info.filename), zf.open(info) as source:
                    _write(budget, source, path, entry, label)
        _make_links(dest, links, label)


def _write(budget: _Budget, source: IO[bytes], path: Path, entry: Entry, label: str) -> None:
    try:
        budget.copy(source, path, entry)
    except (FileExistsError, IsADirectoryError):
        raise _refuse(label, f"the entry {entry.name!r} appears twice") from None


# --- tar ------------------------------------------------------------------------------------

_ONLY = "only files, folders and links are unpacked"


def _special(kind: int) -> str:
    names = {
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
        stat.S_IFIFO: "a named pipe (FIFO)",
        stat.S_IFSOCK: "a socket",
    }
    return names.get(kind, "of an unknown kind")


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
            raise _refuse(
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
            raise _refuse(
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
    raise _refuse(label, f"the entry {name!r} is {_special(kinds.get(member.type, 0))}; {_ONLY}")


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
        raise _refuse(label, f"it is not a tar archive that can be read ({exc})") from None


def _unpack_tar(archive: Path, dest: Path, limits: Limits, label: str) -> None:
    tally = _Tally(label, limits)
    for _tf, member in _tar_members(archive, limits, label):  # headers only, nothing written
        entry = _tar_entry(member, label)
        if entry.name:
            tally.add(entry)
    if not tally.files:
        raise _refuse(label, "the archive is empty")
    budget = _Budget(label, limits)
    links: list[Entry] = []
    for tf, member in _tar_members(archive, limits, label):
        entry = _tar_entry(member, label)
        if not entry.name:
            continue
        if entry.kind == "dir":
            _mkdir(dest, entry, label)
        elif entry.kind == "symlink":
            links.append(entry)
        elif entry.kind == "hardlink":
            # A copy of the file it names: never a real hard link to anything.
            path = _parent(dest, entry, label)
            source_path = dest / entry.target
            if source_path.is_symlink() or not source_path.is_file():
                raise _refuse(label, f"the entry {entry.name!r} is a hard link to no file")
            info = source_path.stat()
            copy = entry._replace(size=info.st_size, mode=info.st_mode & 0o777)
            with source_path.open("rb") as source:
                _write(budget, source, path, copy, label)
        else:
            contents = tf.extractfile(member)
            assert contents is not None  # a regular file always has contents
            _write(budget, contents, _parent(dest, entry, label), entry, label)
    _make_links(dest, links, label)
