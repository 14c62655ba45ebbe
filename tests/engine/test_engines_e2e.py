"""End to end on a real Docker engine: the guide's sample on Compose, a redis app on Swarm,
an app with MySQL and PostgreSQL on Compose.

Nothing here is faked: a private dockerd, the platform image built from
Debian's registry, images built from the export, Compose and Swarm running them.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kit.cli import main
from kit.engine.daemon import Daemon, init_swarm
from kit.engine.docker import docker, engine_env
from kit.engine.image import PlatformImage
from kit.proc import run

from .conftest import free_port_base

REPO = Path(__file__).resolve().parents[2]
SQL_APP = REPO / "tests" / "export" / "apps" / "sql-notes"
pytestmark = pytest.mark.e2e


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except (urllib.error.URLError, OSError):
        return None


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def export(
    daemon: Daemon,
    monkeypatch: pytest.MonkeyPatch,
    app: Path,
    target: str,
    out: Path,
    *extra: str,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", daemon.engine.host)
    argv = ["export", str(app), "--to", target, "-o", str(out), *extra]
    assert main(argv) == 0


def test_the_guides_sample_on_compose(
    daemon: Daemon, platform_image: PlatformImage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose)")
    out = tmp_path / "guide"
    base = free_port_base(2)
    export(daemon, monkeypatch, REPO / "sample_apps" / "nodesocket-guide", "compose", out,
           "--name", "guide", "--port-base", str(base))  # fmt: skip
    project = ["-p", "guide", "--compatibility"]
    env = engine_env(daemon.engine)
    try:
        run([compose, *project, "up", "-d", "--build"], cwd=out, env=env, timeout=900)
        gear1 = wait_for(lambda: get(f"http://127.0.0.1:{base}/x"), 90, "gear1")
        gear2 = wait_for(lambda: get(f"http://127.0.0.1:{base + 1}/"), 90, "gear2")
        assert json.loads(str(gear1))["gear"] == "Gear1"
        assert json.loads(str(gear1))["listening"] == 8080
        assert json.loads(str(gear2))["greeting"] == "Hello from Gear2"
        shown = docker(daemon.engine, "exec", "-u", "dotcloud", "guide_gear2_1",
                       "sh", "-lc", "node -v; cat ~/environment.json")  # fmt: skip
        version, _, body = shown.stdout.partition("\n")
        assert version == "v0.8.28"  # the platform's build, from the npm registry
        environment = json.loads(body)
        assert environment["DOTCLOUD_PROJECT"] == "guide"
        assert environment["DOTCLOUD_SERVICE_NAME"] == "gear2"
        assert environment["DOTCLOUD_GEAR1_HTTP_URL"] == "http://gear1:8080/"
        assert environment["GREETING"] == "Hello from Gear2"
    finally:
        run([compose, *project, "down", "-v"], cwd=out, env=env, timeout=300, check=False)


# A SQL client in one data service's container, reaching the other's server by its service
# name (so over the engine's network, as the app would), with the password of its secret.
_CLIENTS = {
    "accounts": (
        "ledger",
        'MYSQL_PWD="$(cat /run/secrets/accounts_password)" exec mariadb --no-defaults '
        '-h accounts -u root -N -B -e "$0"',
    ),
    "ledger": (
        "accounts",
        'PGPASSWORD="$(cat /run/secrets/ledger_password)" exec psql -h ledger -U root '
        '-d postgres -tA -v ON_ERROR_STOP=1 -c "$0"',
    ),
}


def test_mysql_and_postgresql_on_compose_keep_their_data(
    daemon: Daemon,
    platform_sql_image: PlatformImage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose)")
    out = tmp_path / "notes"
    base = free_port_base(1)
    export(
        daemon, monkeypatch, SQL_APP, "compose", out, "--name", "notes", "--port-base", str(base)
    )
    secrets = {s: (out / "secrets" / f"{s}_password").read_text() for s in _CLIENTS}
    assert not [pw for pw in secrets.values() if pw in (out / "compose.yaml").read_text()]
    project = [compose, "-p", "notes", "--compatibility"]
    # Creating a container on the SQL image copies about 500 MB on a vfs engine, and
    # docker-compose gives up on the engine's answer after 60 s by default.
    env = engine_env(daemon.engine, {"COMPOSE_HTTP_TIMEOUT": "300"})

    def sql(service: str, statement: str) -> str | None:
        runs_in, script = _CLIENTS[service]
        argv = [*project, "exec", "-T", runs_in, "sh", "-c", script, statement]
        done = run(argv, cwd=out, env=env, timeout=120, check=False)
        return done.stdout.strip() if done.returncode == 0 else None

    def both_open() -> bool:
        answer = get(f"http://127.0.0.1:{base}/")  # www's own TCP connections, through the router
        return answer is not None and json.loads(answer) == {"accounts": "open", "ledger": "open"}

    try:
        run([*project, "up", "-d", "--build"], cwd=out, env=env, timeout=900)
        wait_for(both_open, 240, "www to reach both SQL services")
        shown = run([*project, "exec", "-T", "www", "cat", "/home/dotcloud/environment.json"],
                    cwd=out, env=env, timeout=60)  # fmt: skip
        environment = json.loads(shown.stdout)
        accounts, ledger = secrets["accounts"], secrets["ledger"]
        assert {k: v for k, v in environment.items() if k.startswith("DOTCLOUD_ACCOUNTS_")} == {
            "DOTCLOUD_ACCOUNTS_MYSQL_HOST": "accounts",
            "DOTCLOUD_ACCOUNTS_MYSQL_PORT": "3306",
            "DOTCLOUD_ACCOUNTS_MYSQL_LOGIN": "root",
            "DOTCLOUD_ACCOUNTS_MYSQL_PASSWORD": accounts,
            "DOTCLOUD_ACCOUNTS_MYSQL_URL": f"mysql://root:{accounts}@accounts:3306",
        }
        assert {k: v for k, v in environment.items() if k.startswith("DOTCLOUD_LEDGER_")} == {
            "DOTCLOUD_LEDGER_SQL_HOST": "ledger",
            "DOTCLOUD_LEDGER_SQL_PORT": "5432",
            "DOTCLOUD_LEDGER_SQL_LOGIN": "root",
            "DOTCLOUD_LEDGER_SQL_PASSWORD": ledger,
            "DOTCLOUD_LEDGER_SQL_URL": f"pgsql://root:{ledger}@ledger:5432",
        }
        wait_for(lambda: sql("ledger", "SELECT 1") == "1", 120, "PostgreSQL to take logins")
        mariadb = "CREATE DATABASE notes; CREATE TABLE notes.kept (v TEXT); " + (
            "INSERT INTO notes.kept VALUES ('kept by mariadb')"
        )
        assert sql("accounts", mariadb) == ""
        postgresql = "CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('kept by postgresql')"
        assert sql("ledger", postgresql) == "CREATE TABLE\nINSERT 0 1"
        # New containers on the same volumes: the data is there, and nothing is initialised again.
        run([*project, "down"], cwd=out, env=env, timeout=300)
        run([*project, "up", "-d"], cwd=out, env=env, timeout=900)
        wait_for(both_open, 240, "www to reach both SQL services again")
        kept = wait_for(lambda: sql("ledger", "SELECT v FROM kept"), 120, "PostgreSQL again")
        assert kept == "kept by postgresql"
        assert sql("accounts", "SELECT v FROM notes.kept") == "kept by mariadb"
        logs = run([*project, "logs", "--no-color", "accounts", "ledger"], cwd=out, env=env)
        assert "Initialising" not in logs.stdout
    except BaseException:
        _show_state(project, out, env)  # in the report: what each container did
        raise
    finally:
        run([*project, "down", "-v"], cwd=out, env=env, timeout=300, check=False)


def _show_state(project: list[str], out: Path, env: dict[str, str]) -> None:
    for args in (["ps", "-a"], ["logs", "--no-color", "--tail", "60"]):
        done = run([*project, *args], cwd=out, env=env, timeout=120, check=False)
        print(f"$ docker-compose {' '.join(args)}\n{done.stdout}{done.stderr}")


def _instances(base: int, count: int) -> list[str]:
    answers = [get(f"http://127.0.0.1:{base}/hits") for _ in range(count)]
    return [json.loads(a)["instance"] for a in answers if a]


def _count(base: int) -> int:
    return int(json.loads(str(get(f"http://127.0.0.1:{base}/hits")))["count"])


def test_a_redis_app_as_a_swarm_stack(
    daemon: Daemon, host_node_image: PlatformImage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "counter"
    base = free_port_base(1)
    export(daemon, monkeypatch, REPO / "sample_apps" / "redis-counter", "swarm", out,
           "--name", "counter", "--node-version", "host", "--port-base", str(base), "--build")  # fmt: skip
    assert (out / "secrets").stat().st_mode & 0o777 == 0o700
    assert (out / "secrets" / "db_password").stat().st_mode & 0o777 == 0o600
    password = (out / "secrets" / "db_password").read_text()
    assert password not in (out / "stack.yml").read_text()
    init_swarm(daemon)
    try:
        docker(daemon.engine, "stack", "deploy", "-c", "stack.yml", "counter", cwd=out)
        wait_for(lambda: get(f"http://127.0.0.1:{base}/hits"), 120, "the stack")
        docker(daemon.engine, "service", "scale", "counter_www=3", timeout=300)
        # Three replicas answering in turn, each knowing its own number.
        turn = wait_for(lambda: set(_instances(base, 3)) == {"0", "1", "2"}, 120, "3 replicas")
        assert turn
        before = _count(base)
        # A stack update that replaces the redis container: its data is kept.
        stack = yaml.safe_load((out / "stack.yml").read_text())
        stack["services"]["db"]["environment"]["UPDATED"] = "1"
        (out / "stack.yml").write_text(yaml.safe_dump(stack))
        docker(daemon.engine, "stack", "deploy", "-c", "stack.yml", "counter", cwd=out)
        wait_for(
            lambda: "UPDATED" in docker(daemon.engine, "service", "inspect", "counter_db").stdout,
            60,
            "the update",
        )
        after = wait_for(lambda: get(f"http://127.0.0.1:{base}/hits"), 120, "the updated stack")
        assert int(json.loads(str(after))["count"]) > before
    finally:
        docker(daemon.engine, "stack", "rm", "counter", check=False)


def test_image_build_is_a_no_op_when_nothing_changed_and_takes_an_image_from(
    daemon: Daemon,
    platform_image: PlatformImage,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKER_HOST", daemon.engine.host)
    assert main(["image", "build"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == platform_image.runtime
    assert "already in the engine (inputs unchanged)" in out.err

    def image_id(ref: str) -> str:
        return docker(daemon.engine, "image", "inspect", "--format", "{{.Id}}", ref).stdout.strip()

    before = {ref: image_id(ref) for ref in (platform_image.runtime, platform_image.build)}
    docker(daemon.engine, "tag", platform_image.runtime, "registry.example/team/platform:1")
    try:
        assert main(["image", "build", "--from", "registry.example/team/platform:1"]) == 0
        said = capsys.readouterr().out
        assert "are registry.example/team/platform:1" in said
        assert image_id(platform_image.build) == before[platform_image.runtime]  # no pull
    finally:  # the session's other tests use the images as built
        for ref, found in before.items():
            docker(daemon.engine, "tag", found, ref)
        docker(daemon.engine, "rmi", "registry.example/team/platform:1", check=False)
    assert {ref: image_id(ref) for ref in before} == before
