"""MySQL and PostgreSQL data services, their pure parts: initialisation, server command, readiness."""

from __future__ import annotations

import socket
import struct

import pytest

from kit.platform import envkeys
from kit.sandbox import dataservices, datastores
from kit.sandbox.datastores import Store, init_steps, server_argv
from kit.sandbox.dbready import NotReady, Probe, mysql_greeting, pg_reply, pg_startup, wait_ready

SECRET = "p'w\\ $x;"


def _store(kind: str, **kw: object) -> Store:
    base: dict[str, object] = {
        "kind": kind,
        "login": "root",
        "data_dir": "/home/dotcloud/data",
        "run_dir": "/home/dotcloud/run",
        "port": 3306,
        "password": SECRET,
    }
    base.update(kw)
    return Store(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "mongodb"},
        {"port": 0},
        {"port": 70000},
        {"data_dir": "data"},
        {"run_dir": "/run\n/x"},
        {"password": ""},
        {"password": "two\nlines"},
        {"login": "root; drop"},
        {"bind": "0.0.0.0 --skip-grant-tables"},
    ],
)
def test_stores_refuse_odd_values(bad: dict[str, object]) -> None:
    kind = str(bad.pop("kind", "mysql"))
    with pytest.raises(ValueError):
        _store(kind, **bad)


@pytest.mark.parametrize("kind", ["mysql", "postgresql"])
def test_passwords_never_reach_a_command_line(kind: str) -> None:
    store = _store(kind)
    argvs = [step.argv for step in init_steps(store)] + [tuple(server_argv(store))]
    assert all(SECRET not in arg and "p'w" not in arg for argv in argvs for arg in argv)
    assert sum(step.input is not None for step in init_steps(store)) == 1


def test_mysql_initialisation() -> None:
    steps = init_steps(_store("mysql"))
    assert steps[0].argv == ("rm", "-rf", "--", "/home/dotcloud/data.init")
    assert steps[1].argv == (
        "mkdir", "-p", "-m", "0700", "--", "/home/dotcloud/data.init", "/home/dotcloud/run",
    )  # fmt: skip
    assert steps[2].argv[0].endswith("mariadb-install-db")
    assert "--datadir=/home/dotcloud/data.init" in steps[2].argv
    assert steps[3].argv[0].endswith("mariadbd") and "--bootstrap" in steps[3].argv
    assert steps[3].input is not None
    sql = steps[3].input.decode()
    assert "ALTER USER 'root'@'localhost' IDENTIFIED BY 'p''w\\\\ $x;';" in sql
    assert "CREATE USER 'root'@'%' IDENTIFIED BY 'p''w\\\\ $x;';" in sql
    assert "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;" in sql
    assert steps[-1].argv == ("mv", "-T", "--", "/home/dotcloud/data.init", "/home/dotcloud/data")


def test_postgresql_initialisation() -> None:
    steps = init_steps(_store("postgresql"))
    initdb = steps[2]
    # The password reaches initdb through a private file a shell writes from standard
    # input and removes afterwards: never on a command line.
    shell, pwfile, program = initdb.argv[:3], initdb.argv[3], initdb.argv[4]
    assert shell[:2] == ("/bin/sh", "-c") and 'rm -f -- "$0"' in shell[2]
    assert pwfile == "/home/dotcloud/run/initdb.pw" and program.endswith("initdb")
    assert initdb.argv[5:] == (
        "-D", "/home/dotcloud/data.init", "-U", "root", f"--pwfile={pwfile}",
        "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale",
    )  # fmt: skip
    assert initdb.input == SECRET.encode() + b"\n"
    assert SECRET not in " ".join(initdb.argv)
    assert len(steps) == 4


def test_servers_listen_on_loopback_with_sockets_in_the_home() -> None:
    mysql = server_argv(_store("mysql", port=4000))
    assert mysql[1:] == [
        "--no-defaults", "--datadir=/home/dotcloud/data", "--bind-address=127.0.0.1",
        "--port=4000", "--socket=/home/dotcloud/run/mysqld.sock",
        "--pid-file=/home/dotcloud/run/mysqld.pid", "--skip-name-resolve",
        "--innodb-use-native-aio=0",
    ]  # fmt: skip
    pg = server_argv(_store("postgresql", port=4001))
    assert pg[1:] == [
        "-D", "/home/dotcloud/data", "-p", "4001", "-k", "/home/dotcloud/run",
        "-c", "listen_addresses=127.0.0.1",
    ]  # fmt: skip


