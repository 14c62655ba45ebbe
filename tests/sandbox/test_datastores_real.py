"""Real MariaDB and PostgreSQL: initialised and run as the container's unprivileged user, data kept.

Each server runs in a bubblewrap container as uid 1000 (a user namespace, no
capabilities, read-only /usr, its own home at /home/dotcloud), as the
sandbox's data service containers do. The test connects over TCP with the
platform's login and the generated password, using the servers' own command
line clients, writes a row, stops the server, starts it again and reads the
row back.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from kit.sandbox import dataservices, datastores
from kit.sandbox.dbready import tcp, wait_ready

pytestmark = pytest.mark.e2e

PASSWORD = "s3cret'with\\odd $chars"
CLIENTS = {"mysql": "mariadb", "postgresql": "psql"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Container:
    """Commands as uid 1000 in a user namespace, with ``home`` at /home/dotcloud."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.home.mkdir()
        (root / "passwd").write_text(
            "root:x:0:0:root:/root:/bin/sh\ndotcloud:x:1000:1000::/home/dotcloud:/bin/sh\n"
        )
        (root / "group").write_text("root:x:0:\ndotcloud:x:1000:\n")
        self.prefix = [
            "bwrap", "--unshare-user", "--uid", "1000", "--gid", "1000", "--cap-drop", "ALL",
            "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/sbin", "/sbin", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp", "--ro-bind", str(root / "passwd"), "/etc/passwd",
            "--ro-bind", str(root / "group"), "/etc/group",
            "--bind", str(self.home), "/home/dotcloud", "--chdir", "/home/dotcloud", "--",
        ]  # fmt: skip

    def run(self, argv: Sequence[str], stdin: bytes | None = None) -> str:
        done = subprocess.run(
            [*self.prefix, *argv], input=stdin, capture_output=True, timeout=120, check=False
        )
        output = (done.stdout + done.stderr).decode(errors="replace")
        assert done.returncode == 0, f"{argv[0]} failed:\n{output[-3000:]}"
        return output

    def start(self, argv: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(
                [*self.prefix, *argv], stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip


def _server_pid(kind: str, home: Path) -> int:
    pidfile = home / ("run/mysqld.pid" if kind == "mysql" else "data/postmaster.pid")
    return int(pidfile.read_text().split()[0])


def _sql(
    kind: str, port: int, statement: str, password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    if kind == "mysql":
        argv = ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(port), "-u", "root",
                "-N", "-B", "-e", statement]  # fmt: skip
        env = {**os.environ, "MYSQL_PWD": password}
    else:
        argv = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "root", "-d", "postgres",
                "-tA", "-v", "ON_ERROR_STOP=1", "-c", statement]  # fmt: skip
        env = {**os.environ, "PGPASSWORD": password}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.fixture(params=["mysql", "postgresql"])
def kind(request: pytest.FixtureRequest) -> Iterator[str]:
    kind = str(request.param)
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    if (why := datastores.problem(kind)) is not None:
        pytest.skip(why)
    if shutil.which(CLIENTS[kind]) is None:
        pytest.skip(f"the {CLIENTS[kind]} client is not installed")
    yield kind


def test_initialise_run_as_uid_1000_and_keep_the_data(kind: str, tmp_path: Path) -> None:
    box = Container(tmp_path)
    port = _free_port()
    store = dataservices.store(
        kind, data_dir="/home/dotcloud/data", run_dir="/home/dotcloud/run",
        port=port, password=PASSWORD,
    )  # fmt: skip
    (box.home / "data").mkdir()  # an empty data folder, as the push makes it, is fine
    assert not datastores.initialised(kind, box.home / "data")
    for step in datastores.init_steps(store):
        box.run(step.argv, step.input)
    assert datastores.initialised(kind, box.home / "data")
    assert not (box.home / "data.init").exists()

    log = tmp_path / "server.log"
    for attempt in ("first", "second"):
        server = box.start(datastores.server_argv(store), log)
        try:
            said = wait_ready(kind, tcp("127.0.0.1", port), timeout=60)
            if kind == "mysql":
                assert said.startswith("greeted as ") and "MariaDB" in said
            else:
                assert said == "asks for authentication"
            if attempt == "first":
                created = _sql(
                    kind,
                    port,
                    "CREATE SCHEMA app; CREATE TABLE app.kept (a INT); INSERT INTO app.kept VALUES (42)",
                )
                assert created.returncode == 0, created.stderr
                denied = _sql(kind, port, "SELECT 1", password="wrong")
                assert denied.returncode != 0
                assert "denied" in denied.stderr or "authentication failed" in denied.stderr
                nobody = _sql(kind, port, "SELECT 1", password="")
                assert nobody.returncode != 0
            else:
                kept = _sql(kind, port, "SELECT a FROM app.kept")
                assert (kept.returncode, kept.stdout.strip()) == (0, "42"), kept.stderr
        finally:
            stop = getattr(signal, "SIG" + datastores.STOP_SIGNAL[kind])
            os.kill(_server_pid(kind, box.home), stop)
            assert server.wait(timeout=60) == 0, log.read_text()[-3000:]
    # Only the data folder and the run folder: nothing was written elsewhere in the home.
    assert sorted(p.name for p in box.home.iterdir()) == ["data", "run"]


def test_a_data_folder_in_use_is_never_replaced(tmp_path: Path) -> None:
    if shutil.which("bwrap") is None or datastores.problem("postgresql"):
        pytest.skip("bubblewrap and postgresql are needed")
    box = Container(tmp_path)
    (box.home / "data").mkdir()
    (box.home / "data" / "precious").write_text("user data")
    store = dataservices.store(
        "postgresql", data_dir="/home/dotcloud/data", run_dir="/home/dotcloud/run",
        port=_free_port(), password=PASSWORD,
    )  # fmt: skip
    steps = datastores.init_steps(store)
    for step in steps[:-1]:
        box.run(step.argv, step.input)
    with pytest.raises(AssertionError, match="mv failed"):
        box.run(steps[-1].argv)
    assert (box.home / "data" / "precious").read_text() == "user data"


def test_wait_ready_sees_a_server_still_starting(tmp_path: Path) -> None:
    if datastores.problem("postgresql"):
        pytest.skip("postgresql is needed")
    port = _free_port()
    started = time.monotonic()
    with pytest.raises(Exception, match=r"was not ready after 0\.5 s"):
        wait_ready("postgresql", tcp("127.0.0.1", port), timeout=0.5)
    assert time.monotonic() - started < 30
