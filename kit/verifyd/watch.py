"""Watching apps with inotify, so the verify server knows what changed between runs.

A :class:`Watcher` is the server's :class:`kit.verify.runner.Tracker`. After each
run it keeps the app's memo and watches every folder the listing walked; before
the next run it drains the events the kernel queued meanwhile. An edit, a touch,
a new, removed or renamed file all queue an event in the same system call that
makes the change, so by the time a client asks, every change it made is known.

Whenever that is not certain the watcher says "not known" and the run falls back
to stat calls, as without a server: for an app it has not watched yet, after the
kernel's queue overflowed, when a folder cannot be watched (the per-user limit of
watches), and for one run after new folders were added to the watch, since a file
in one could have changed before its watch began. Changes the kernel does not
report through the app's folders (a write through a hard link in another folder,
or on a network file system from another machine) are beyond any watcher; run
``dotkit verify --no-cache`` after those.
"""

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from kit.verify.fast.memo import Memo
from kit.verify.runner import Changes

# What makes an entry appear, vanish or be renamed; each also names a file that changed.
_STRUCTURE = 0x100 | 0x200 | 0x40 | 0x80 | 0x400 | 0x800  # CREATE DELETE MOVED_* *_SELF
_CONTENT = 0x2 | 0x4 | 0x8  # MODIFY ATTRIB CLOSE_WRITE
_OVERFLOW = 0x4000
_IGNORED = 0x8000  # the watch is gone (its folder was removed)
_ONLYDIR_DONT_FOLLOW = 0x01000000 | 0x02000000
MASK = _STRUCTURE | _CONTENT | _ONLYDIR_DONT_FOLLOW
# Apps watched at once; the one used least recently is dropped first.
MAX_APPS = 8


class _App:
    """One watched app: its memo, its watches and what changed since its last run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.memo: Memo | None = None
        self.folders: dict[str, int] = {}  # relative folder -> watch descriptor
        self.folder_events = 0  # entries added, removed or renamed, counted
        self.files: set[str] = set()
        # Events may have been lost each time this goes up (queue overflow, a folder
        # that could not be watched); a run that began after the last loss and
        # finished makes the app trusted again.
        self.losses = 0
        self.trusted = -1
        self.taken: tuple[int, frozenset[str], int] = (0, frozenset(), 0)


class Watcher:
    """Keeps apps' memos and tells each run what changed since the previous one."""

    def __init__(self) -> None:
        from inotify_simple import INotify  # Linux only; the server checks before

        self._inotify: Any = INotify(nonblocking=True)
        self._apps: dict[Path, _App] = {}
        self._by_wd: dict[int, tuple[_App, str]] = {}
        self._later: list[Callable[[], None]] = []

    def fileno(self) -> int:
        return int(self._inotify.fileno())

    def close(self) -> None:
        self._inotify.close()

    # --- Tracker ------------------------------------------------------------------

    def memo(self, root: Path) -> Memo | None:
        app = self._apps.get(root.resolve())
        return app.memo if app is not None else None

    def changes(self, root: Path) -> Changes | None:
        self.drain()
        app = self._apps.get(root.resolve())
        if app is None:
            return None
        app.taken = (app.folder_events, frozenset(app.files), app.losses)
        if app.trusted != app.losses:
            return None
        return Changes(app.folder_events > 0, app.taken[1])

    def finished(self, root: Path, memo: Memo) -> None:
        key = root.resolve()
        app = self._apps.pop(key, None) or _App(key)
        self._apps[key] = app  # now the most recently used
        # What the run was told is dealt with; what came in during the run is not.
        folder_events, files, losses = app.taken
        app.folder_events -= folder_events
        app.files -= files
        app.trusted = losses
        app.taken = (0, frozenset(), losses)
        app.memo = memo
        self._watch(app, memo)
        while len(self._apps) > MAX_APPS:
            self.forget(next(iter(self._apps)))

    def _watch(self, app: _App, memo: Memo) -> None:
        """Watch the folders ``memo`` lists, and no others."""
        wanted = dict(memo.listing.folders)
        for rel in set(app.folders) - set(wanted):
            self._unwatch(app, rel)
        added = []
        for rel in sorted(set(wanted) - set(app.folders)):
            path = os.fspath(app.root / rel) if rel else os.fspath(app.root)
            try:
                wd = self._inotify.add_watch(path, MASK)
            except OSError:
                app.losses += 1  # gone already, or out of watches: stat calls next time
                continue
            app.folders[rel] = wd
            self._by_wd[wd] = (app, rel)
            added.append(rel)
        if added:
            self._catch_up(app, memo, added, wanted)

    def _catch_up(self, app: _App, memo: Memo, added: list[str], mtimes: dict[str, int]) -> None:
        """What changed in newly watched folders between the run's look and their watch."""
        base = os.fspath(app.root)
        for rel in added:
            try:
                now = os.lstat(f"{base}/{rel}" if rel else base).st_mtime_ns
            except OSError:
                now = -1
            if now != mtimes[rel] or now < 0:
                app.folder_events += 1
        folders = set(added)
        for path, entry in memo.js_index.items():
            if path.rpartition("/")[0] not in folders or entry[1] < 0:
                continue  # watched before the run, or read again next time anyway
            try:
                info = os.lstat(f"{base}/{path}")
            except OSError:
                app.files.add(path)
                continue
            if (info.st_size, info.st_mtime_ns, info.st_ino) != entry[:3]:
                app.files.add(path)

    def later(self, job: Callable[[], None]) -> None:
        self._later.append(job)

    def run_later(self) -> None:
        """Run what the runs left for after their answers (the server calls this)."""
        jobs, self._later = self._later, []
        for job in jobs:
            job()

    # --- events -------------------------------------------------------------------

    def drain(self) -> None:
        """Take in every event queued so far."""
        while True:
            events = self._inotify.read(timeout=0)
            if not events:
                return
            for event in events:
                self._take(event)

    def _take(self, event: "_Event") -> None:
        if event.mask & _OVERFLOW:
            for app in self._apps.values():
                app.losses += 1
            return
        found = self._by_wd.get(event.wd)
        if found is None:
            return
        app, folder = found
        if event.mask & _IGNORED:
            self._by_wd.pop(event.wd, None)
            app.folders.pop(folder, None)
            app.folder_events += 1
            return
        name = f"{folder}/{event.name}" if folder and event.name else folder or event.name
        if event.mask & _STRUCTURE:
            app.folder_events += 1
        if name:
            app.files.add(name)

    def _unwatch(self, app: _App, rel: str) -> None:
        wd = app.folders.pop(rel)
        self._by_wd.pop(wd, None)
        with contextlib.suppress(OSError):  # its folder is gone, and the watch with it
            self._inotify.rm_watch(wd)

    def forget(self, root: Path) -> None:
        app = self._apps.pop(root, None)
        if app is not None:
            for rel in list(app.folders):
                self._unwatch(app, rel)

    def watched(self) -> list[Path]:
        return list(self._apps)


class _Event(NamedTuple):  # the shape of inotify_simple's events
    wd: int
    mask: int
    cookie: int
    name: str
