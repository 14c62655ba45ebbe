"""Archive members judged from their headers, and written within a budget.

Names (no absolute paths, no ``..``), kinds, where links lead, how many entries
and how many bytes: all checked before anything is written, and again while
writing, because headers can lie. Links are made last.
"""

import os
import posixpath
import re
import stat
from pathlib import Path
from typing import IO, NamedTuple

from kit.errors import InputError

SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
MB = 1_000_000
CHUNK = 64 * 1024
MAX_LINK_TARGET = 4096
# Besides the files, a tar stream holds a 512-byte header per entry (and more for long
# names), padding, and its end blocks: the most it may take on top of the files.
TAR_OVERHEAD_PER_ENTRY = 4096
TAR_OVERHEAD = 1 * MB
DRIVE = re.compile(r"[A-Za-z]:(?:/|$)")  # C:/ or C: (backslashes are made /)


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


DEFAULT_LIMITS = Limits()


def refuse(label: str, why: str) -> ArchiveRefused:
    return ArchiveRefused(f"cannot unpack {label}: {why}")


# --- judging the headers -------------------------------------------------------------------


def safe_name(label: str, raw: str) -> str:
    """The member's path inside the folder; "" for the folder itself."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or DRIVE.match(name):
        raise refuse(label, f"the entry {raw!r} has an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise refuse(label, f"the entry {raw!r} leads outside the archive's folder (..)")
    if "\0" in name:
        raise refuse(label, f"the entry {raw!r} has a NUL byte in its name")
    return "/".join(parts)


def check_link(label: str, entry: Entry) -> None:
    target = entry.target
    if entry.kind == "hardlink":
        return  # its target was normalised by safe_name, which refuses the way out
    if not target:
        raise refuse(label, f"the entry {entry.name!r} is a link to nothing")
    if target.startswith("/") or DRIVE.match(target):
        raise refuse(
            label, f"the entry {entry.name!r} is a link to {target!r}, outside the archive's folder"
        )
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry.name), target))
    if resolved == ".." or resolved.startswith("../"):
        raise refuse(
            label, f"the entry {entry.name!r} is a link to {target!r}, outside the archive's folder"
        )


class Tally:
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
            raise refuse(
                self.label,
                f"it holds more than {limits.max_files} entries, the limit "
                "(an app's node_modules does not belong in a ticket's archive)",
            )
        if entry.kind == "file":
            self.bytes += entry.size
            if self.bytes > limits.max_bytes:
                raise refuse(
                    self.label,
                    f"its files would take more than {limits.max_bytes / MB:g} MB unpacked, "
                    "the limit",
                )
        parts = entry.name.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            kind = self.kinds.setdefault(prefix, "dir")
            if kind != "dir":
                raise refuse(
                    self.label,
                    f"the entry {entry.name!r} is inside {prefix!r}, which is a "
                    f"{'link' if kind == 'symlink' else 'file'}, not a folder",
                )
        if entry.kind in ("symlink", "hardlink"):
            check_link(self.label, entry)
        if entry.kind == "hardlink" and self.kinds.get(entry.target) != "file":
            raise refuse(
                self.label,
                f"the entry {entry.name!r} is a hard link to {entry.target!r}, "
                "which is not a file earlier in the archive",
            )
        if entry.name in self.kinds and not (entry.kind == "dir" == self.kinds[entry.name]):
            raise refuse(self.label, f"the entry {entry.name!r} appears twice")
        self.kinds[entry.name] = entry.kind


class Budget:
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
                    raise refuse(
                        self.label,
                        f"the entry {entry.name!r} holds more than the {entry.size} bytes "
                        "its header declares",
                    )
                if self.spent > self.limit:
                    raise refuse(
                        self.label, f"unpacking went past the limit of {self.limit / MB:g} MB"
                    )
                out.write(chunk)
        os.chmod(path, 0o755 if entry.mode & 0o111 else 0o644)


def parent_folder(dest: Path, entry: Entry, label: str) -> Path:
    """The entry's path, with its folders made; never through a link or a file."""
    path = dest / entry.name
    folder = dest
    for part in entry.name.split("/")[:-1]:
        folder = folder / part
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise refuse(label, f"the entry {entry.name!r} is inside a file or a link")
        folder.mkdir(exist_ok=True)
    return path


def make_folder(dest: Path, entry: Entry, label: str) -> None:
    try:
        parent_folder(dest, entry, label).mkdir(exist_ok=True)
    except FileExistsError:
        raise refuse(label, f"the entry {entry.name!r} appears twice") from None


def make_links(dest: Path, links: list[Entry], label: str) -> None:
    """Symbolic links last, then each must resolve inside ``dest``."""
    root = dest.resolve()
    for entry in links:
        path = parent_folder(dest, entry, label)
        try:
            path.symlink_to(entry.target)
        except FileExistsError:
            raise refuse(label, f"the entry {entry.name!r} appears twice") from None
    for entry in links:
        resolved = Path(os.path.realpath(dest / entry.name))
        if resolved != root and not resolved.is_relative_to(root):
            raise refuse(
                label,
                f"the entry {entry.name!r} is a link that resolves outside the archive's "
                "folder (through another link)",
            )


def write_member(budget: Budget, source: IO[bytes], path: Path, entry: Entry, label: str) -> None:
    try:
        budget.copy(source, path, entry)
    except (FileExistsError, IsADirectoryError):
        raise refuse(label, f"the entry {entry.name!r} appears twice") from None


ONLY = "only files, folders and links are unpacked"


def special_kind(kind: int) -> str:
    names = {
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
        stat.S_IFIFO: "a named pipe (FIFO)",
        stat.S_IFSOCK: "a socket",
    }
    return names.get(kind, "of an unknown kind")
