"""Reading, analysing and remembering an app's JavaScript files.

Two levels, as in git and ccache:

- a **stat index** per app: relative path -> size, mtime, inode, content digest and
  analysis. A file whose size, mtime and inode are what they were last time is not
  even opened. The caller keeps the index between runs (``dotkit verify`` keeps it
  in the app's run memo, :mod:`kit.verify.fast.memo`) and passes it in.
- **analyses by content**, in SQLite, keyed by the SHA-256 of the bytes and
  :data:`ANALYZER_VERSION` and shared by every app, so content seen before (a copy,
  another branch, a reverted edit) is never parsed twice. Content the prefilter
  rules out is not stored: ruling it out again costs less than looking it up.

A file changed within :data:`kit.appfs.RACY_WINDOW_NS` of the run is indexed so that the next
run reads it again (git's "racily clean" entries): a second edit inside one tick of
the file system's clock would otherwise leave size and mtime as they were.

The cache is an optimisation only: a corrupt or unreadable file is thrown away and
rebuilt, a busy one is skipped, and nothing about it ever fails a run.
:func:`analyse_paths` is what a worker process runs; it reads the files itself and
returns small tuples, so the parent never ships file contents around.
"""

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import NamedTuple

from kit.appfs import RACY_WINDOW_NS
from kit.js.analysis import (
    DataWrite,
    JsAnalysis,
    ListenCall,
    LocalConnection,
    analyze_js,
    worth_parsing,
)
from kit.js.model import port_from_json
from kit.verify.fast import store

# Bump whenever analyze_js or worth_parsing change what they find for the same bytes.
ANALYZER_VERSION = 2
EMPTY = JsAnalysis((), None)
# Below this much JavaScript to read, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 1 << 20
KEEP_DAYS = store.KEEP_DAYS  # analyses (and memos) no run has used for this long go
TABLE = "analyses"
_CHUNKS_PER_WORKER = 8  # small chunks even out files that parse slowly


class Analysed(NamedTuple):
    """One file's analysis, with what the index needs to remember it."""

    path: str  # absolute
    size: int
    mtime_ns: int
    inode: int
    digest: bytes
    data: str  # the analysis, encoded; "" for one that found nothing
    how: str  # "parsed", "prefiltered" or "cached" (content seen before)


# What the stat index knows of a path: (size, mtime_ns, inode, digest, data). A plain
# tuple: a warm run looks at one per file, and its first three compare straight with
# a stat. An mtime of -1 never matches: the file is read again next time.
IndexEntry = tuple[int, int, int, bytes, str]


class Counts(NamedTuple):
    """What a run did with the app's JavaScript, for benchmarks and curious users."""

    files: int
    bytes: int
    unchanged: int  # known by stat: not opened
    cached: int  # opened, content known
    parsed: int
    prefiltered: int  # opened, holds nothing a rule looks for: not parsed


class AppAnalysis(NamedTuple):
    analyses: dict[str, JsAnalysis]  # by relative path
    counts: Counts
    stat_index: dict[str, IndexEntry]  # to keep for the next run


# --- encoding ---------------------------------------------------------------------


def encode(analysis: JsAnalysis) -> str:
    """JSON of an analysis; NamedTuples are tuples, so they nest as lists."""
    if analysis == EMPTY:
        return ""
    return json.dumps(analysis, separators=(",", ":"), ensure_ascii=False)


