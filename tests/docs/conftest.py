"""The docs site, built once per test session and served on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_SECONDS = pytest.StashKey[float]()
BUILD_TARGET_SECONDS = 30


@dataclass(frozen=True)
class Site:
    path: Path
    seconds: float
    log: str


def isolated_env(home: Path) -> dict[str, str]:
    """The environment for tools the tests start: no writes outside the test's folders."""
    return {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "DOTKIT_HOME": str(home / "dotkit"),
    }


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Site:
    """``mkdocs build --strict`` into a temporary folder; fails with MkDocs' log."""
    work = tmp_path_factory.mktemp("docs")
    out = work / "site"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=isolated_env(work / "home"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    seconds = time.perf_counter() - start
    request.config.stash[BUILD_SECONDS] = seconds
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed ({proc.returncode}):\n{log}", pytrace=False)
    return Site(out, seconds, log)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        # LinkChecker limits itself to 10 requests a second unless the server sends
        # this header; the site is local, so let it go as fast as it can.
        self.send_header("LinkChecker", "allowed")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def base_url(site: Site) -> Iterator[str]:
    """The built site over HTTP (search fetches its index, which file:// forbids)."""
    handler = functools.partial(_Handler, directory=str(site.path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    seconds = config.stash.get(BUILD_SECONDS, None)
    if seconds is not None:
        terminalreporter.write_line(
            f"docs: mkdocs build --strict took {seconds:.1f} s "
            f"(target: under {BUILD_TARGET_SECONDS} s)"
        )
