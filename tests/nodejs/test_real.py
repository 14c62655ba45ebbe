"""The real thing: Node.js builds from the npm registry, run here and in a container, and npm for them.

Skipped, with the reason, where the registry cannot be reached or a tool is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kit.nodejs.fetch import NodeBuild, ensure_node
from kit.nodejs.npm import (
    INSTALL_COMMAND,
    addon_check_script,
    addon_failures,
    failed_builds,
    findings,
    install_env,
    scan,
)
from kit.nodejs.registry import NodeFetchFailed
from kit.proc import CommandFailed, run

pytestmark = pytest.mark.e2e

SERVER = """\
var http = require('http');
var server = http.createServer(function (req, res) {
  res.writeHead(200, {'Content-Type': 'text/plain'});
  res.end('hello from ' + process.version + ' as uid ' + process.getuid());
});
server.listen(Number(process.argv[2]), '127.0.0.1', function () {
  var port = server.address().port;
  http.get({host: '127.0.0.1', port: port, path: '/'}, function (res) {
    var body = '';
    res.on('data', function (chunk) { body += chunk; });
    res.on('end', function () { console.log(port + ' ' + res.statusCode + ' ' + body); server.close(); });
  });
});
"""


@pytest.fixture(scope="session")
def node_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("node-cache")


def _fetch(requested: str, cache: Path) -> NodeBuild:
    try:
        return ensure_node(requested, cache=cache)
    except NodeFetchFailed as exc:
        if str(exc).startswith("cannot reach the npm registry"):
            pytest.skip(f"the npm registry is not reachable here: {exc}")
        raise


@pytest.fixture(scope="session")
def node08(node_cache: Path) -> NodeBuild:
    return _fetch("v0.8.x", node_cache)


def test_v08_is_the_newest_v08_build(node08: NodeBuild) -> None:
    assert node08.choice.version == "0.8.28"
    assert run([str(node08.path / "bin" / "node"), "-v"]).stdout.strip() == "v0.8.28"
    # The build's own npm is there too (it cannot reach today's registry: see kit.nodejs.npm).
    assert run([str(node08.path / "bin" / "npm"), "-v"]).stdout.strip() == "1.2.30"


def test_v06_runs_the_oldest_published_build(node_cache: Path) -> None:
    build = _fetch("v0.6.x", node_cache)
    assert build.choice.version == "0.8.6"
    assert build.choice.note is not None and "the platform ran v0.6.20" in build.choice.note
    assert run([str(build.path / "bin" / "node"), "-v"]).stdout.strip() == "v0.8.6"


def test_it_serves_http_on_this_machine(node08: NodeBuild, tmp_path: Path) -> None:
    script = tmp_path / "server.js"
    script.write_text(SERVER)
    out = run([str(node08.path / "bin" / "node"), str(script), "0"], timeout=30).stdout
    port, status, *body = out.split()
    assert int(port) > 0 and status == "200"
    assert " ".join(body) == f"hello from v0.8.28 as uid {os.getuid()}"


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_it_serves_on_8080_in_a_container_as_an_unprivileged_user(
    node08: NodeBuild, tmp_path: Path
) -> None:
    script = tmp_path / "server.js"
    script.write_text(SERVER)
    argv = [
        "bwrap", "--unshare-user", "--uid", "1000", "--gid", "1000", "--cap-drop", "ALL",
        "--unshare-net", "--unshare-pid", "--die-with-parent",
        "--ro-bind", "/usr", "/usr", "--ro-bind", "/lib", "/lib", "--ro-bind", "/lib64", "/lib64",
        "--ro-bind", "/bin", "/bin", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        "--ro-bind", str(node08.path), "/opt/node", "--ro-bind", str(script), "/tmp/server.js",
        "--setenv", "PATH", "/opt/node/bin:/usr/bin:/bin",
        "node", "/tmp/server.js", "8080",
    ]  # fmt: skip
    try:
        out = run(argv, timeout=30).stdout
    except CommandFailed as exc:
        if (
            "No permissions to create new namespace" in exc.stderr
            or "setting up uid map" in exc.stderr
        ):
            pytest.skip(f"user namespaces are not available here: {exc.stderr.strip()}")
        raise
    assert out.strip() == "8080 200 hello from v0.8.28 as uid 1000"


needs_compiler = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("npm", "make", "g++", "python3")),
    reason="npm, make, g++ and python3 are needed to build native addons",
)


def _npm_install(app: Path, build: NodeBuild) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **install_env(build.choice.version, str(build.path))}
    return subprocess.run(
        INSTALL_COMMAND, cwd=app, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@needs_compiler
def test_an_express3_app_installs_for_v0828(node08: NodeBuild, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(
        '{"name": "app", "version": "0.0.1", "private": true, "dependencies": '
        '{"express": "3.21.2", "connect-redis": "1.4.7", "hiredis": "0.1.17"}}'
    )
    done = _npm_install(app, node08)
    if done.returncode != 0 and "ENOTFOUND" in done.stdout + done.stderr:
        pytest.skip("the npm registry is not reachable here")
    assert done.returncode == 0, done.stdout + done.stderr
    got = findings(scan(app), "0.8.28")
    messages = [f.message for f in got]
    assert "hiredis@0.1.17 (node_modules/hiredis): native addon built for v0.8.28" in messages
    # connect-redis 1.4.7 asks for debug@*, which today is a debug written for node 6 and later.
    assert any(
        f.severity == "warning"
        and f.package.startswith("debug@")
        and "excludes v0.8.28" in f.message
        for f in got
    )
    addons = sorted(
        str(p) for p in (app / "node_modules").rglob("*.node") if "obj.target" not in str(p)
    )
    assert addons
    old = node08.path / "bin" / "node"
    check = run([str(old), "-e", addon_check_script(addons)], cwd=app).stdout
    assert addon_failures(check) == {}
    # Built for v0.8.28, it is not the machine's node's addon: that one refuses to load it.
    host = run(["node", "-e", addon_check_script(addons)], cwd=app).stdout
    assert set(addon_failures(host)) == set(addons)
    assert run([str(old), "-e", "require('express'); console.log('ok')"], cwd=app).stdout == "ok\n"


@needs_compiler
def test_an_addon_that_cannot_build_for_v08_is_named(node08: NodeBuild, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(
        '{"name": "app", "version": "0.0.1", "private": true, '
        '"dependencies": {"utf-8-validate": "5.0.10"}}'
    )
    done = _npm_install(app, node08)
    if "ENOTFOUND" in done.stdout + done.stderr:
        pytest.skip("the npm registry is not reachable here")
    assert done.returncode != 0
    assert failed_builds((done.stdout + done.stderr).splitlines()) == ["utf-8-validate@5.0.10"]


@needs_compiler
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_npm_in_a_build_container_as_uid_1000(node08: NodeBuild, tmp_path: Path) -> None:
    """The shape of the build step: read-only /usr and /opt/node, the machine's npm, uid 1000."""
    home = tmp_path / "home"
    (home / "code").mkdir(parents=True)
    (home / "code" / "package.json").write_text(
        '{"name": "app", "version": "0.0.1", "private": true, "dependencies": {"bcrypt": "0.7.7"}}'
    )
    (tmp_path / "passwd").write_text("dotcloud:x:1000:1000::/home/dotcloud:/bin/sh\n")
    env = install_env(node08.choice.version, "/opt/node")
    argv = [
        "bwrap", "--unshare-user", "--uid", "1000", "--gid", "1000", "--cap-drop", "ALL",
        "--unshare-pid", "--die-with-parent", "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        # cc and c++ are Debian alternatives; DNS and TLS need their files.
        "--ro-bind", "/etc/alternatives", "/etc/alternatives",
        "--ro-bind-try", "/etc/ssl", "/etc/ssl", "--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf",
        "--ro-bind-try", "/etc/hosts", "/etc/hosts", "--ro-bind", str(tmp_path / "passwd"), "/etc/passwd",
        "--ro-bind", str(node08.path), "/opt/node", "--bind", str(home), "/home/dotcloud",
        "--chdir", "/home/dotcloud/code", "--clearenv", "--setenv", "HOME", "/home/dotcloud",
        "--setenv", "PATH", "/usr/bin:/bin",
        *[arg for key, value in env.items() for arg in ("--setenv", key, value)],
        *INSTALL_COMMAND,
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if "ENOTFOUND" in done.stdout + done.stderr:
        pytest.skip("the npm registry is not reachable here")
    assert done.returncode == 0, done.stdout + done.stderr
    got = findings(scan(home / "code"), "0.8.28")
    assert [f.message for f in got] == [
        "bcrypt@0.7.7 (node_modules/bcrypt): native addon built for v0.8.28"
    ]
    check = "var b = require('bcrypt'); console.log(b.compareSync('a', b.hashSync('a', 4)))"
    old = node08.path / "bin" / "node"
    assert run([str(old), "-e", check], cwd=home / "code").stdout == "true\n"
