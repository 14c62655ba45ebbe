"""A notebook's sandbox is removed however the notebook ends.

:func:`clean_up` destroys every app of a sandbox, stops its platform process and
removes its folder. Three things call it: the notebook's last cell
(``box.close()``), a ``weakref.finalize`` that also runs at interpreter exit, and
a watchdog process that outlives a kernel killed outright (which is how nbval and
Jupyter's "restart" end a kernel). Run as ``python -m testing.notebook.cleanup
--watch FOLDER``, this module is that watchdog.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]


def runtime_folder(home: Path) -> Path:
    """The sandbox's short folder for Unix sockets (outside ``home``)."""
    from kit.sandbox.layout import Layout

    return Layout(home).runtime


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1][:1]
    except OSError:
        return False
    return state != "Z"


def _platform_pid(home: Path) -> int | None:
    try:
        pid = int((home / "platform" / "platform.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"kit.sandbox.daemon" in cmdline and _alive(pid) else None


def processes_of(home: Path) -> tuple[str, ...]:
    """Every process that belongs to the sandbox at ``home`` (by its environment or argv)."""
    marks = (str(home), str(runtime_folder(home)))
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if any(m in cmdline for m in marks) or f"DOTKIT_HOME={home}\0".encode() in environ:
            found.append(f"{entry.name}: {cmdline.strip()}")
    return tuple(found)


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def clean_up(root: Path) -> tuple[tuple[str, ...], bool]:
    """Destroy every app of the sandbox in ``root``, stop its platform process, remove it.

    Returns the apps destroyed and whether the platform process was still running
    afterwards. Safe to call twice, and from another process (the watchdog).
    """
    home = root / "home"
    env = {**os.environ, "DOTKIT_HOME": str(home)}
    apps = home / "apps"
    destroyed = sorted(p.name for p in apps.iterdir() if p.is_dir()) if apps.is_dir() else []
    # Stopping an app's containers takes a few seconds; stop all the apps at once.
    destroying = [
        subprocess.Popen(
            [sys.executable, "-m", "kit", "-y", "-A", app, "destroy"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for app in destroyed
    ]
    for child in destroying:
        try:
            child.wait(timeout=120)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    pid = _platform_pid(home)
    if pid is not None:  # it exits by itself once nothing runs; do not wait for that
        _stop(pid)
    running = _platform_pid(home) is not None
    shutil.rmtree(runtime_folder(home), ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    return tuple(destroyed), running


class Cleanup(NamedTuple):
    """What closing a sandbox did."""

    destroyed: tuple[str, ...]
    platform_running: bool
    leftovers: tuple[str, ...]
    removed: bool

    def __repr__(self) -> str:
        return "\n".join(
            [
                f"applications destroyed: {', '.join(self.destroyed) or 'none'}",
                f"platform process still running: {'yes' if self.platform_running else 'no'}",
                f"processes left behind: {len(self.leftovers)}",
                f"temporary DOTKIT_HOME removed: {'yes' if self.removed else 'no'}",
            ]
        )

    __str__ = __repr__


def start_watchdog(root: Path) -> subprocess.Popen[bytes] | None:
    """A process that cleans up ``root`` once this one is gone, however it ends.

    It waits for the end of its standard input: only this process holds the other
    end of that pipe, and the system closes it when this process exits, even when
    it is killed. It runs in a session of its own so that killing the kernel's
    process group (as jupyter_client does) does not kill it too.
    """
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "testing.notebook.cleanup", "--watch", str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env=env,
            start_new_session=True,
        )
    except OSError:
        return None


def finalize(root: Path, watchdog: subprocess.Popen[bytes] | None) -> tuple[tuple[str, ...], bool]:
    """Clean up now, then let the watchdog go."""
    result = clean_up(root)
    if watchdog is not None:
        if watchdog.stdin is not None:
            watchdog.stdin.close()  # the watchdog wakes up, finds nothing left, and exits
        try:
            watchdog.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()
    return result


def _watch(root: str) -> int:
    """The watchdog's body: wait for the notebook's kernel to go, then clean up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    if Path(root).exists():
        clean_up(Path(root))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--watch":
        sys.exit(_watch(sys.argv[2]))
    sys.exit("usage: python -m testing.notebook.cleanup --watch FOLDER")
