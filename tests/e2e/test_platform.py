"""The platform's behaviours for real: zero downtime, ~/data, data services, rollbacks, faults."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO, Sandbox, converted_guide, needs_node

pytestmark = [
    pytest.mark.e2e,
    needs_node,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed"),
]
SAMPLES = REPO / "sample_apps"


def _get(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _url(box: Sandbox, app: Path, service: str) -> str:
    done = box.dotkit("url", service, cwd=app)
    assert done.code == 0, done.text
    return done.out.strip()


def _deploy(box: Sandbox, sample: str, tmp_path: Path, name: str) -> Path:
    app = tmp_path / name
    shutil.copytree(SAMPLES / sample, app)
    box.dotkit("create", name, cwd=app)
    push = box.dotkit("push", cwd=app)
    assert push.code == 0, push.text
    return app


class Load:
    """Requests in a loop from a thread, bounded in time, counting failures."""

    def __init__(self, url: str, limit: float = 60.0) -> None:
        self.url, self.limit = url, limit
        self.ok = self.failed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.limit
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                status, _ = _get(self.url)
                if status == 200:
                    self.ok += 1
                else:
                    self.failed += 1
            except OSError:
                self.failed += 1

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def test_zero_failed_requests_while_pushing_a_stateless_service(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = converted_guide(sandbox, tmp_path / "steady", "--fix")
    sandbox.dotkit("create", "steady", cwd=app)
    assert sandbox.dotkit("push", cwd=app).code == 0
    url = _url(sandbox, app, "gear1")
    with Load(url) as load:
        time.sleep(0.3)
        for _ in range(2):
            push = sandbox.dotkit("push", cwd=app)
            assert push.code == 0, push.text
            assert "Router: 0 failed request(s) while switching" in push.out
        time.sleep(0.3)
    assert load.failed == 0
    assert load.ok > 50
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_data_survives_with_downtime_and_stays_per_instance(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = _deploy(sandbox, "uploads", tmp_path, "uploads")
    url = _url(sandbox, app, "www")
    assert _get(url + "files/note.txt", "PUT", b"kept")[0] == 201
    push = sandbox.dotkit("push", cwd=app)
    assert push.code == 0, push.text
    assert "[www.0] ~/data found: stopping the old container to move it" in push.out
    assert "[www] ~/data: the service was down for " in push.out
    assert json.loads(_get(url + "files/note.txt")[1])["content"] == "kept"
    scale = sandbox.dotkit("scale", "www:instances=2", cwd=app)
    assert scale.code == 0, scale.text
    seen = {}
    for _ in range(4):
        body = json.loads(_get(url + "files/note.txt")[1])
        seen[body["instance"]] = body
    assert seen["0"]["content"] == "kept"
    assert seen["1"] == {"missing": "note.txt", "instance": "1"}
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_redis_keeps_its_data_through_ten_pushes(sandbox: Sandbox, tmp_path: Path) -> None:
    app = _deploy(sandbox, "redis-counter", tmp_path, "counter")
    url = _url(sandbox, app, "www")
    first = json.loads(_get(url + "visits")[1])["count"]
    for _ in range(10):
        push = sandbox.dotkit("push", cwd=app)
        assert push.code == 0, push.text
        assert "[db] redis service kept as it is" in push.out
    assert json.loads(_get(url + "visits")[1])["count"] == first + 1
    env = json.loads(sandbox.dotkit("run", "www", "--", "cat", "environment.json", cwd=app).out)
    assert env["DOTCLOUD_DB_REDIS_LOGIN"] == "root"
    assert env["DOTCLOUD_DB_REDIS_URL"] == (
        f"redis://root:{env['DOTCLOUD_DB_REDIS_PASSWORD']}@db.counter.sandbox:{env['DOTCLOUD_DB_REDIS_PORT']}"
    )
    destroy_db = sandbox.dotkit("-y", "destroy", "db", cwd=app)
    assert destroy_db.code == 0, destroy_db.text
    sandbox.dotkit("-y", "destroy", cwd=app)


def test_changes_inside_a_container_vanish_and_previous_comes_back(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = converted_guide(sandbox, tmp_path / "roll", "--fix")
    sandbox.dotkit("create", "roll", cwd=app)
    assert sandbox.dotkit("push", cwd=app).code == 0
    url = _url(sandbox, app, "gear2")
    assert sandbox.dotkit("run", "gear2", "--", "touch", "current/made-by-hand", cwd=app).code == 0
    assert sandbox.dotkit("run", "gear2", "--", "ls", "current/made-by-hand", cwd=app).code == 0
    (app / "Gear2" / "file1.js").write_text(
        "exports.text = function () { return 'version two'; };\n"
    )
    assert sandbox.dotkit("push", cwd=app).code == 0
    gone = sandbox.dotkit("run", "gear2", "--", "ls", "current/made-by-hand", cwd=app)
    assert gone.code != 0  # a push brings new containers
    assert json.loads(_get(url)[1])["greeting"] == "version two"
    back = sandbox.dotkit("deploy", "previous", cwd=app)
    assert back.code == 0, back.text
    assert json.loads(_get(url)[1])["greeting"] == "Hello from Gear2"
    revisions = sandbox.dotkit("revisions", cwd=app).out.splitlines()
    assert revisions[0] == "==> Revisions for application roll:"
    assert len(revisions) == 3 and revisions[1].startswith("* rsync-")
    env = sandbox.dotkit("env", "set", "GREETING=from env set", cwd=app)
    assert env.code == 0, env.text
    assert json.loads(_get(url)[1])["greeting"] == "from env set"
    assert "GREETING=from env set" in sandbox.dotkit("env", "list", cwd=app).out
    sandbox.dotkit("-y", "destroy", cwd=app)


def _until(check, timeout: float = 15.0) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if check():
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("the condition never held")


def test_faults_are_recovered(sandbox: Sandbox, tmp_path: Path) -> None:
    app = tmp_path / "faults"
    (app / "www").mkdir(parents=True)
    (app / "dotcloud.yml").write_text(
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
        "crash:\n  type: nodejs\n  approot: www\n  processes:\n    app: node server.js\n"
    )
    (app / "www" / "server.js").write_text(
        "if (process.env.DOTCLOUD_SERVICE_NAME === 'crash' && require('fs').existsSync("
        "process.env.HOME + '/current/crash')) { console.error('boom: cannot start'); process.exit(3); }\n"
        "require('http').createServer(function (q, s) { s.end(String(process.pid)); }).listen(8080);\n"
    )
    sandbox.dotkit("create", "faults", cwd=app)
    assert sandbox.dotkit("push", cwd=app).code == 0
    url = _url(sandbox, app, "www")
    first_pid = _get(url)[1]  # as the container's own PID namespace numbers it
    killed = sandbox.dotkit("run", "www", "--", "kill", "-9", first_pid, cwd=app)
    assert killed.code == 0, killed.text
    _until(lambda: _get(url)[1] not in ("", first_pid))  # supervisord started it again

    # supervisord itself dies: the platform process starts the whole container again.
    sandbox.dotkit(
        "run", "www", "--", "sh", "-c", "kill -9 $(cat .dotkit/supervisord.pid)", cwd=app
    )
    _until(lambda: _get(url)[0] == 200)

    # A program that exits at once ends FATAL, and status and logs show why.
    assert sandbox.dotkit("run", "crash", "--", "touch", "current/crash", cwd=app).code == 0
    assert sandbox.dotkit("restart", "crash.0", cwd=app).code == 0
    _until(lambda: "FATAL" in sandbox.dotkit("status", "crash", cwd=app).out, timeout=30)
    status = sandbox.dotkit("status", "crash", cwd=app).out
    assert status.startswith('==> Probing status for service "crash"...\ncrash.0: down\n')
    logs = sandbox.dotkit("logs", "crash", "-N", cwd=app).out
    assert "boom: cannot start" in logs and "gave up: app entered FATAL state" in logs

    # Ctrl-C during a push stops the log, not the deployment: the old revision serves
    # until the new one is ready, and dlogs follows the push to its end.
    yml = app / "dotcloud.yml"
    yml.write_text(
        yml.read_text().replace(
            "  process: node server.js\n", "  process: node server.js\n  prebuild: sleep 3\n", 1
        )
    )
    pusher = subprocess.Popen([sys.executable, "-m", "kit", "push"], cwd=app, env=sandbox.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    assert pusher.stdout is not None
    for line in pusher.stdout:
        if "Running prebuild" in line:
            break
    pusher.send_signal(signal.SIGINT)
    rest = pusher.communicate(timeout=30)[0]
    assert pusher.returncode == 130, rest
    assert "You've closed your log stream with Ctrl-C, but the deployment is still running" in rest
    assert "dotkit dlogs d2" in rest
    assert _get(url)[0] == 200
    follow = sandbox.dotkit("dlogs", "d2", cwd=app, timeout=120)
    assert follow.code == 0 and follow.out.endswith("-- deployment d2: deployed\n"), follow.text
    assert _get(url)[0] == 200
    assert not any("sleep 3" in p for p in sandbox.processes())
    sandbox.dotkit("-y", "destroy", cwd=app)
    assert sandbox.leftovers() == []
