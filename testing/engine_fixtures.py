"""A private Docker engine and the platform image, once per test session.

The engine runs under a folder of its own and is removed at the end, even when
a test fails: containers, Swarm state, networks, mounts and the daemon itself.
Where the machine cannot run one (not root, no dockerd), the tests that need
it are skipped with the reason. tests/conftest.py shares these fixtures with
every test folder (the engine tests and the docker backend's end-to-end tests
use the same engine and image).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.engine.daemon import Daemon, daemon_problem, start_daemon, stop_daemon
from kit.engine.image import PlatformImage, build_platform_image
from kit.errors import OperationFailed


@pytest.fixture(scope="session")
def daemon() -> Iterator[Daemon]:
    problem = daemon_problem()
    if problem:
        pytest.skip(f"no Docker engine here: {problem}")
    # A short path: containerd's sockets live under it and Unix socket paths are short.
    root = Path(tempfile.mkdtemp(prefix="dk-", dir="/tmp"))
    try:
        started = start_daemon(root / "d")
    except OperationFailed as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"dockerd cannot start here: {exc}")
    try:
        yield started
    finally:
        stop_daemon(started)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # DOTKIT_IMAGE_CACHE keeps the debootstrapped root file system between runs.
    kept = os.environ.get("DOTKIT_IMAGE_CACHE")
    return Path(kept) if kept else tmp_path_factory.mktemp("image-cache")


@pytest.fixture(scope="session")
def platform_image(daemon: Daemon, image_cache: Path) -> PlatformImage:
    """The image with the platform's Node.js builds from the npm registry."""
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (Debian package debootstrap)")
    # The Node.js builds beside the root file system: a session fixture runs before each
    # test's private DOTKIT_HOME is set, and tests never write to the real one.
    node_cache = image_cache / "node"
    image, _ = build_platform_image(
        daemon.engine, "platform", image_cache, print, node_cache=node_cache
    )
    return image


@pytest.fixture(scope="session")
def platform_sql_image(
    daemon: Daemon, image_cache: Path, platform_image: PlatformImage
) -> PlatformImage:
    """The same, and the image with MariaDB and PostgreSQL (a second root file system)."""
    image, _ = build_platform_image(
        daemon.engine, "platform", image_cache, print, node_cache=image_cache / "node", sql=True
    )
    return image
