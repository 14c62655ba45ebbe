"""Which files belong to an app: listing it, finding its Gears, reading a file.

Listing honours ``.gitignore`` files at every level (and ``.dotcloudignore``
where asked), never descends into ``.git`` or ``node_modules``, and never
follows symlinks.
"""

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from kit.errors import UsageError
from kit.platform.facts import TORQUE_FILE

ALWAYS_SKIPPED = frozenset({".git", "node_modules"})
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")


class _Spec(NamedTuple):
    base: str  # posix dir relative to the root, "" for the root itself
    spec: Any


def _load_spec(path: Path, base: str) -> _Spec | None:
    import pathspec  # only apps with ignore files pay for the import

    from kit.safeio import read_text

    try:
        lines = read_text(path).splitlines()
    except OSError:
        return None
    return _Spec(base, pathspec.GitIgnoreSpec.from_lines(lines))


def _ignored(specs: Sequence[_Spec], rel: str, is_dir: bool) -> bool:
    for spec in specs:
        if spec.base and not rel.startswith(spec.base + "/"):
            continue
        sub = rel[len(spec.base) + 1 :] if spec.base else rel
        if spec.spec.match_file(sub + "/" if is_dir else sub):
            return True
    return False


class Listing(NamedTuple):
    """An app's files, and what it takes to tell later whether they are still the same."""

    files: tuple[str, ...]  # sorted posix paths relative to the root, links included
    links: frozenset[str]  # those of ``files`` that are symbolic links
    # Every folder walked, with its mtime (-1 when it changed too recently to trust):
    # adding, removing or renaming an entry changes a folder's mtime.
    folders: tuple[tuple[str, int], ...]
    # Every ignore file read: path, size, mtime, inode (mtime -1: too recent to trust).
    ignore_files: tuple[tuple[str, int, int, int], ...]


# Coarser than any file system's clock the kit meets (FAT keeps 2 s): a folder or file
# changed this close to a walk may change again without its mtime moving.
RACY_WINDOW_NS = 2_000_000_000


def list_app_files(
    root: Path,
    *,
    ignore_files: Iterable[str] = (".gitignore",),
    exclude: Path | None = None,
) -> list[str]:
    """Every file (and symlink) of the app, as sorted posix paths relative to ``root``."""
    return list(scan_app(root, ignore_files=ignore_files, exclude=exclude).files)


def scan_app(
    root: Path,
    *,
    ignore_files: Iterable[str] = (".gitignore",),
    exclude: Path | None = None,
) -> Listing:
    """Walk the app once: its files and links, and the folders' and ignore files' stats.

    Raises OSError when ``root`` itself cannot be read; unreadable folders below it
    are left out, as ``os.walk`` does.
    """
    ignore_names = tuple(ignore_files)
    excluded = exclude.resolve() if exclude is not None else None
    racy = time.time_ns() - RACY_WINDOW_NS
    files: list[str] = []
    links: set[str] = set()
    folders: list[tuple[str, int]] = []
    read: list[tuple[str, int, int, int]] = []
    base = os.fspath(root)
    stack: list[tuple[str, list[_Spec]]] = [("", [])]
    while stack:
        rel_dir, inherited = stack.pop()
        here = f"{base}/{rel_dir}" if rel_dir else base
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
            mtime = os.lstat(here).st_mtime_ns
        except OSError:
            if not rel_dir:
                raise
            continue
        folders.append((rel_dir, mtime if mtime < racy else -1))
        specs = inherited
        names = {e.name: e for e in entries}
        for name in ignore_names:
            entry = names.get(name)
            if entry is None or not entry.is_file():
                continue
            path = f"{rel_dir}/{name}" if rel_dir else name
            spec = _load_spec(Path(entry.path), rel_dir)
            if spec is None:
                continue
            info = entry.stat()
            when = info.st_mtime_ns if info.st_mtime_ns < racy else -1
            read.append((path, info.st_size, when, info.st_ino))
            specs = [*specs, spec]
        subfolders = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name in ALWAYS_SKIPPED or _ignored(specs, rel, True):
                    continue
                if _is(entry.path, excluded):
                    continue
                subfolders.append((rel, specs))
            elif entry.is_symlink():
                is_dir = _points_to_dir(entry)  # how ignore rules see it
                if is_dir and (entry.name in ALWAYS_SKIPPED or _is(entry.path, excluded)):
                    continue
                if not _ignored(specs, rel, is_dir):
                    files.append(rel)  # copied as a link, never followed
                    links.add(rel)
            elif not _ignored(specs, rel, False):
                files.append(rel)
        stack.extend(reversed(subfolders))
    files.sort()
    return Listing(tuple(files), frozenset(links), tuple(folders), tuple(read))


def _points_to_dir(entry: os.DirEntry[str]) -> bool:
    """Whether a link leads to a folder; a link loop (or any link that cannot be
    followed) leads to none."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is(path: str, excluded: Path | None) -> bool:
    return excluded is not None and Path(path).resolve() == excluded


def listing_still_true(root: Path, listing: Listing) -> bool:
    """Whether walking ``root`` again would give ``listing``, by stat calls alone."""
    base = os.fspath(root)
    try:
        for rel_dir, mtime in listing.folders:
            here = f"{base}/{rel_dir}" if rel_dir else base
            if mtime < 0 or os.lstat(here).st_mtime_ns != mtime:
                return False
        for path, size, mtime, inode in listing.ignore_files:
            info = (root / path).stat()
            if mtime < 0 or (info.st_size, info.st_mtime_ns, info.st_ino) != (size, mtime, inode):
                return False
    except OSError:
        return False
    return True


class GearLocation(NamedTuple):
    dirname: str
    approot: str  # relative to the app root, "." for the root itself


def find_gears(root: Path, files: Sequence[str]) -> list[GearLocation]:
    """The app root itself if it holds a ``.torque``, then each direct subfolder that does."""
    gears: list[GearLocation] = []
    present = set(files)
    if TORQUE_FILE in present or (root / TORQUE_FILE).is_file():
        gears.append(GearLocation(root.resolve().name or "app", "."))
    for rel in files:
        parts = rel.split("/")
        if len(parts) == 2 and parts[1] == TORQUE_FILE:
            gears.append(GearLocation(parts[0], parts[0]))
    return gears


def read_bytes(path: Path, label: str, *, within: Path | None = None) -> bytes:
    """An app's file: regular, reached through no link out of ``within``, never waited on."""
    from kit.safeio import read_file

    try:
        return read_file(path, within=within)
    except OSError as exc:
        raise UsageError(f"cannot read {label}: {exc.strerror or exc}") from None
