"""Reading, analysing and remembering an app's JavaScript files.

Analyses are kept in SQLite, keyed by the SHA-256 of the file's bytes and
:data:`ANALYZER_VERSION`, so identical content is analysed once however many
paths hold it. In front of that sits a stat index, as in git's index: a path
whose size, mtime and inode are what they were last time keeps its old digest
and is not even opened. The cache is an optimisation only: a corrupt or
unreadable file is thrown away and rebuilt, a busy one is skipped, and nothing
about it ever fails a run.

:func:`analyse_paths` is what a worker process runs; it reads the files itself
and returns small tuples, so the parent never ships file contents around.
"""

import hashlib
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from kit.jsanalysis import (
    DataWrite,
    JsAnalysis,
    ListenCall,
    LocalConnection,
    PortArg,
    Span,
    analyze_js,
    worth_parsing,
)

# Bump whenever analyze_js or worth_parsing change what they find for the same bytes.
ANALYZER_VERSION = 1
EMPTY = JsAnalysis((), None)
# Below this much JavaScript to read, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 1 << 20
_CHUNKS_PER_WORKER = 8  # small chunks even out files that parse slowly
_BUSY_TIMEOUT_S = 5.0
_LOOKUP_CHUNK = 500  # below SQLite's limit on bound parameters
# `empty_in`: the analyzer version whose prefilter ruled the content out; such
# content needs no row in `analyses`, which keeps an app's cold save small.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path BLOB PRIMARY KEY, size INTEGER, mtime_ns INTEGER, inode INTEGER, digest BLOB,
    empty_in INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS files_digest ON files (digest);
CREATE TABLE IF NOT EXISTS analyses (
    digest BLOB, version INTEGER, data TEXT, PRIMARY KEY (digest, version)
) WITHOUT ROWID;
"""


class Analysed(NamedTuple):
    """One file's analysis, with what the cache needs to remember it."""

    path: str  # absolute
    size: int
    mtime_ns: int
    inode: int
    digest: bytes
    data: str  # the analysis, encoded; "" for one that found nothing
    how: str  # "parsed", "prefiltered" or "cached" (content seen before)


# What the stat index knows of a path: (size, mtime_ns, inode, digest, data), where
# data is None when the analysis itself is no longer stored. A plain tuple: a warm
# run builds one per file, and its first three compare straight with a stat.
IndexEntry = tuple[int, int, int, bytes, str | None]


class Counts(NamedTuple):
    """What a run did with the app's JavaScript, for benchmarks and curious users."""

    files: int
    bytes: int
    unchanged: int  # known by stat: not opened
    cached: int  # opened, content known
    parsed: int
    prefiltered: int  # opened, holds nothing a rule looks for: not parsed


# --- encoding ---------------------------------------------------------------------


def encode(analysis: JsAnalysis) -> str:
    """JSON of an analysis; NamedTuples are tuples, so they nest as lists."""
    if analysis == EMPTY:
        return ""
    return json.dumps(analysis, separators=(",", ":"), ensure_ascii=False)


def _span(raw: Any) -> Span | None:
    return Span(*raw) if raw is not None else None


def decode(data: str) -> JsAnalysis:
    """The analysis ``encode`` wrote; raises ValueError or TypeError if it is not one."""
    if not data:
        return EMPTY
    listens, error, connections, writes = json.loads(data)
    return JsAnalysis(
        listens=tuple(
            ListenCall(
                line,
                column,
                server,
                PortArg(kind, value, env, _span(literal), text, _span(expr)),
                host,
            )
            for line, column, server, (kind, value, env, literal, text, expr), host in listens
        ),
        syntax_error=(error[0], error[1]) if error is not None else None,
        connections=tuple(LocalConnection(*c) for c in connections),
        data_writes=tuple(DataWrite(*w) for w in writes),
    )


def decode_or_none(data: str) -> JsAnalysis | None:
    try:
        return decode(data)
    except (ValueError, TypeError):  # a damaged row: analyse the file again
        return None


# --- reading and analysing (also in worker processes) -----------------------------


def _no_follow(path: str, flags: int) -> int:
    # Never through a symlink, and never block on a FIFO that replaced the file.
    return os.open(path, flags | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))


def _read(path: str) -> tuple[os.stat_result, bytes] | None:
    try:
        with open(path, "rb", opener=_no_follow) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None
            return info, handle.read()
    except OSError:
        return None  # vanished or unreadable since it was listed: nothing to check


