"""The sandbox for real: node, npm, supervisord and bubblewrap, pushing and serving."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import pytest

from .conftest import Sandbox, converted_guide, deployments, needs_node, push_process

pytestmark = [pytest.mark.e2e, needs_node]
bwrap_only = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def _urls(box: Sandbox, app: Path) -> dict[str, str]:
    done = box.dotkit("url", cwd=app)
    assert done.code == 0, done.text
    return dict(line.split(": ", 1) for line in done.out.splitlines())


def test_guide_sample_pushed_and_answering(sandbox: Sandbox, tmp_path: Path) -> None:
    app = converted_guide(sandbox, tmp_path / "portedapp", "--fix")
    assert sandbox.dotkit("create", "portedapp", cwd=app).code == 0
    push = sandbox.dotkit("push", cwd=app)
    assert push.code == 0, push.text
    assert "[gear1] Build started for revision rsync-" in push.out
    assert "[gear1.0] Waiting for the instance to become responsive..." in push.out
    assert "Application is live at http://127.0.0.1:" in push.out

    urls = _urls(sandbox, app)
    status, body = _get(urls["gear1"])
    gear1 = json.loads(body)
    assert status == 200
    assert gear1["listening"] == 8080
    assert gear1["settings"]["parameters"] == ["--development", "--verbose"]
    assert gear1["settings"]["mongo_host"] == {"name": "MONGO_HOST", "value": "pearl.mongohq.com"}
    assert gear1["settings"]["mongo_port"] == {"name": "MONGO_PORT", "value": "28936"}
    assert gear1["settings"]["dotcloud_service"] == "gear1"
    assert json.loads(_get(urls["gear2"])[1])["greeting"] == "Hello from Gear2"

    pwd = sandbox.dotkit("run", "gear1", "--", "pwd", cwd=app)
    assert (pwd.code, pwd.out) == (0, "/home/dotcloud\n")
    env = json.loads(sandbox.dotkit("run", "gear1", "--", "cat", "environment.json", cwd=app).out)
    assert env["DOTCLOUD_PROJECT"] == "portedapp"
    assert env["DOTCLOUD_SERVICE_NAME"] == "gear1"
    assert env["DOTCLOUD_SERVICE_ID"] == "0"
    assert env["DOTCLOUD_ENVIRONMENT"] == "default"
    assert env["DOTCLOUD_GEAR2_HTTP_URL"] == "http://gear2.portedapp.sandbox/"
    assert env["MONGO_HOST"] == "pearl.mongohq.com"

    status_out = sandbox.dotkit("status", "gear1", cwd=app).out
    assert status_out.startswith('==> Probing status for service "gear1"...\ngear1.0: up\n')
    assert "node" in status_out and ("RUNNING" in status_out or "STARTING" in status_out)
    dlogs = sandbox.dotkit("dlogs", "latest", "-N", cwd=app)
    assert "Application fully deployed" in dlogs.out and dlogs.code == 0

    destroy = sandbox.dotkit("-y", "destroy", cwd=app)
    assert destroy.code == 0, destroy.text
    assert sandbox.leftovers() == []
    assert not (sandbox.home / "apps" / "portedapp").exists()
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(sandbox.home) not in mounts


def test_listening_on_3535_fails_the_push_and_names_the_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = converted_guide(sandbox, tmp_path / "unfixed")  # no --fix: Gear1 listens on 3535
    sandbox.dotkit("create", "unfixed", cwd=app)
    push = sandbox.dotkit("push", "--timeout", "20", cwd=app)
    assert push.code == 2  # a failed deployment, as the real CLI's status said
    assert "gear1.0 is not responsive: the app listens on 3535, not on 8080" in push.err
    assert "Gear1/server.js:24:8: [http-port-not-8080]" in push.err
    assert "The previous revision (if any) is still serving" in push.err
    assert deployments(sandbox.dotkit("dlist", cwd=app).out)[-1].endswith(" failed")
    # Nothing of the failed push stays running.
    containers = sandbox.home / "apps" / "unfixed" / "containers"
    assert not containers.exists() or list(containers.iterdir()) == []
    assert [p for p in sandbox.processes() if "cinit" in p or "supervisord" in p] == []


def test_build_cache_clean_and_failing_prebuild(sandbox: Sandbox, tmp_path: Path) -> None:
    app = converted_guide(sandbox, tmp_path / "cache", "--fix")
    sandbox.dotkit("create", "cache", cwd=app)
    first = sandbox.dotkit("push", cwd=app)
    assert first.code == 0, first.text
    assert "[gear1] Build cache: no previous build to start from (clean build)" in first.out
    second = sandbox.dotkit("push", cwd=app)
    assert second.code == 0, second.text
    assert (
        "[gear1] Build cache: restoring the previous build snapshot: package.json unchanged"
        in second.out
    )
    clean = sandbox.dotkit("push", "--clean", cwd=app)
    assert "[gear1] Build cache: clean build requested (--clean)" in clean.out

    url = _urls(sandbox, app)["gear2"]
    before = json.loads(_get(url)[1])
    yml = app / "dotcloud.yml"
    yml.write_text(
        yml.read_text().replace("  approot: Gear2\n", "  approot: Gear2\n  prebuild: exit 3\n")
    )
    (app / "Gear2" / "file1.js").write_text("exports.text = function () { return 'NEW CODE'; };\n")
    failed = sandbox.dotkit("push", cwd=app)
    assert failed.code == 2
    assert "prebuild (`exit 3`) failed with exit code 3" in failed.err
    after = json.loads(_get(url)[1])
    assert after["greeting"] == before["greeting"] == "Hello from Gear2"
    sandbox.dotkit("-y", "destroy", cwd=app)


@bwrap_only
def test_containers_are_isolated(sandbox: Sandbox, tmp_path: Path) -> None:
    app = tmp_path / "iso"
    (app / "front").mkdir(parents=True)
    (app / "echo").mkdir()
    (app / "dotcloud.yml").write_text(
        "front:\n  type: nodejs\n  approot: front\n  process: node server.js\n"
        "echo:\n  type: nodejs\n  approot: echo\n  process: node server.js\n  ports:\n    echo: tcp\n"
    )
    (app / "front" / "server.js").write_text(
        "require('http').createServer(function (q, s) { s.end('front'); }).listen(8080);\n"
    )
    (app / "echo" / "server.js").write_text(
        "var net = require('net');\n"
        "net.createServer(function (c) { c.end('echo from ' + process.env.DOTCLOUD_SERVICE_NAME); })"
        ".listen(process.env.PORT_ECHO);\n"
    )
    sandbox.dotkit("create", "iso", cwd=app)
    push = sandbox.dotkit("push", cwd=app)
    assert push.code == 0, push.text
    env = json.loads(sandbox.dotkit("run", "front", "--", "cat", "environment.json", cwd=app).out)
    host, port = env["DOTCLOUD_ECHO_ECHO_HOST"], env["DOTCLOUD_ECHO_ECHO_PORT"]
    assert host == "echo.iso.sandbox"
    probe = (
        "var net = require('net');"
        "function go(h, cb) { var c = net.connect(+process.argv[1], h);"
        " c.on('data', function (d) { console.log(h + ' -> ' + d); });"
        " c.on('error', function (e) { console.log(h + ' -> ' + e.code); }); c.on('close', cb); }"
        "go('localhost', function () { go(process.argv[2], function () {}); });"
    )
    out = sandbox.dotkit("run", "front", "--", "node", "-e", probe, port, host, cwd=app)
    assert out.out.splitlines() == ["localhost -> ECONNREFUSED", f"{host} -> echo from echo"], (
        out.text
    )
    # The other container's home, and the sandbox's state, are invisible from here.
    echo_home = next((sandbox.home / "apps" / "iso" / "containers").glob("echo.0-*"))
    look = sandbox.dotkit("run", "front", "--", "ls", "-A", str(echo_home), "/home", cwd=app)
    assert "No such file or directory" in look.text
    assert "dotcloud" in look.out
    http = sandbox.dotkit("run", "echo", "--", "node", "-e",
                          "require('http').get('http://front.iso.sandbox/', function (r) { r.on('data', function (d) { console.log(String(d)); }); });",
                          cwd=app)  # fmt: skip
    assert http.out == "front\n", http.text
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_a_killed_platform_process_and_keeper_are_recovered_by_the_next_command(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    import os
    import signal
    import time

    app = converted_guide(sandbox, tmp_path / "killed", "--fix")
    sandbox.dotkit("create", "killed", cwd=app)
    assert sandbox.dotkit("push", cwd=app).code == 0
    pid = sandbox.platform_pid()
    assert pid
    # Its keeper too (alone, the keeper brings it back: tests/security/test_faults.py).
    keepers = [int(p.split(":")[0]) for p in sandbox.processes() if "kit.sandbox.keeper" in p]
    assert len(keepers) == 1
    for victim in (*keepers, pid):
        os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and [p for p in sandbox.processes() if "supervisord" in p]:
        time.sleep(0.05)
    assert [p for p in sandbox.processes() if "supervisord" in p] == []  # died with their owner
    # The next command starts the platform process again, and it restores the app.
    status = sandbox.dotkit("status", "gear1", cwd=app)
    assert status.code == 0, status.text
    deadline = time.monotonic() + 20
    body = ""
    while time.monotonic() < deadline:
        try:
            body = _get(_urls(sandbox, app)["gear1"])[1]
            break
        except OSError:
            time.sleep(0.1)
    assert json.loads(body)["gear"] == "Gear1"
    assert sandbox.dotkit("-y", "destroy", cwd=app).code == 0
    assert sandbox.leftovers() == []


def test_process_backend_runs_a_single_service(sandbox: Sandbox, tmp_path: Path) -> None:
    """Without bubblewrap the sandbox still runs an app, and says what it cannot reproduce."""
    sandbox.env["DOTKIT_BACKEND"] = "process"
    app = tmp_path / "plain"
    (app / "www").mkdir(parents=True)
    (app / "dotcloud.yml").write_text(
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
    )
    (app / "www" / "server.js").write_text(
        "require('http').createServer(function (q, s) { s.end(process.env.DOTCLOUD_SERVICE_NAME); })"
        ".listen(8080);\n"
    )
    sandbox.dotkit("create", "plain", cwd=app)
    push = sandbox.dotkit("push", cwd=app)
    assert push.code == 0, push.text
    assert _get(_urls(sandbox, app)["www"])[1] == "www"
    doctor = sandbox.dotkit("doctor", cwd=app)
    assert "instances share this machine's ports" in doctor.out
    assert sandbox.dotkit("-y", "destroy", cwd=app).code == 0
    assert sandbox.leftovers() == []


def test_git_push_takes_the_last_commit(sandbox: Sandbox, tmp_path: Path) -> None:
    import subprocess

    app = converted_guide(sandbox, tmp_path / "gitapp", "--fix")
    git = ["git", "-C", str(app), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "ported"], check=True)
    sha = subprocess.run([*git, "rev-parse", "--short=7", "HEAD"], capture_output=True, text=True,
                         check=True).stdout.strip()  # fmt: skip
    (app / "Gear2" / "file1.js").write_text(
        "exports.text = function () { return 'UNCOMMITTED'; };\n"
    )
    sandbox.dotkit("create", "gitapp", "--git", cwd=app)
    push = sandbox.dotkit("push", cwd=app)
    assert push.code == 0, push.text
    assert f"as revision git-{sha}" in push.out
    assert json.loads(_get(_urls(sandbox, app)["gear2"])[1])["greeting"] == "Hello from Gear2"
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_a_push_killed_half_way_is_cleaned_up(sandbox: Sandbox, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    app = converted_guide(sandbox, tmp_path / "halfway", "--fix")
    yml = app / "dotcloud.yml"
    yml.write_text(
        yml.read_text().replace("  approot: Gear2\n", "  approot: Gear2\n  prebuild: sleep 30\n")
    )
    sandbox.dotkit("create", "halfway", cwd=app)
    pusher = subprocess.Popen([sys.executable, "-m", "kit", "push"], cwd=app, env=sandbox.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    assert pusher.stdout is not None
    for line in pusher.stdout:
        if "Running prebuild" in line:
            break
    time.sleep(0.3)
    worker = push_process(sandbox)  # the push itself runs apart from the command that asked
    assert worker is not None
    os.kill(worker, signal.SIGKILL)
    rest = pusher.communicate(timeout=30)[0]
    assert pusher.returncode == 1 and "ended without saying how the push went" in rest, rest
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any("sleep 30" in p for p in sandbox.processes()):
        time.sleep(0.05)
    assert not any("sleep 30" in p for p in sandbox.processes())  # the build container went too
    listing = sandbox.dotkit("dlist", cwd=app)
    assert deployments(listing.out)[-1].endswith(" failed"), listing.text
    yml.write_text(yml.read_text().replace("  prebuild: sleep 30\n", ""))
    again = sandbox.dotkit("push", cwd=app)
    assert again.code == 0, again.text
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_postinstall_and_the_build_time_limit(sandbox: Sandbox, tmp_path: Path) -> None:
    app = tmp_path / "hooks"
    (app / "www").mkdir(parents=True)
    (app / "dotcloud.yml").write_text(
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n  prebuild: sleep 5\n"
    )
    (app / "www" / "server.js").write_text(
        "var fs = require('fs');\n"
        "require('http').createServer(function (q, s) {"
        " s.end(fs.readFileSync(process.env.HOME + '/current/made-by-postinstall', 'utf8')); })"
        ".listen(8080);\n"
    )
    post = app / "www" / "postinstall"
    post.write_text('#!/bin/sh\necho "$DOTCLOUD_SERVICE_NAME $PWD" > made-by-postinstall\n')
    post.chmod(0o755)
    sandbox.dotkit("create", "hooks", cwd=app)
    slow = sandbox.dotkit("push", "--build-timeout", "1", cwd=app)
    assert slow.code == 2
    assert "prebuild (`sleep 5`) ran past the build's time limit of 1 s and was stopped" in slow.err
    yml = app / "dotcloud.yml"
    yml.write_text(yml.read_text().replace("  prebuild: sleep 5\n", ""))
    push = sandbox.dotkit("push", cwd=app)
    assert push.code == 0, push.text
    assert "[www.0] Running postinstall script..." in push.out
    assert _get(_urls(sandbox, app)["www"])[1] == "www /home/dotcloud/current\n"
    post.write_text("#!/bin/sh\necho broken >&2\nexit 4\n")
    failed = sandbox.dotkit("push", cwd=app)
    assert failed.code == 2
    assert "postinstall of www.0 exited with status 4" in failed.err
    assert _get(_urls(sandbox, app)["www"])[1] == "www /home/dotcloud/current\n"  # still serving
    sandbox.dotkit("-y", "destroy", cwd=app)
