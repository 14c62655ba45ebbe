"""The engine tests' own fixtures; the engine and the platform image come from
:mod:`testing.engine_fixtures`, shared with the docker backend's end-to-end tests."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from kit.engine.daemon import Daemon
from kit.engine.image import PlatformImage, build_platform_image


@pytest.fixture(scope="session")
def host_node_image(daemon: Daemon, image_cache: Path) -> PlatformImage:
    """The image with this machine's node (for apps whose modules need a newer Node.js)."""
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (Debian package debootstrap)")
    image, _ = build_platform_image(daemon.engine, "host", image_cache, print)
    return image


def free_port_base(count: int) -> int:
    """A run of ``count`` free loopback ports."""
    for base in range(21000, 60000, 97):
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("0.0.0.0", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise AssertionError("no free ports")
