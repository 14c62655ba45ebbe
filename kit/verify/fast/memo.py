"""The last ``dotkit verify`` of an app, kept so the next one redoes only what changed.

One file per app under the cache folder holds three things:

- the **listing**, reused while no folder's mtime and no ignore file has changed
  (:func:`kit.appfs.listing_still_true`), so a re-run does not walk the tree;
- the **file checks'** results (build file, supervisor, package.json and links),
  reused while the listing is the same and every question they asked the disk
  has the same answer (:func:`kit.verify.disk.still_true`);
- the **JavaScript stat index** of :mod:`kit.verify.fast.jscache`.

It is written with marshal (plain values only, so loading it runs no code) to a
temporary file renamed into place; anything wrong with it (another Python, another
kit version, a damaged or foreign file) and it is ignored and rewritten. Like every
cache of the kit it only ever saves time: the results are those of a fresh run.
"""

import contextlib
import hashlib
import marshal
import os
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

from kit import __version__
from kit.appfs import Listing
from kit.findings import Finding
from kit.platform.model import Service
from kit.verify.disk import Answers
from kit.verify.fast.jscache import ANALYZER_VERSION, KEEP_DAYS, IndexEntry

_FORMAT = 1


class FileChecks(NamedTuple):
    """The results of the checks that depend on the app's files alone."""

    files_digest: bytes  # of the listing they saw
    answers: Answers  # every question they asked the disk, with its answer
    services: tuple[Service, ...]
    results: dict[str, list[Finding]]  # by check: "buildfile", "supervisor", "project"


class Memo(NamedTuple):
    listing: Listing
    checks: FileChecks | None
    js_index: dict[str, IndexEntry]


def memo_path(cache: Path, root: Path) -> Path:
    """Where the memo of the app at ``root`` lives: one file per absolute path."""
    name = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:32]
    return cache / "verify" / f"{name}.memo"


def files_digest(listing: Listing) -> bytes:
    """What the file checks saw of the listing: every path, and which are links."""
    digest = hashlib.sha256("\0".join(listing.files).encode("utf-8", "surrogateescape"))
    digest.update(b"\1" + "\0".join(sorted(listing.links)).encode("utf-8", "surrogateescape"))
    return digest.digest()


def _header(root: Path) -> tuple[Any, ...]:
    return (_FORMAT, __version__, ANALYZER_VERSION, sys.version_info[:2], os.fspath(root))


def load(path: Path, root: Path) -> Memo | None:
    """The memo at ``path`` if it is one this kit wrote for ``root``; None otherwise."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        header, listing, checks, js_index = marshal.loads(raw)
        if header != _header(root):
            return None
        return Memo(
            Listing(listing[0], frozenset(listing[1]), listing[2], listing[3]),
            _checks(checks) if checks is not None else None,
            js_index,
        )
    except (ValueError, TypeError, EOFError, IndexError, KeyError):
        return None  # damaged, or written by something else: start afresh


def _checks(raw: Any) -> FileChecks:
    digest, answers, services, results = raw
    return FileChecks(
        digest,
        dict(answers),
        tuple(Service(*s) for s in services),
        {name: [Finding(*f) for f in found] for name, found in results.items()},
    )


def save(path: Path, root: Path, memo: Memo) -> None:
    """Write ``memo`` for ``root`` at ``path`` whole or not at all; failures are ignored."""
    listing = memo.listing
    checks = memo.checks
    payload: Any = (
        _header(root),
        (listing.files, tuple(sorted(listing.links)), listing.folders, listing.ignore_files),
        (
            checks.files_digest,
            tuple(checks.answers.items()),
            tuple(tuple(s) for s in checks.services),
            {name: tuple(tuple(f) for f in found) for name, found in checks.results.items()},
        )
        if checks is not None
        else None,
        memo.js_index,
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if not path.exists():
        _forget_old(path.parent)  # a new app (or a new place): the time to tidy up
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(marshal.dumps(payload))
        temporary.replace(path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _forget_old(folder: Path) -> None:
    """Remove memos (and leftover temporary files) no run has written for KEEP_DAYS."""
    cutoff = time.time() - KEEP_DAYS * 86400
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        with contextlib.suppress(OSError):
            if entry.name.endswith((".memo", ".tmp")) and entry.stat().st_mtime < cutoff:
                Path(entry.path).unlink()
