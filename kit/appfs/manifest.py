"""What a conversion wrote into its output folder, recorded in the folder.

``dotkit convert -o OUT`` writes ``OUT/.dotkit/convert.json``: a version and, for
every file it wrote (copied or generated), the SHA-256 of what it wrote. The
next conversion into OUT reads it back to tell its own files, still as it left
them, from files the user made or edited since. The file is the kit's own; it
is read as untrusted input (a damaged or hostile manifest counts as none).
"""

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

MANIFEST = ".dotkit/convert.json"
VERSION = 1
_MAX_BYTES = 16 << 20


class State(NamedTuple):
    """What is at a path of the output: "missing", "file" (with the digest of its
    bytes), "link" (with its target), or "other" (a folder, a FIFO...)."""

    kind: str
    digest: str = ""


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def link_digest(target: str) -> str:
    """A symlink is recorded by its target, never followed."""
    return "link:" + target


def state_of(path: Path) -> State:
    """What is at ``path``, never following a link or blocking on a FIFO."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return State("missing")
    except OSError:
        return State("other")
    if stat.S_ISLNK(info.st_mode):
        return State("link", link_digest(str(path.readlink())))
    if not stat.S_ISREG(info.st_mode):
        return State("other")
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
    try:
        with open(path, "rb", opener=lambda p, _: os.open(p, flags)) as handle:
            hasher = hashlib.sha256()
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(chunk)
    except OSError:
        return State("other")
    return State("file", hasher.hexdigest())


def read_manifest(out: Path) -> dict[str, str]:
    """The files the last conversion into ``out`` wrote, by path, with their digests;
    empty when there is no usable manifest."""
    path = out / MANIFEST
    try:
        if path.is_symlink() or path.stat().st_size > _MAX_BYTES:
            return {}
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or data.get("version") != VERSION:
        return {}
    return {
        rel: value
        for rel, value in files.items()
        if isinstance(rel, str) and isinstance(value, str) and safe_relative(rel)
    }


def render_manifest(files: Mapping[str, str], source: str) -> bytes:
    document = {
        "version": VERSION,
        "written_by": "dotkit convert",
        "source": source,
        "note": "the files this conversion wrote and their SHA-256; the next conversion into "
        "this folder updates these (unless edited since) and keeps every other file",
        "files": dict(sorted(files.items())),
    }
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode()


def safe_relative(rel: str) -> bool:
    """A plain relative path inside the folder: no absolute path, no ``..``, no empty part."""
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts)
