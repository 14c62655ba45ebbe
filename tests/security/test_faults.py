"""Faults: the platform process killed with -9, a damaged state file, an ``env set`` during
a push, a 64 KB environment value, a full disk. Each ends in a clear message or a
recovery, and nothing is lost or left behind. One pushed app for the module."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.sandbox.layout import Layout
from kit.sandbox.push.lock import push_lock
from tests.e2e.conftest import Sandbox

from .conftest import needs_bwrap

RECOVERY_DEADLINE = 60.0  # a bound for a stuck test, not a figure (benchmarks/ has those)


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return None


def _kinds(box: Sandbox) -> dict[str, int]:
    """How many platform processes, keepers and container supervisords the sandbox has
    (its containers run as a host user of their own)."""
    from kit.sandbox.isolation.plan import host_user

    found = box.processes()
    kinds = {kind: sum(kind in line for line in found) for kind in ("sandbox.daemon", "keeper")}
    uid, _ = host_user("\0".join(Layout(box.home).hidden))
    kinds["supervisord"] = 0
    for proc in Path("/proc").iterdir():
        try:
            owner = proc.stat().st_uid
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if owner == uid and b"supervisor.supervisord" in cmdline:
            kinds["supervisord"] += 1
    return kinds


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    root = tmp_path_factory.mktemp("faults")
    box = Sandbox(root / "dotkit-home")
    app = root / "faults"
    (app / "www").mkdir(parents=True)
    (app / "www" / "server.js").write_text(
        "require('http').createServer(function (q, s) {"
        " s.end(String((process.env.BIG || '').length)); }).listen(8080);\n"
    )
    (app / "dotcloud.yml").write_text(
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
    )
    assert box.dotkit("create", "faults", cwd=app).code == 0
    done = box.dotkit("push", cwd=app)
    assert done.code == 0, done.text
    yield box, app
    box.dotkit("-y", "destroy", cwd=app)
    box.shutdown()
    assert box.leftovers() == []


def _url(box: Sandbox, app: Path) -> str:
    done = box.dotkit("url", "www", cwd=app)
    assert done.code == 0, done.text
    return done.out.strip()


@pytest.mark.e2e
@needs_bwrap
def test_a_killed_platform_process_brings_the_apps_back_by_itself(
    pushed: tuple[Sandbox, Path],
) -> None:
    box, app = pushed
    layout = Layout(box.home)
    # Another app whose runtime.json is damaged: it costs only itself.
    broken = layout.app("broken")
    assert box.dotkit("-A", "broken", "create", "broken", cwd=app.parent).code in (0, 2)
    broken.runtime.write_text('{"format": 2, "containers": {"www.0-d1": ')
    url = _url(box, app)
    assert _get(url) == "0"
    before = _kinds(box)
    assert before == {"sandbox.daemon": 1, "keeper": 1, "supervisord": 1}
    pid = box.platform_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    # No command from here on: the keeper starts a new platform process, which
    # restores the app from its runtime.json.
    deadline = time.monotonic() + RECOVERY_DEADLINE
    while (box.platform_pid() in (None, pid) or _get(url) != "0") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _get(url) == "0", (layout.daemon_log.read_text())[-2000:]
    assert box.platform_pid() != pid
    assert _kinds(box) == before  # nothing left over from the killed one, nothing twice
    log = layout.daemon_log.read_text()
    assert "keeper: the platform process ended (signal 9); starting it again" in log
    assert f"not restoring broken: {broken.runtime} ends in the middle of its JSON" in log
    assert box.dotkit("-y", "-A", "broken", "destroy", cwd=app.parent).code == 0


@pytest.mark.e2e
@needs_bwrap
def test_a_64_kb_environment_value_reaches_the_app(pushed: tuple[Sandbox, Path]) -> None:
    box, app = pushed
    big = "x" * 65536
    done = box.dotkit("env", "set", f"BIG={big}", cwd=app, timeout=300)
    assert done.code == 0, done.text[-2000:]
    assert _get(_url(box, app)) == "65536"
    record = json.loads((Layout(box.home).app("faults").meta).read_text())
    assert record["env"]["BIG"] == big


@pytest.mark.e2e
@needs_bwrap
def test_env_set_during_a_push_is_refused_and_changes_nothing(
    pushed: tuple[Sandbox, Path],
) -> None:
    box, app = pushed
    meta = Layout(box.home).app("faults").meta
    before = meta.read_bytes()
    with push_lock(Layout(box.home).app("faults")):  # what a running push holds
        done = box.dotkit("env", "set", "LATE=1", cwd=app)
    assert done.code == 2
    assert done.err == (
        'dotkit: error: another push to "faults" is running; wait for it '
        "(dotkit dlogs latest); nothing was changed\n"
    )
    assert meta.read_bytes() == before


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a small file system: needs root")
def test_a_full_disk_gives_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], check=True)
    try:
        box = Sandbox(disk / "home")
        folder = tmp_path / "app"
        folder.mkdir()
        assert box.dotkit("create", "full", cwd=folder).code == 0
        assert box.dotkit("env", "set", "KEPT=1", cwd=folder).code == 0
        meta = Layout(box.home).app("full").meta
        before = meta.read_bytes()
        filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(filler, b"\0" * 4096):
                pass
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(filler)
        done = box.dotkit("env", "set", f"NEW={'v' * 8192}", cwd=folder)
        assert done.code == 1, done.text
        assert done.err == (
            f"dotkit: error: could not save {meta}: No space left on device; it is unchanged\n"
        )
        assert meta.read_bytes() == before
        assert not [p for p in meta.parent.iterdir() if p.name.endswith(".tmp")]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
