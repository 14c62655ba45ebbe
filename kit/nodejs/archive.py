"""Checking and unpacking a downloaded Node.js build: integrity first, then a careful untar.

A tarball from the registry is hostile until proven otherwise. Its bytes must
hash to the packument's ``dist.integrity`` (Subresource Integrity: ``sha512-``
and base64) before anything is unpacked, and every member is checked before
one is written: no absolute names or ``..``, no member under a symbolic link,
no link that points outside the folder, no devices, FIFOs or other special
files, and size limits against archive bombs. Python's own ``data`` filter then
guards the extraction a second time.

Two layouts are published: ``package/bin/node`` (the build itself), and, for
older releases, ``package/node-vX-linux-x64.tar.gz`` holding the official
build tarball (whose folder may be named ``...-linux-x86_64``).
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kit.errors import OperationFailed

MAX_MEMBERS = 50_000
MAX_UNPACKED = 1 << 30  # bytes, all members together
_STRENGTH = ("sha512", "sha384", "sha256")  # strongest first; sha1 is not enough


class BadArchive(OperationFailed):
    """A download does not match its integrity string, or its tarball is unsafe or unusable."""


@dataclass(frozen=True)
class Member:
    """What the checks need to know of one tar member."""

    name: str
    kind: str  # "file", "dir", "symlink", "hardlink" or "other"
    link: str = ""
    size: int = 0


class Integrity:
    """Hashes a download as it arrives, then checks it against an SRI string."""

    def __init__(self, sri: str) -> None:
        wanted: dict[str, set[bytes]] = {}
        for token in sri.split():
            algorithm, _, value = token.partition("-")
            digest = value.split("?")[0]
            try:
                raw = base64.b64decode(digest, validate=True)
            except ValueError:
                continue
            if raw:
                wanted.setdefault(algorithm, set()).add(raw)
        self.algorithm = next((a for a in _STRENGTH if a in wanted), None)
        if self.algorithm is None:
            raise BadArchive(
                f"the registry gives no usable integrity string for this download ({sri!r}): "
                "refusing to use an unverified Node.js build"
            )
        self._wanted = wanted[self.algorithm]
        self._hash = hashlib.new(self.algorithm)

    def update(self, chunk: bytes) -> None:
        self._hash.update(chunk)

    def check(self, what: str) -> None:
        if self._hash.digest() not in self._wanted:
            got = base64.b64encode(self._hash.digest()).decode()
            raise BadArchive(
                f"{what} does not match the registry's {self.algorithm} integrity "
                f"(got {self.algorithm}-{got[:16]}...): it was changed or damaged on the way, "
                "so it was not unpacked"
            )


def member_problems(members: Iterable[Member]) -> list[str]:
    """Every reason not to unpack an archive with these members (empty when safe)."""
    problems: list[str] = []
    links: set[str] = set()
    files: set[str] = set()
    total = count = 0
    for member in members:
        count += 1
        total += max(member.size, 0)
        name = _normal(member.name)
        problem = _name_problem(member.name, name)
        if problem is None and any(p in links for p in _parents(name)):
            problem = "lies under a symbolic link"
        if problem is None:
            problem = _kind_problem(member, name, files)
        if problem is not None:
            problems.append(f"{member.name!r} {problem}")
            continue
        if member.kind == "symlink":
            links.add(name)
        elif member.kind == "file":
            files.add(name)
    if count > MAX_MEMBERS:
        problems.append(f"it has more than {MAX_MEMBERS} members")
    if total > MAX_UNPACKED:
        problems.append(f"it unpacks to {total} bytes (at most {MAX_UNPACKED})")
    return problems


def _normal(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def _parents(name: str) -> Iterable[str]:
    parts = name.split("/")
    return ("/".join(parts[:i]) for i in range(1, len(parts)))


def _name_problem(raw: str, name: str) -> str | None:
    if not name or "\0" in raw:
        return "has an empty or invalid name"
    if raw.startswith("/"):
        return "has an absolute name"
    if ".." in name.split("/"):
        return "climbs out with '..'"
    return None


def _kind_problem(member: Member, name: str, files: set[str]) -> str | None:
    if member.kind in ("file", "dir"):
        return None
    if member.kind == "symlink":
        if member.link.startswith("/"):
            return f"is a link to the absolute path {member.link!r}"
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.link))
        if target == ".." or target.startswith("../") or target.startswith("/"):
            return f"is a link that leads outside the folder ({member.link!r})"
        return None
    if member.kind == "hardlink":
        if _normal(member.link) not in files:
            return f"is a hard link to {member.link!r}, which is not a file before it"
        return None
    return "is a device, FIFO or other special file"


def _describe(info: tarfile.TarInfo) -> Member:
    if info.isreg():
        kind = "file"
    elif info.isdir():
        kind = "dir"
    elif info.issym():
        kind = "symlink"
    elif info.islnk():
        kind = "hardlink"
    else:
        kind = "other"
    return Member(info.name, kind, info.linkname, info.size)


def unpack(archive: tarfile.TarFile, dest: Path, what: str) -> None:
    """Check every member of ``archive``, then extract it all into ``dest``."""
    if not hasattr(tarfile, "data_filter"):  # Python before 3.11.4
        raise BadArchive(f"unpacking {what} safely needs Python 3.11.4 or newer")
    infos: list[tarfile.TarInfo] = []
    for info in archive:  # one by one, so a bomb of members stops at the limit
        infos.append(info)
        if len(infos) > MAX_MEMBERS:
            break
    problems = member_problems(_describe(i) for i in infos)
    if problems:
        more = f"; and {len(problems) - 5} more" if problems[5:] else ""
        shown = "; ".join(problems[:5]) + more
        raise BadArchive(f"{what} is not safe to unpack: {shown}")
    try:
        archive.extractall(dest, members=infos, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise BadArchive(f"{what} could not be unpacked: {exc}") from None


def build_folder(root: Path) -> Path:
    """The one folder under ``root`` holding ``bin/node`` (a regular file, not a link)."""
    candidates: Sequence[Path] = [root, *sorted(p for p in root.iterdir() if p.is_dir())]
    for folder in candidates:
        node = folder / "bin" / "node"
        if node.is_file() and not node.is_symlink():
            return folder
    raise BadArchive("the download holds no bin/node: it is not a Node.js build")


def unpack_release(tgz: Path, work: Path, version: str) -> Path:
    """Unpack the registry tarball ``tgz`` under ``work``; return the folder holding bin/node."""
    what = f"{tgz.name} (Node.js v{version})"
    outer_dir = work / "outer"
    try:
        with tarfile.open(tgz, "r:gz") as outer:
            unpack(outer, outer_dir, what)
    except tarfile.TarError as exc:
        raise BadArchive(f"{what} is not a gzip tarball: {exc}") from None
    package = outer_dir / "package"
    if not package.is_dir():
        raise BadArchive(f"{what} has no package/ folder: it is not an npm package")
    if (package / "bin" / "node").is_file():
        return build_folder(package)
    inner = sorted(package.glob("node-v*.tar.gz"))
    if len(inner) != 1 or inner[0].is_symlink():
        raise BadArchive(f"{what} holds neither bin/node nor one node-v*.tar.gz build tarball")
    inner_dir = work / "inner"
    try:
        with tarfile.open(inner[0], "r:gz") as build:
            unpack(build, inner_dir, inner[0].name)
    except tarfile.TarError as exc:
        raise BadArchive(f"{inner[0].name} is not a gzip tarball: {exc}") from None
    return build_folder(inner_dir)
