"""Module facts of the files node loads, remembered by content.

The verifier follows an app's ``require``s from its entry scripts and needs the
:class:`~kit.js.model.ModuleFacts` of each file it reaches
(:func:`kit.js.modules.analyze_module`). Unlike the first analysis, this one
parses every file it is asked about, so its results are kept: in this process
by content digest (the verify server asks again on every run), and in a SQLite
file beside the JavaScript cache, shared by every app. A file is read (never
through a symlink, never blocking on a FIFO) and hashed each time it is asked
for; a loaded file is parsed once per content.

Like :mod:`kit.verify.fast.jscache`, the store is an optimisation only: a cache
that cannot be opened, read or written is done without.
"""

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from kit.js.model import ModuleFacts, facts_from_json
from kit.js.modules import analyze_json_module, analyze_module
from kit.verify.fast import store

if TYPE_CHECKING:
    import sqlite3

# Bump whenever analyze_module or analyze_json_module change for the same bytes.
MODULES_VERSION = 2
KEEP_DAYS = store.KEEP_DAYS
TABLE = "modules"
# Facts of less source than this are quicker to work out again than to store: a run
# that analysed only that much does not create or write the store.
MIN_STORED_BYTES = 256 << 10
# In this process, by digest and kind ("js" or "json"): the verify server's memory.
_memo: dict[tuple[bytes, str], ModuleFacts] = {}


def _read(path: str) -> bytes | None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
    try:
        with open(path, "rb", opener=lambda p, _: os.open(p, flags)) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            return handle.read()
    except OSError:
        return None


def encode(facts: ModuleFacts) -> str:
    return json.dumps(facts, separators=(",", ":"), ensure_ascii=False)


def decode(data: str) -> ModuleFacts | None:
    try:
        return facts_from_json(json.loads(data))
    except (ValueError, TypeError):
        return None  # a damaged row: analyse again


class ModuleStore:
    """Module facts by path relative to ``root``; :meth:`save` keeps what was new."""

    def __init__(
        self, root: Path, cache_path: Path | None, digests: Mapping[str, bytes] | None = None
    ) -> None:
        """``digests``: the SHA-256 of files whose content is known this run (the stat
        index of :mod:`kit.verify.fast.jscache`), so those are not read again."""
        self.root = os.fspath(root)
        self.digests = digests or {}
        self.cache_path = cache_path
        self._connection: sqlite3.Connection | None = None
        self._opened = False
        self._new: dict[bytes, str] = {}
        self._new_bytes = 0
        self._used: set[bytes] = set()

    def facts(self, rel: str) -> ModuleFacts | None:
        """The facts of the file ``rel``; None when it is not a readable regular file."""
        kind = "json" if rel.endswith(".json") else "js"
        digest = self.digests.get(rel) if kind == "js" else None
        known = self._known(digest, kind) if digest is not None else None
        if known is not None:
            return known
        source = _read(f"{self.root}/{rel}")
        if source is None:
            return None
        salt = b"json\0" if kind == "json" else b""  # JSON is read as data, not code
        digest = hashlib.sha256(salt + source).digest()
        known = self._known(digest, kind)
        if known is None:
            known = analyze_json_module(source) if kind == "json" else analyze_module(source)
            self._new[digest] = encode(known)
            self._new_bytes += len(source)
            _memo[(digest, kind)] = known
        return known

    def _known(self, digest: bytes, kind: str) -> ModuleFacts | None:
        known = _memo.get((digest, kind))
        if known is None:
            known = self._stored(digest)
            if known is not None:  # kept fresh in the store; the memo needs no note
                _memo[(digest, kind)] = known
                self._used.add(digest)
        return known

    def _db(self, create: bool = False) -> "sqlite3.Connection | None":
        if self._opened:
            return self._connection
        if self.cache_path is None or (not create and not self.cache_path.exists()):
            return None  # nothing stored yet: nothing to look up
        self._opened = True
        self._connection = store.open_store(self.cache_path, TABLE)
        return self._connection

    def _stored(self, digest: bytes) -> ModuleFacts | None:
        import sqlite3

        connection = self._db()
        if connection is None:
            return None
        try:
            found = store.select(connection, TABLE, MODULES_VERSION, [digest])
        except sqlite3.Error:
            return None
        return decode(found[digest]) if digest in found else None

    def save(self) -> None:
        """Store the facts analysed in this run; forget facts long unused."""

        worth = self._used or self._new_bytes >= MIN_STORED_BYTES
        connection = self._db(create=True) if worth and (self._new or self._used) else None
        if connection is None:
            if self._connection is not None:  # opened for look-ups only
                self._connection.close()
                self._connection, self._opened = None, False
            return
        try:
            store.save(connection, TABLE, MODULES_VERSION, self._new.items(), self._used)
        finally:
            connection.close()
            self._connection, self._opened = None, False
            self._new.clear()
            self._new_bytes = 0
            self._used.clear()
