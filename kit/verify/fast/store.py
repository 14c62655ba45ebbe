"""Analyses kept by content in SQLite, shared by every app: one table per kind.

A table holds ``(digest, version, data, used)``: the SHA-256 of the bytes, the
version of the analyser that produced ``data``, and the day it was last used.
:mod:`kit.verify.fast.jscache` keeps the app files' analyses in ``analyses``,
:mod:`kit.verify.fast.modcache` the dependencies' facts in ``modules``.

The store is an optimisation only: a damaged or unreadable file is thrown away
and rebuilt, a busy one is done without, and nothing about it ever fails a run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

# Entries no run has used for this long are dropped.
KEEP_DAYS = 30
SCHEMA_VERSION = 2  # PRAGMA user_version; another value means an older layout
BUSY_TIMEOUT_S = 5.0
_LOOKUP_CHUNK = 500  # below SQLite's limit on bound parameters


def _schema(table: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (digest BLOB, version INTEGER, data TEXT, "
        "used INTEGER, PRIMARY KEY (digest, version)) WITHOUT ROWID;"
    )


def today() -> int:
    return int(time.time() // 86400)


def lookup(path: Path, table: str, version: int, digests: Sequence[bytes]) -> dict[bytes, str]:
    """Stored data of ``digests``; a missing or unusable store simply knows nothing."""
    import sqlite3

    if not path.is_file():
        return {}
    try:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
        return {}
    try:
        return select(connection, table, version, digests)
    except sqlite3.Error:
        return {}
    finally:
        connection.close()


def select(
    connection: sqlite3.Connection, table: str, version: int, digests: Sequence[bytes]
) -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    unique = list(dict.fromkeys(digests))
    for start in range(0, len(unique), _LOOKUP_CHUNK):
        chunk = unique[start : start + _LOOKUP_CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = connection.execute(
            f"SELECT digest, data FROM {table} WHERE version = ? AND digest IN ({marks})",
            [version, *chunk],
        )
        found.update(rows)
    return found


def save(
    connection: sqlite3.Connection,
    table: str,
    version: int,
    new: Iterable[tuple[bytes, str]],
    used: Iterable[bytes],
) -> None:
    """In one transaction: store ``new``, mark ``used`` as used today, forget the long
    unused and other versions' entries. A store that cannot be written is left as it was."""
    import sqlite3

    day = today()
    try:
        with connection:  # rolled back on any error
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                f"INSERT OR REPLACE INTO {table} VALUES (?, {version}, ?, {day})", list(new)
            )
            connection.executemany(
                f"UPDATE {table} SET used = {day} WHERE digest = ? AND used < {day}",
                [(digest,) for digest in dict.fromkeys(used)],
            )
            connection.execute(
                f"DELETE FROM {table} WHERE version != ? OR used < ?", (version, day - KEEP_DAYS)
            )
    except sqlite3.Error:
        pass


def open_store(path: Path, table: str) -> sqlite3.Connection | None:
    """The store at ``path``, rebuilt if damaged or of an older layout; None if not to be had."""
    import sqlite3

    if path.exists() and not os.access(path, os.R_OK | os.W_OK) and not discard(path):
        return None
    for attempt in range(2):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
        except (OSError, sqlite3.Error):
            return None  # no place to keep a store: run without one
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            (layout,) = connection.execute("PRAGMA user_version").fetchone()
            if layout != SCHEMA_VERSION:
                with connection:
                    for (name,) in connection.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                    ).fetchall():
                        connection.execute(f'DROP TABLE IF EXISTS "{name}"')
                    connection.executescript(_schema(table))
                    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute(f"SELECT count(*) FROM {table} WHERE 0").fetchone()
            return connection
        except sqlite3.OperationalError:
            connection.close()  # busy or locked by another run: do without
            return None
        except sqlite3.DatabaseError:
            connection.close()  # not a database, or a damaged one
            if attempt == 0 and not discard(path):
                return None
    return None


def discard(path: Path) -> bool:
    """Remove a damaged store and its WAL files; False if that is not possible."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        except OSError:
            return False
    return True