def analyse_paths(paths: Sequence[str], cache_path: str | None) -> list[Analysed]:
    """Read, hash and analyse ``paths``, reusing analyses of content seen before."""
    reads = []
    for path in paths:
        read = _read(path)
        if read is not None:
            reads.append((path, read[0], hashlib.sha256(read[1]).digest(), read[1]))
    known = _lookup(cache_path, [r[2] for r in reads]) if cache_path and reads else {}
    out: list[Analysed] = []
    for path, info, digest, source in reads:
        data = known.get(digest)
        if data is not None and decode_or_none(data) is not None:
            how = "cached"
        elif worth_parsing(source):
            data, how = encode(analyze_js(source)), "parsed"
        else:
            data, how = "", "prefiltered"
        out.append(Analysed(path, info.st_size, info.st_mtime_ns, info.st_ino, digest, data, how))
    return out


def _lookup(cache_path: str, digests: list[bytes]) -> dict[bytes, str]:
    """Stored analyses of ``digests``; an unusable cache simply knows nothing."""
    if not Path(cache_path).is_file():
        return {}
    try:
        connection = sqlite3.connect(cache_path, timeout=_BUSY_TIMEOUT_S)
    except sqlite3.Error:
        return {}
    try:
        return _select_analyses(connection, digests)
    except sqlite3.Error:
        return {}
    finally:
        connection.close()


