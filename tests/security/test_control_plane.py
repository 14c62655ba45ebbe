"""The control plane is the owner's alone: attacks on the platform socket, the relay
sockets, the state and the logs, from inside a pushed app, from a build hook, from
another local user, and through requests an owner's process could be tricked into.

One pushed app for the module, in a sandbox whose home sits in a folder every local
user may enter: only the kit's own modes stand between it and the other user.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.sandbox.layout import Layout
from tests.e2e.conftest import Sandbox

from .conftest import needs_bwrap

pytestmark = [pytest.mark.e2e, needs_bwrap]

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="acts as a second local user: needs root")
# Prints each socket path with connect()'s errno: 0 connected, 2 no such file, 13 denied.
CONNECT = (
    "import socket, sys; "
    "[print(p, socket.socket(socket.AF_UNIX).connect_ex(p)) for p in sys.argv[1:]]"
)


@pytest.fixture(scope="module")
def pushed() -> Iterator[tuple[Sandbox, Path, Layout]]:
    root = Path(tempfile.mkdtemp(prefix="dotkit-security-"))
    root.chmod(0o755)  # any local user may enter; the sandbox must close itself
    box = Sandbox(root / "dotkit-home")
    layout = Layout(box.home)
    app = root / "plane"
    (app / "www").mkdir(parents=True)
    (app / "www" / "server.js").write_text(
        "require('http').createServer(function (q, s) { s.end('www'); }).listen(8080);\n"
    )
    # The build container shares the host's network (npm needs it): it tries the
    # platform socket by its path, and lists the host's Unix sockets it can see.
    hook = (
        f"/usr/bin/python3 -c {shlex.quote(CONNECT)} {layout.socket} > $HOME/probe.txt 2>&1; "
        f"ls {layout.home} {layout.runtime} >> $HOME/probe.txt 2>&1; true"
    )
    (app / "dotcloud.yml").write_text(
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
        f"  prebuild: {json.dumps(hook)}\n"
    )
    try:
        assert box.dotkit("create", "plane", cwd=app).code == 0
        done = box.dotkit("push", cwd=app)
        assert done.code == 0, done.text
        yield box, app, layout
        box.dotkit("-y", "destroy", cwd=app)
        box.shutdown()
        assert box.leftovers() == []
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(layout.runtime, ignore_errors=True)


def _run(box: Sandbox, app: Path, script: str) -> str:
    done = box.dotkit("run", "www", "--", "sh", "-c", script, cwd=app)
    return done.out + done.err


def _home(layout: Layout) -> Path:
    return next((layout.app("plane").containers).glob("www.0-*"))


def test_the_control_plane_is_out_of_sight_of_a_container(
    pushed: tuple[Sandbox, Path, Layout],
) -> None:
    box, app, layout = pushed
    sockets = [str(layout.socket), str(layout.service_sockets("plane") / "www.http.sock")]
    out = _run(box, app, f"/usr/bin/python3 -c {shlex.quote(CONNECT)} {' '.join(sockets)}; "
               f"ls {layout.home} {layout.runtime} 2>&1; grep -c platform.sock /proc/net/unix")  # fmt: skip
    for sock in sockets:
        assert f"{sock} 2\n" in out, out  # ENOENT: not there at all
    assert f"ls: cannot access '{layout.home}': No such file or directory" in out
    assert out.strip().endswith("0"), out  # no socket of the platform in its network


def test_a_build_hook_cannot_reach_the_platform_socket(
    pushed: tuple[Sandbox, Path, Layout],
) -> None:
    box, app, layout = pushed
    out = _run(box, app, "cat ~/probe.txt")
    assert f"{layout.socket} 2\n" in out, out  # ENOENT
    assert f"ls: cannot access '{layout.home}': No such file or directory" in out


@as_root
def test_another_local_user_reaches_nothing_of_the_sandbox(
    pushed: tuple[Sandbox, Path, Layout],
) -> None:
    _, _, layout = pushed
    home = _home(layout)
    secrets = [
        layout.app("plane").meta,  # passwords and environment values
        home / "environment.json",
        home / ".dotkit" / "cinit.json",
        layout.daemon_log,
    ]
    for path in secrets:
        assert path.exists(), path
        done = subprocess.run(
            [*NOBODY, "cat", str(path)], capture_output=True, text=True, check=False
        )
        assert done.returncode != 0 and "Permission denied" in done.stderr, path
    for folder in (layout.home, layout.runtime):
        done = subprocess.run(
            [*NOBODY, "ls", str(folder)], capture_output=True, text=True, check=False
        )
        assert "Permission denied" in done.stderr, folder
    sockets = [layout.socket, layout.service_sockets("plane") / "www.http.sock"]
    sockets += [layout.container_sockets("plane", home.name) / "supervisor.sock"]
    done = subprocess.run(
        [*NOBODY, "/usr/bin/python3", "-c", CONNECT, *map(str, sockets)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.stdout.splitlines() == [f"{sock} 13" for sock in sockets], done.stderr  # EACCES
    # Nor can it make a new sandbox's socket folder first, to hijack its sockets.
    fresh = Layout(layout.home.parent / f"next-{uuid.uuid4().hex[:6]}").runtime
    done = subprocess.run(
        [*NOBODY, "mkdir", str(fresh)], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0 and not fresh.exists()


def test_requests_that_would_reach_the_host_are_refused(
    pushed: tuple[Sandbox, Path, Layout],
) -> None:
    """Even from the owner's own process, the platform starts nothing outside a container,
    binds no host folder into one, and removes nothing but a retired container's."""
    from kit.sandbox.backend import ContainerSpec
    from kit.sandbox.client import PlatformError, connect

    box, app, layout = pushed
    home = _home(layout)
    spec = ContainerSpec.from_json((home / ".dotkit" / "spec.json").read_text())
    marker = layout.home.parent / f"pwned-{uuid.uuid4().hex[:6]}"
    attacks = {
        "start": [
            {"spec": spec._replace(backend="process").to_json()},  # cinit as a host process
            {"spec": spec._replace(home="/", cid="www.9-d9", instance=9).to_json()},
            {"spec": spec._replace(ro_binds=("/root", "/etc")).to_json()},
            {"spec": spec._replace(app="../../tmp").to_json()},
        ],
        "route": [
            {"app": "plane", "name": "www.http", "listen": [f"unix:{marker}"],
             "backends": ["container:www.0-d1:8080"]},
            {"app": "plane", "name": "www.http", "listen": ["tcp:127.0.0.1:1"],
             "backends": ["unix:/run/docker.sock"]},
        ],
        "retire": [
            {"app": "plane", "name": "www.http", "cids": [spec.cid], "backends": [],
             "remove": [str(layout.home.parent)]},
        ],
    }  # fmt: skip
    client = connect(layout, start=False)
    assert client is not None
    with client:
        for op, requests in attacks.items():
            for request in requests:
                with pytest.raises(PlatformError, match="Refused: "):
                    client.call(op, **request)
        containers = client.call("status", app="plane")["containers"]
    assert list(containers) == [spec.cid] and containers[spec.cid]["alive"]
    assert not marker.exists() and layout.home.parent.is_dir() and home.is_dir()
    assert box.dotkit("url", cwd=app).code == 0


