"""Each attack fails from inside a real pushed container, and the host is unchanged."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, Sandbox

from .conftest import HOG, needs_bwrap

pytestmark = [pytest.mark.e2e, needs_bwrap]


def run(box: Sandbox, app: Path, service: str, script: str) -> str:
    done = box.dotkit("run", service, "--", script, cwd=app)
    return done.out + done.err


def _home(box: Sandbox, service: str) -> Path:
    return next((box.home / "apps" / "attacks" / "containers").glob(f"{service}.0-*"))


def test_no_root_no_capabilities_own_host_name(pushed: tuple[Sandbox, Path]) -> None:
    box, app = pushed
    out = run(
        box,
        app,
        "www",
        "id -u; id -un; hostname; grep -E '^(CapEff|CapPrm|NoNewPrivs|Seccomp):' /proc/self/status",
    )
    lines = out.split()
    assert lines[:3] == ["1000", "dotcloud", "www-0"], out
    # (nsenter leaves the bounding set as it was; with no permitted capabilities and
    # no_new_privs, nothing can be gained from it. Service processes have it empty.)
    assert "CapEff:\t0000000000000000" in out and "CapPrm:\t0000000000000000" in out
    assert "NoNewPrivs:\t1" in out and "Seccomp:\t2" in out
    # The service's own processes, as supervisord started them, too.
    status = run(
        box,
        app,
        "www",
        "for p in $(pgrep -x node); do grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/$p/status; done",
    )
    assert "Uid:\t1000\t1000\t1000\t1000" in status and "CapEff:\t0000000000000000" in status, (
        status
    )
    assert "NoNewPrivs:\t1" in status and "Seccomp:\t2" in status


def test_the_host_cannot_be_written_or_read(pushed: tuple[Sandbox, Path]) -> None:
    box, app = pushed
    tag = uuid.uuid4().hex[:8]
    other_home = _home(box, "other")
    targets = [
        Path("/work") / f"pwned-{tag}",
        Path("/root") / f"pwned-{tag}",
        REPO / "kit" / f"pwned-{tag}",
        box.home / f"pwned-{tag}",
        other_home / f"pwned-{tag}",
        Path("/usr") / f"pwned-{tag}",
    ]
    script = "; ".join(f"touch {t} 2>&1" for t in targets)
    out = run(box, app, "www", script + f"; ls {box.home} {other_home} 2>&1; cat /etc/shadow 2>&1")
    for target in targets:
        assert not target.exists(), target
    assert "No such file or directory" in out or "Read-only file system" in out
    assert "root:" not in out  # no line of /etc/shadow
    # The platform's own files over the home are read-only, even to the app's user.
    out = run(box, app, "www", "touch ~/.dotkit/cinit.json 2>&1; rm -rf ~/.dotkit 2>&1; echo x")
    assert "Read-only file system" in out or "Device or resource busy" in out, out
    assert (_home(box, "www") / ".dotkit" / "cinit.json").is_file()


def test_mount_namespace_ptrace_and_modules_are_refused(pushed: tuple[Sandbox, Path]) -> None:
    box, app = pushed
    out = run(box, app, "www", "umount /home/dotcloud/.dotkit 2>&1; echo umount=$?; "
              "mount -t tmpfs none /tmp 2>&1; echo mount=$?; unshare -r true 2>&1; echo unshare=$?")  # fmt: skip
    assert "umount=0" not in out and "mount=0" not in out and "unshare=0" not in out, out
    attack = (
        "import ctypes, os, subprocess\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "node = int(subprocess.check_output(['pgrep', '-x', 'node']).split()[0])\n"
        "print('ptrace', libc.ptrace(16, node, None, None), ctypes.get_errno())\n"  # PTRACE_ATTACH
        "print('module', libc.delete_module(b'ext4', 0), ctypes.get_errno())\n"
        "print('init_module', libc.init_module(None, 0, b''), ctypes.get_errno())\n"
        "print('setns', libc.setns(os.open('/proc/1/ns/net', 0), 0), ctypes.get_errno())\n"
    )
    out = run(box, app, "www", f'/usr/bin/python3 -c "{attack}"')
    for name in ("ptrace", "module", "init_module", "setns"):
        assert f"{name} -1 1\n" in out, out  # EPERM


def test_tmp_is_private(pushed: tuple[Sandbox, Path]) -> None:
    box, app = pushed
    name = f"dotkit-private-{uuid.uuid4().hex[:8]}"
    assert "ok" in run(box, app, "www", f"echo secret > /tmp/{name} && echo ok")
    assert "secret" in run(box, app, "www", f"cat /tmp/{name}")
    assert "No such file" in run(box, app, "other", f"cat /tmp/{name} 2>&1")
    assert not (Path("/tmp") / name).exists()


def test_hooks_run_in_the_same_boundary(pushed: tuple[Sandbox, Path]) -> None:
    box, app = pushed
    for hook in ("prebuild", "postinstall"):
        out = run(box, app, "www", f"cat ~/{hook}.txt")
        lines = out.splitlines()
        assert lines[0] == "1000", out
        assert "CapEff:\t0000000000000000" in out and "NoNewPrivs:\t1" in out, out
        assert "Seccomp:\t2" in out, out
        assert "root:" not in out and "unshare=0" not in out, out
        assert not Path(f"/work/pwned-{hook}").exists()
    assert "www-0" in run(box, app, "www", "cat ~/postinstall.txt")
    # The links they left at environment.json were not written through by the deploy.
    assert (app.parent / "victim.txt").read_text() == "untouched\n"
    assert '"DOTCLOUD_SERVICE_NAME": "www"' in run(box, app, "www", "cat ~/environment.json")


def test_run_never_hands_the_apps_environment_to_the_host(
    pushed: tuple[Sandbox, Path], tmp_path: Path
) -> None:
    box, app = pushed
    home = _home(box, "www")
    marker = tmp_path / "host-ran-app-code"
    # Code the host would run if it took the app's PYTHONPATH, LD_PRELOAD or PATH.
    run(
        box,
        app,
        "www",
        f'mkdir -p ~/evil && echo \'open("{marker}", "w").write("x")\' > ~/evil/sitecustomize.py',
    )
    hostile = {
        "PYTHONPATH": str(home / "evil"),
        "LD_PRELOAD": "/nonexistent/dotkit-evil.so",
        "PATH": f"{home / 'evil'}:/usr/bin:/bin",
        "BASH_ENV": str(home / "evil" / "sitecustomize.py"),
    }
    out = run(box, app, "www", f"echo '{json.dumps(hostile)}' > ~/environment.json && echo written")
    assert "written" in out
    out = run(box, app, "www", "echo ran; env | grep -c DOTCLOUD_")
    assert out.startswith("ran\n"), out
    assert "cannot be preloaded" not in out
    assert not marker.exists()
    # The app's own environment still reaches its commands, from the platform's copy.
    assert run(box, app, "www", "echo $DOTCLOUD_SERVICE_NAME").strip() == "www"


def test_memory_hog_is_killed_with_the_limit_named(pushed: tuple[Sandbox, Path]) -> None:
    box, app = pushed
    done = box.dotkit("run", "www", "--", "node", "-e", HOG, cwd=app, timeout=120)
    assert done.code != 0
    log = _home(box, "www") / ".dotkit" / "container.log"
    deadline = time.monotonic() + 10
    while "killed: out of memory (limit 512M)" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    # The service itself goes on answering.
    assert (
        run(
            box,
            app,
            "www",
            "node -e \"require('http').get('http://127.0.0.1:8080/', function (r) { "
            "r.on('data', function (d) { console.log(String(d)); }); })\"",
        ).strip()
        == "www"
    )


def test_fork_bomb_is_capped(pushed: tuple[Sandbox, Path]) -> None:
    box, app = pushed
    bomb = (
        "import os, signal\n"
        "pids = []\n"
        "try:\n"
        "    while len(pids) < 5000:\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            signal.pause()\n"
        "            os._exit(0)\n"
        "        pids.append(pid)\n"
        "except OSError as exc:\n"
        "    print('refused after', len(pids), exc.errno)\n"
        "for pid in pids:\n"
        "    os.kill(pid, 9)\n"
    )
    out = run(box, app, "www", f'/usr/bin/python3 -c "{bomb}"')
    assert "refused after" in out, out
    assert int(out.split("refused after")[1].split()[0]) < 512
    assert run(box, app, "www", "echo alive").strip() == "alive"