def decode(data: str) -> JsAnalysis:
    """The analysis ``encode`` wrote; raises ValueError or TypeError if it is not one."""
    if not data:
        return EMPTY
    listens, error, connections, writes = json.loads(data)
    return JsAnalysis(
        listens=tuple(
            ListenCall(line, column, server, port_from_json(port), host)
            for line, column, server, port, host in listens
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
    out: list[Analysed] = []
    wanted: list[tuple[str, os.stat_result, bytes, bytes]] = []
    for path in paths:
        read = _read(path)
        if read is None:
            continue
        info, source = read
        digest = hashlib.sha256(source).digest()
        if worth_parsing(source):
            wanted.append((path, info, digest, source))
        else:
            out.append(_analysed(path, info, digest, "", "prefiltered"))
    digests = [w[2] for w in wanted]
    known = {}
    if cache_path and digests:
        known = store.lookup(Path(cache_path), TABLE, ANALYZER_VERSION, digests)
    for path, info, digest, source in wanted:
        data = known.get(digest)
        if data is not None and decode_or_none(data) is not None:
            out.append(_analysed(path, info, digest, data, "cached"))
        else:
            out.append(_analysed(path, info, digest, encode(analyze_js(source)), "parsed"))
    return out


def _analysed(path: str, info: os.stat_result, digest: bytes, data: str, how: str) -> Analysed:
    return Analysed(path, info.st_size, info.st_mtime_ns, info.st_ino, digest, data, how)


def save_analyses(cache_path: Path, results: Iterable[Analysed]) -> None:
    """Store what was parsed, mark what was reused as used today, forget the long unused.

    One transaction; a cache that cannot be had (busy past the timeout, damaged and
    not removable, read-only, disk full) is left for the next run to try again.
    """
    parsed = [(r.digest, r.data) for r in results if r.how == "parsed"]
    reused = [r.digest for r in results if r.how == "cached"]
    if not parsed and not reused:
        return  # only a run that found something new opens the store
    connection = store.open_store(cache_path, TABLE)
    if connection is None:
        return
    try:
        store.save(connection, TABLE, ANALYZER_VERSION, parsed, reused)
    finally:
        connection.close()


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
    index: Mapping[str, IndexEntry] | None = None,
    changed: AbstractSet[str] | None = None,
    jobs: int | None = None,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> AppAnalysis:
    """The analysis of each regular file in ``rel_paths``, by relative path.

    ``index`` is the stat index the last run returned: files it knows by size,
    mtime and inode are not opened. ``changed``, from a watcher that saw every
    change since that run, names the only files that may differ from the index;
    the others are not even stat-ed.
    """
    started = time.time_ns()
    base = os.fspath(root.resolve())
    old = index or {}
    analyses: dict[str, JsAnalysis] = {}
    new_index: dict[str, IndexEntry] = {}
    rel_of: dict[str, str] = {}
    todo: list[str] = []
    sizes: list[int] = []
    total = 0
    lstat, is_regular, memo = os.lstat, stat.S_ISREG, _memo  # the loop runs once per file
    for rel in rel_paths:
        if changed is not None and rel not in changed:
            entry = old.get(rel)
            if entry is not None and entry[1] >= 0:  # not racily clean: watched since
                known = memo.get(entry[4]) or _decoded(entry[4])
                if known is not None:
                    total += entry[0]
                    analyses[rel] = known
                    new_index[rel] = entry
                    continue
        path = f"{base}/{rel}"
        try:
            info = lstat(path)
        except OSError:
            continue
        if not is_regular(info.st_mode):  # symlinks, FIFOs, devices: never opened
            continue
        total += info.st_size
        entry = old.get(rel)
        if entry is not None and entry[:3] == (info.st_size, info.st_mtime_ns, info.st_ino):
            known = memo.get(entry[4]) or _decoded(entry[4])
            if known is not None:
                analyses[rel] = known
                new_index[rel] = entry
                continue
        rel_of[path] = rel
        todo.append(path)
        sizes.append(info.st_size)
    cache_arg = os.fspath(cache_path) if cache_path is not None else None
    results = _run(todo, sizes, cache_arg, jobs or default_jobs(), parallel_min_bytes)
    racy = started - RACY_WINDOW_NS
    for r in results:
        rel = rel_of[r.path]
        analyses[rel] = _decoded(r.data) or EMPTY
        mtime = r.mtime_ns if r.mtime_ns < racy else -1
        new_index[rel] = (r.size, mtime, r.inode, r.digest, r.data)
    if cache_path is not None:
        save_analyses(cache_path, results)
    hows = [r.how for r in results]
    counts = Counts(
        files=len(analyses),
        bytes=total,
        unchanged=len(analyses) - len(results),
        cached=hows.count("cached"),
        parsed=hows.count("parsed"),
        prefiltered=hows.count("prefiltered"),
    )
    return AppAnalysis(analyses, counts, new_index)


_memo: dict[str, JsAnalysis | None] = {"": EMPTY}


def _decoded(data: str) -> JsAnalysis | None:
    if data not in _memo:
        _memo[data] = decode_or_none(data)
    return _memo[data]


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