def test_logs_planted_by_the_app_are_not_followed_or_waited_on(
    pushed: tuple[Sandbox, Path, Layout],
) -> None:
    from kit.appfs import list_app_files
    from kit.repro.collect import environments, log_tails
    from kit.sandbox.state import load_app
    from kit.verify.buildfile import check_build_file

    box, app, layout = pushed
    secret = layout.home.parent / "host-secret.txt"
    secret.write_text("host-only secret\n")
    planted = _run(
        box, app,
        f"cd /var/log/supervisor && ln -s {secret} stolen.log && mkfifo stuck.log && "
        "ln -s loop.log loop.log && echo planted",
    )  # fmt: skip
    assert "planted" in planted, planted
    done = box.dotkit("logs", "www", "-N", "-n", "5", cwd=app, timeout=60)
    assert done.code == 0, done.text
    assert "host-only secret" not in done.out and "== /var/log/supervisor/stuck.log" not in done.out
    tails = log_tails(layout.app("plane"))
    assert {t.name for t in tails} >= {"supervisord.log"} and "host-only secret" not in str(tails)
    assert not {"stolen.log", "stuck.log", "loop.log"} & {t.name for t in tails}
    # The app's own environment.json, replaced by a FIFO: not waited on, left out.
    assert "swapped" in _run(
        box, app, "rm ~/environment.json && mkfifo ~/environment.json && echo swapped"
    )
    services, _ = check_build_file(app, list_app_files(app))
    found = environments(layout, "plane", services, load_app(layout, "plane"))
    assert [e.instance for e in found] == ["www.0"] and found[0].computed
