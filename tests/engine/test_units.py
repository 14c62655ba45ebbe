"""The engine's pure parts: the container's start script, apt's mirror, mounts."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kit.engine import image, start
from kit.engine.mounts import mounts_under
from kit.engine.rootfs import DEFAULT_MIRROR, SQL_PROGRAMS, apt_mirror
from kit.sandbox import datastores


def test_environment_fills_secrets_and_drops_the_engines_own() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOSTNAME": "abc",
        "DOTCLOUD_PROJECT": "counter",
        "DOTKIT_INSTANCE": "3",
        "DOTKIT_SECRETS": json.dumps(
            {
                "DOTCLOUD_DB_REDIS_PASSWORD": {"file": "/run/secrets/p", "format": "{secret}"},
                "DOTCLOUD_DB_REDIS_URL": {
                    "file": "/run/secrets/p",
                    "format": "redis://root:{secret}@db:6379",
                },
            }
        ),
    }
    env = start.environment(environ, "abc", "DOTCLOUD_SERVICE_ID", read=lambda path: "pw")
    assert env == {
        "DOTCLOUD_DB_REDIS_PASSWORD": "pw",
        "DOTCLOUD_DB_REDIS_URL": "redis://root:pw@db:6379",
        "DOTCLOUD_PROJECT": "counter",
        "DOTCLOUD_SERVICE_ID": "2",
    }


@pytest.mark.parametrize(
    ("environ", "hostname", "expected"),
    [
        ({"DOTKIT_INSTANCE": "1"}, "x", "0"),
        ({"DOTKIT_INSTANCE": "{{.Task.Slot}}"}, "x", "0"),
        ({"DOTKIT_INSTANCE_FROM": "hostname"}, "www-2", "2"),
        ({"DOTKIT_INSTANCE_FROM": "hostname"}, "www", "0"),
        ({}, "www-7", "0"),
    ],
)
def test_instance_id(environ: dict[str, str], hostname: str, expected: str) -> None:
    assert start.instance_id(environ, hostname) == expected


def test_the_yaml_copy_reads_back_as_the_json() -> None:
    env = {"A": "yes", "B": "0755", "C": 'quo"te\nline', "D": "é"}
    assert yaml.safe_load(start.yaml_text(env)) == env


def test_router_config_balances_and_sets_the_gateways_headers() -> None:
    text = start.haproxy_conf(
        [
            {
                "service": "www",
                "host": "www",
                "port": 8080,
                "mode": "http",
                "listen": 8000,
                "slots": 10,
            },
            {
                "service": "chat",
                "host": "chat",
                "port": 42800,
                "mode": "tcp",
                "listen": 8001,
                "slots": 10,
            },
        ]
    )
    assert "  bind :8000" in text and "  bind :8001" in text
    assert "server-template i 10 www:8080 check resolvers engine init-addr none" in text
    assert "X-Forwarded-Proto" in text.split("frontend chat_42800")[0]
    assert "X-Forwarded-Proto" not in text.split("frontend chat_42800")[1]


def test_redis_config_keeps_data_in_home_data() -> None:
    text = start.redis_conf(6379, "pw", "/home/dotcloud/data")
    assert 'requirepass "pw"' in text and 'dir "/home/dotcloud/data"' in text


def test_the_image_carries_the_sandboxs_own_datastores_module() -> None:
    # start.py imports the one implementation of the SQL set-up, copied beside it.
    assert Path(datastores.__file__).resolve() == image.DATASTORES_SOURCE
    assert str(Path(image.START).with_name("datastores.py")) == image.DATASTORES
    facts = image.platform_facts()
    assert facts["sql_programs"] == SQL_PROGRAMS and facts["data_login"] == "root"


@pytest.mark.parametrize(("kind", "marker"), [("mysql", "mysql"), ("postgresql", "PG_VERSION")])
def test_a_sql_store_in_a_folder_of_the_volume(kind: str, marker: str, tmp_path: Path) -> None:
    facts = {**image.platform_facts(), "data": str(tmp_path / "data")}
    store = start.sql_store(datastores, kind, facts, "pw", 5432)
    # A folder of ~/data: the volume's mount point itself cannot be renamed onto.
    assert store.data_dir == f"{tmp_path}/data/{kind}"
    assert store.run_dir == "/home/dotcloud/.dotkit/run"
    assert (store.login, store.bind, store.programs) == ("root", "0.0.0.0", SQL_PROGRAMS)
    steps = start.sql_setup(datastores, store)
    assert steps == datastores.init_steps(store)
    assert steps[-1].argv == ("mv", "-T", "--", f"{store.data_dir}.init", store.data_dir)
    (tmp_path / "data" / kind / marker).mkdir(parents=True)
    assert start.sql_setup(datastores, store) == []  # initialised once, never again


def test_exported_sql_servers_listen_on_every_interface() -> None:
    facts = image.platform_facts()
    mysql = datastores.server_argv(start.sql_store(datastores, "mysql", facts, "pw", 3306))
    assert mysql[0] == SQL_PROGRAMS["mariadbd"]
    assert "--bind-address=0.0.0.0" in mysql and "--port=3306" in mysql
    pg = datastores.server_argv(start.sql_store(datastores, "postgresql", facts, "pw", 5432))
    assert pg[0] == SQL_PROGRAMS["postgres"]
    assert pg[-2:] == ["-c", "listen_addresses=0.0.0.0"]


def test_exported_postgresql_takes_password_logins_from_other_hosts(tmp_path: Path) -> None:
    store = start.sql_store(datastores, "postgresql", image.platform_facts(), "pw", 5432)
    (append,) = [s for s in datastores.init_steps(store) if "pg_hba.conf" in " ".join(s.argv)]
    assert append.argv[3] == "/home/dotcloud/data/postgresql.init/pg_hba.conf"
    # The step as the container's shell runs it, on a file of initdb's kind.
    hba = tmp_path / "pg_hba.conf"
    hba.write_text("host all all 127.0.0.1/32 scram-sha-256\n")
    subprocess.run([*append.argv[:3], str(hba), *append.argv[4:]], check=True)
    assert hba.read_text().splitlines() == [
        "host all all 127.0.0.1/32 scram-sha-256",
        "host all all all scram-sha-256",
    ]


_CHILD = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGINT, lambda *a: sys.exit(7))\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(15))\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def test_the_engines_stop_request_reaches_the_server_as_its_own_stop_signal() -> None:
    # PostgreSQL takes SIGTERM as "wait for every client": the engine's SIGTERM is handed
    # on as SIGINT, its fast shutdown; the server's exit status is the container's.
    code = (
        "import os, signal, sys\n"
        "from kit.engine import start\n"
        f"sys.exit(start.serve([sys.executable, '-c', {_CHILD!r}], os.environ, signal.SIGINT))\n"
    )
    wrapper = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert wrapper.stdout is not None and wrapper.stdout.readline() == "ready\n"
        wrapper.send_signal(signal.SIGTERM)
        assert wrapper.wait(timeout=30) == 7
    finally:
        wrapper.kill()


def test_apt_mirror() -> None:
    deb822 = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
    assert apt_mirror([deb822]) == "http://mirror.example/debian"
    assert apt_mirror(["deb [arch=amd64] http://m.example/debian/ bookworm main\n"]) == (
        "http://m.example/debian"
    )
    assert (
        apt_mirror(["deb https://deb.nodesource.com/node_20.x nodistro main\n"]) == DEFAULT_MIRROR
    )


def test_mounts_under_deepest_first() -> None:
    info = "\n".join(
        [
            "1 2 0:1 / /tmp/d rw - tmpfs x rw",
            "3 1 0:2 / /tmp/d/exec/netns/a rw - nsfs x rw",
            "4 1 0:3 / /tmp/dx rw - tmpfs x rw",
            "5 1 0:4 / /tmp/d/with\\040space rw - tmpfs x rw",
        ]
    )
    assert mounts_under(Path("/tmp/d"), info) == [
        "/tmp/d/exec/netns/a",
        "/tmp/d/with space",
        "/tmp/d",
    ]


def test_the_images_copy_of_datastores_imports_beside_start_py_alone(tmp_path: Path) -> None:
    """The image carries kit/sandbox/datastores.py as a module of its own, next to
    start.py, with no kit package: it may import the standard library only."""
    from kit.engine.image import DATASTORES, DATASTORES_SOURCE, START

    folder = tmp_path / "opt-dotkit"
    folder.mkdir()
    shutil.copy(DATASTORES_SOURCE, folder / Path(DATASTORES).name)
    shutil.copy(Path(image.__file__).with_name("start.py"), folder / Path(START).name)
    # As `python3 /opt/dotkit/start.py` has it: the script's folder first on sys.path,
    # and no site-packages (-S: this interpreter has the kit installed, the image not).
    probe = (
        f"import sys; sys.path.insert(0, {str(folder)!r}); import importlib, start; "
        "importlib.import_module('datastores').init_steps"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
