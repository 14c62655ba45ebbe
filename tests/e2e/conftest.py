"""End-to-end fixtures: a private sandbox per test, real processes, nothing left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE_APP = REPO / "sample_apps" / "nodesocket-guide"

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@dataclass
class Done:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class Sandbox:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, "DOTKIT_HOME": str(home), "PYTHONUNBUFFERED": "1"}

    def dotkit(self, *args: str | Path, cwd: Path | None = None, timeout: float = 180) -> Done:
        proc = subprocess.run(
            [sys.executable, "-m", "kit", *map(str, args)],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return Done(proc.returncode, proc.stdout, proc.stderr)

    def platform_pid(self) -> int | None:
        pidfile = self.home / "platform" / "platform.pid"
        try:
            return int(pidfile.read_text())
        except (OSError, ValueError):
            return None

    def processes(self) -> list[str]:
        """Command lines of every process that mentions this sandbox's home or sockets."""
        from kit.sandbox.layout import Layout

        runtime = str(Layout(self.home).runtime)
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                environ = (proc / "environ").read_bytes()
            except OSError:
                continue
            if (
                str(self.home) in cmd
                or runtime in cmd
                or f"DOTKIT_HOME={self.home}".encode() in environ
            ):
                found.append(f"{proc.name}: {cmd}")
        return found

    def leftovers(self, timeout: float = 5.0) -> list[str]:
        """Processes of this sandbox still alive after up to ``timeout`` seconds.

        A process killed a moment ago can take a few milliseconds to vanish from /proc.
        """
        deadline = time.monotonic() + timeout
        while (found := self.processes()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def shutdown(self) -> None:
        pid = self.platform_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.05)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path / "dotkit-home")
    yield box
    box.shutdown()


def deployments(dlist_out: str) -> list[str]:
    """The rows of ``dotkit dlist`` (``DATE TIME REVISION ID STATUS``), without its header and hints."""
    return [line for line in dlist_out.splitlines() if line[:4].isdigit()]


def push_process(box: Sandbox) -> int | None:
    """The pid of the push that runs in a process of its own, if one runs."""
    found = [p for p in box.processes() if "kit.sandbox.push.background" in p]
    return int(found[0].split(":", 1)[0]) if found else None


def converted_guide(sandbox: Sandbox, dest: Path, *extra: str) -> Path:
    done = sandbox.dotkit("convert", GUIDE_APP, "-o", dest, *extra)
    assert done.code == 0, done.text
    return dest