def test_as_another_user() -> None:
    argv = server_argv(_store("postgresql", uid=1000))
    assert argv[:5] == ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "--"]
    step = init_steps(_store("mysql", uid=1000, gid=1001))[3]
    assert step.argv[:3] == ("setpriv", "--reuid=1000", "--regid=1001")
    assert step.input is not None


def test_missing_binaries_name_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datastores, "programs", lambda kind: None)
    assert datastores.problem("postgresql") == (
        "postgresql needs postgres and initdb, which are not installed here (the Debian package "
        "postgresql); install it (apt-get install postgresql), or remove the service from "
        "dotcloud.yml"
    )
    assert dataservices.problem("mysql") == (
        "mysql needs mariadbd and mariadb-install-db, which are not installed here (the Debian "
        "package mariadb-server); install it (apt-get install mariadb-server), or remove the "
        "service from dotcloud.yml"
    )


def test_data_service_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    assert dataservices.problem("mongodb") == (
        "the sandbox cannot run mongodb services: MongoDB is not packaged by Debian 12, so "
        "there is no server to run here. Point the app at a MongoDB server of your own, or "
        "remove the service from dotcloud.yml"
    )
    assert dataservices.problem("smtp") == "the sandbox does not run smtp services"
    monkeypatch.setattr(datastores, "programs", lambda kind: {"x": "/x"})
    assert dataservices.problem("postgresql") is None  # a push runs it
    assert dataservices.problem("postgresql", runs=frozenset({"redis"})) == (
        "the sandbox does not run postgresql services in a push yet"
    )
    monkeypatch.setattr(dataservices.os, "geteuid", lambda: 0)
    assert "the plain-process backend has no containers" in str(
        dataservices.problem("mysql", backend="process")
    )


def test_the_supervisord_command_for_sql_stores() -> None:
    text = dataservices.command("postgresql", 5432, SECRET, "/home/dotcloud/data")
    assert text.endswith(
        " -D /home/dotcloud/data -p 5432 -k /home/dotcloud/run -c listen_addresses=127.0.0.1"
    )
    assert "p'w" not in text


def test_env_keys_for_sql_stores() -> None:
    assert (
        envkeys.data_url("mysql", "db.app.sandbox", 3306, "pw")
        == "mysql://root:pw@db.app.sandbox:3306"
    )
    assert envkeys.data_url("postgresql", "db.app.sandbox", 5432, "pw") == (
        "pgsql://root:pw@db.app.sandbox:5432"
    )
    assert envkeys.data_port_name("postgresql") == "sql"


def _packet(payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + b"\0" + payload


def test_mysql_greetings() -> None:
    greeting = _packet(b"\x0a10.11.18-MariaDB\0rest")
    assert mysql_greeting(greeting) == Probe(True, "greeted as 10.11.18-MariaDB")
    refused = _packet(b"\xff" + struct.pack("<H", 1129) + b"Host is blocked")
    assert mysql_greeting(refused) == Probe(False, "error 1129: Host is blocked")
    assert mysql_greeting(b"") == Probe(False, "no greeting yet")
    assert not mysql_greeting(b"HTTP/1.1 400").ready


def _pg_error(code: str, message: str) -> bytes:
    body = b"SFATAL\0C" + code.encode() + b"\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


def test_postgresql_answers() -> None:
    assert pg_reply(b"R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0") == Probe(
        True, "asks for authentication"
    )
    starting = pg_reply(_pg_error("57P03", "the database system is starting up"))
    assert starting == Probe(False, "57P03: the database system is starting up")
    assert pg_reply(_pg_error("28000", "no pg_hba.conf entry")).ready
    assert pg_reply(b"") == Probe(False, "no answer yet")
    assert pg_startup("root", "postgres") == (
        b"\0\0\0\x25\0\x03\0\0user\0root\0database\0postgres\0\0"
    )


def test_wait_ready_gives_up_with_the_last_answer() -> None:
    now = [0.0]

    def connect() -> socket.socket:
        raise ConnectionRefusedError(111, "Connection refused")

    with pytest.raises(NotReady) as caught:
        wait_ready(
            "mysql", connect, 5,
            sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0],
        )  # fmt: skip
    assert str(caught.value) == (
        "the mysql server was not ready after 5 s (last answer: Connection refused)"
    )