def _select_analyses(connection: sqlite3.Connection, digests: list[bytes]) -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    unique = list(dict.fromkeys(digests))
    for start in range(0, len(unique), _LOOKUP_CHUNK):
        chunk = unique[start : start + _LOOKUP_CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = connection.execute(
            f"SELECT digest, data FROM analyses WHERE version = ? AND digest IN ({marks})",
            [ANALYZER_VERSION, *chunk],
        )
        found.update(rows)
    return found


# --- the cache file ---------------------------------------------------------------


def _prefix_range(root: str) -> tuple[bytes, bytes]:
    # Paths under root sort between "root/" and "root0" ("0" follows "/").
    base = os.fsencode(root.rstrip("/"))
    return base + b"/", base + b"0"


class JsCache:
    """The SQLite file: a stat index per path, analyses per content digest."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.damaged = False

    @classmethod
    def open(cls, path: Path) -> "JsCache | None":
        """The cache at ``path``, rebuilt if damaged; None if it cannot be had at all."""
        if path.exists() and not os.access(path, os.R_OK | os.W_OK) and not _discard(path):
            return None
        for attempt in range(2):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S)
            except (OSError, sqlite3.Error):
                return None  # no place to keep a cache: run without one
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
                connection.executescript(_SCHEMA)
                return cls(connection)
            except sqlite3.OperationalError:
                connection.close()  # busy or locked by another run: do without
                return None
            except sqlite3.DatabaseError:
                connection.close()  # not a database, or a damaged one
                if attempt == 0 and not _discard(path):
                    return None
        return None

    def close(self) -> None:
        self.connection.close()

    def index(self, root: str) -> dict[str, IndexEntry]:
        """What the last run under ``root`` saw, by absolute path."""
        low, high = _prefix_range(root)
        try:
            rows = self.connection.execute(
                "SELECT path, size, mtime_ns, inode, digest, empty_in = ? FROM files"
                " WHERE path >= ? AND path < ?",
                (ANALYZER_VERSION, low, high),
            ).fetchall()
            stored = _select_analyses(self.connection, [r[4] for r in rows if not r[5]])
        except sqlite3.OperationalError:
            return {}
        except sqlite3.DatabaseError:
            self.damaged = True  # found only now: rebuilt when saving
            return {}
        # bytes.decode, not os.fsdecode: the same result, without a Python call per row.
        encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
        return {
            path.decode(encoding, errors): (
                size,
                mtime,
                inode,
                digest,
                "" if empty else stored.get(digest),
            )
            for path, size, mtime, inode, digest, empty in rows
        }

    def save(
        self, root: str, old: dict[str, IndexEntry], results: Iterable[Analysed], kept: set[str]
    ) -> None:
        """Record new results and forget vanished paths, in one transaction."""
        changed = [r for r in results if _changed(old.get(r.path), r)]
        gone = [(os.fsencode(p),) for p in old if p not in kept]
        if not changed and not gone:
            return
        files = [
            (os.fsencode(r.path), r.size, r.mtime_ns, r.inode, r.digest, _empty_in(r))
            for r in changed
        ]
        analyses = [(r.digest, ANALYZER_VERSION, r.data) for r in changed if r.how == "parsed"]
        try:
            with self.connection:  # one transaction, rolled back on any error
                self.connection.execute("BEGIN IMMEDIATE")
                self.connection.executemany("DELETE FROM files WHERE path = ?", gone)
                self.connection.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)", files
                )
                self.connection.executemany(
                    "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?)", analyses
                )
                # Content no path holds any more, and analyses by older versions.
                self.connection.execute(
                    "DELETE FROM analyses WHERE version != ?"
                    " OR digest NOT IN (SELECT digest FROM files)",
                    (ANALYZER_VERSION,),
                )
        except sqlite3.Error:
            pass  # busy past the timeout, disk full, read-only: the next run tries again


def _empty_in(result: Analysed) -> int:
    return ANALYZER_VERSION if result.how == "prefiltered" else 0


def _changed(before: IndexEntry | None, now: Analysed) -> bool:
    return before is None or before[4] is None or before[:4] != now[1:5]


def _discard(path: Path) -> bool:
    """Remove a damaged cache and its WAL files; False if that is not possible."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        except OSError:
            return False
    return True


# --- one app ----------------------------------------------------------------------


def default_jobs() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def analyse_app(
    root: Path,
    rel_paths: Iterable[str],
    *,
    cache_path: Path | None,
    jobs: int | None = None,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> tuple[dict[str, JsAnalysis], Counts]:
    """The analysis of each regular file in ``rel_paths``, by relative path."""
    base = os.fspath(root.resolve())
    cache = JsCache.open(cache_path) if cache_path is not None else None
    old = cache.index(base) if cache is not None else {}
    if cache is not None:
        cache.close()  # before any fork: a connection must not cross into a child
    analyses: dict[str, JsAnalysis] = {}
    rel_of: dict[str, str] = {}
    todo: list[str] = []
    sizes: list[int] = []
    total = 0
    for rel in rel_paths:
        path = f"{base}/{rel}"
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):  # symlinks, FIFOs, devices: never opened
            continue
        rel_of[path] = rel
        total += info.st_size
        entry = old.get(path)
        if entry is not None and entry[:3] == (info.st_size, info.st_mtime_ns, info.st_ino):
            known = _decoded(entry[4]) if entry[4] is not None else None
            if known is not None:
                analyses[rel] = known
                continue
        todo.append(path)
        sizes.append(info.st_size)
    cache_arg = os.fspath(cache_path) if cache_path is not None else None
    results = _run(todo, sizes, cache_arg, jobs or default_jobs(), parallel_min_bytes)
    for result in results:
        analyses[rel_of[result.path]] = _decoded(result.data) or EMPTY
    if cache_path is not None:
        _save(cache_path, base, old, results, set(rel_of))
    hows = [r.how for r in results]
    return analyses, Counts(
        files=len(analyses),
        bytes=total,
        unchanged=len(rel_of) - len(todo),
        cached=hows.count("cached"),
        parsed=hows.count("parsed"),
        prefiltered=hows.count("prefiltered"),
    )


_memo: dict[str, JsAnalysis | None] = {"": EMPTY}


def _decoded(data: str) -> JsAnalysis | None:
    if data not in _memo:
        _memo[data] = decode_or_none(data)
    return _memo[data]


def _save(
    cache_path: Path, base: str, old: dict[str, IndexEntry], results: list[Analysed], kept: set[str]
) -> None:
    cache = JsCache.open(cache_path)
    if cache is not None and cache.damaged:
        cache.close()  # damage found while reading the index: start afresh
        _discard(cache_path)
        cache, old = JsCache.open(cache_path), {}
    if cache is None:
        return
    try:
        cache.save(base, old, results, kept)
    finally:
        cache.close()


def _chunks(paths: list[str], sizes: list[int], count: int) -> list[list[str]]:
    """``paths`` cut into about ``count`` runs of similar total size, in order."""
    target = max(1, sum(sizes) // count)
    chunks: list[list[str]] = [[]]
    filled = 0
    for path, size in zip(paths, sizes, strict=True):
        if filled >= target:
            chunks.append([])
            filled = 0
        chunks[-1].append(path)
        filled += size
    return chunks


def _run(
    paths: list[str], sizes: list[int], cache_path: str | None, jobs: int, min_bytes: int
) -> list[Analysed]:
    if jobs < 2 or sum(sizes) < min_bytes or len(paths) < 2:
        return analyse_paths(paths, cache_path)
    from concurrent.futures import ProcessPoolExecutor  # only big runs pay for the import
    from concurrent.futures.process import BrokenProcessPool

    chunks = _chunks(paths, sizes, jobs * _CHUNKS_PER_WORKER)
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
            parts = pool.map(analyse_paths, chunks, [cache_path] * len(chunks))
            return [result for part in parts for result in part]
    except (OSError, BrokenProcessPool):
        # No processes to be had (a sandbox without semaphores, a killed worker):
        # the same work, here.
        return analyse_paths(paths, cache_path)
