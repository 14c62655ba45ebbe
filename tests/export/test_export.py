"""The export's pure core: plan, environment, the three renderers, golden files, secrets."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from kit.appfs import list_app_files
from kit.cli import main
from kit.commands._export_run import app_files, image_build_command
from kit.errors import UsageError
from kit.export.app import Export, export_app, secret_files
from kit.export.environ import environment, k8s_name
from kit.export.plan import Image, Options, app_name, make_plan
from kit.platform.model import Service
from kit.verify.buildfile import check_build_file

REPO = Path(__file__).resolve().parents[2]
COUNTER = REPO / "sample_apps" / "redis-counter"
SQL_APP = Path(__file__).resolve().parent / "apps" / "sql-notes"
GOLDEN = Path(__file__).resolve().parent / "golden"
APPS = {"redis-counter": COUNTER, "sql-notes": SQL_APP}
IMAGE = Image(
    "dotkit/platform:test", "dotkit/platform-build:test", ("v0.8.x",), "dotkit/platform-sql:test"
)
PASSWORD = "s3cret-Pa55word-never-in-files"


def services_of(root: Path) -> tuple[Service, ...]:
    services, findings = check_build_file(root, list_app_files(root))
    assert not [f for f in findings if f.severity == "error"]
    return services


def export(target: str, root: Path = COUNTER, **more: Any) -> Export:
    name = "notes" if root == SQL_APP else "counter"
    options = Options(app=name, target=target, image=IMAGE, **more)
    return export_app(
        services_of(root),
        app_files(root),
        options,
        known_secrets={},
        new_secret=lambda: PASSWORD,
    )


def engine_files(result: Export) -> dict[str, Any]:
    """The engine's files of an export, loaded (every YAML document of each)."""
    wanted = ("compose.yaml", "stack.yml", "kustomization.yaml", "kubernetes/")
    return {
        f.path: list(yaml.safe_load_all(f.content))
        for f in result.files
        if f.path.startswith(wanted)
    }


@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("target", ["compose", "swarm", "kubernetes"])
def test_golden(app: str, target: str) -> None:
    # DOTKIT_UPDATE_GOLDEN=1 rewrites the files; read the diff before committing it.
    found = engine_files(export(target, APPS[app]))
    golden = GOLDEN / app / target
    if os.environ.get("DOTKIT_UPDATE_GOLDEN"):
        for path, docs in found.items():
            (golden / path).parent.mkdir(parents=True, exist_ok=True)
            (golden / path).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    expected = {
        str(p.relative_to(golden)): list(yaml.safe_load_all(p.read_text()))
        for p in sorted(golden.rglob("*.y*ml"))
    }
    assert found == expected


@pytest.mark.parametrize("target", ["compose", "swarm", "kubernetes"])
def test_generated_passwords_are_never_in_the_files(target: str) -> None:
    result = export(target)
    assert result.secrets == {"db_password": PASSWORD}
    assert not [f.path for f in result.files if PASSWORD.encode() in f.content]
    (secret,) = secret_files(result)
    assert secret.path == "secrets/db_password" and secret.mode == 0o600
    sql = export(target, SQL_APP)
    assert sql.secrets == {"accounts_password": PASSWORD, "ledger_password": PASSWORD}
    assert not [f.path for f in sql.files if PASSWORD.encode() in f.content]


def test_a_known_password_is_kept() -> None:
    options = Options(app="counter", target="compose", image=IMAGE)
    result = export_app(
        services_of(COUNTER),
        app_files(COUNTER),
        options,
        known_secrets={"db_password": "old"},
        new_secret=lambda: "new",
    )
    assert result.secrets == {"db_password": "old"}


@pytest.mark.parametrize("app", sorted(APPS))
def test_kubernetes_manifests_pass_the_schemas(app: str) -> None:
    for path, docs in engine_files(export("kubernetes", APPS[app])).items():
        if not path.startswith("kubernetes/"):
            continue
        for doc in docs:
            kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_a_broken_manifest_fails_the_schemas() -> None:
    # The check above can fail: a StatefulSet without its selector is refused.
    docs = engine_files(export("kubernetes"))["kubernetes/www.yaml"]
    del docs[0]["spec"]["selector"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(docs[0], kubernetes_validate.latest_version(), strict=True)


def test_the_environment_has_the_platforms_keys() -> None:
    plan = make_plan(services_of(COUNTER), Options("counter", "swarm", IMAGE))
    www = plan.code[0].service
    plain, secret = environment(plan, www)
    assert plain["DOTCLOUD_PROJECT"] == "counter"
    assert plain["DOTCLOUD_ENVIRONMENT"] == "default"
    assert plain["DOTCLOUD_SERVICE_NAME"] == "www"
    assert plain["DOTCLOUD_DB_REDIS_HOST"] == "db"
    assert plain["DOTCLOUD_DB_REDIS_PORT"] == "6379"
    assert plain["DOTCLOUD_DB_REDIS_LOGIN"] == "root"
    assert plain["DOTCLOUD_WWW_HTTP_URL"] == "http://www:8080/"
    assert secret["DOTCLOUD_DB_REDIS_URL"].format == "redis://root:{secret}@db:6379"
    assert secret["DOTCLOUD_DB_REDIS_PASSWORD"].secret == "db_password"


def test_tcp_ports_are_bound_and_published(tmp_path: Path) -> None:
    (tmp_path / "chat").mkdir()
    (tmp_path / "chat" / "supervisord.conf").write_text("[program:x]\ncommand = node s.js\n")
    (tmp_path / "dotcloud.yml").write_text(
        "chat:\n  type: nodejs\n  approot: chat\n  instances: 2\n  ports:\n    server: tcp\n"
    )
    result = export("compose", tmp_path, port_base=9000)
    compose = engine_files(result)["compose.yaml"][0]
    assert compose["services"]["chat"]["environment"]["PORT_SERVER"] == "42800"
    assert compose["services"]["chat"]["deploy"] == {"replicas": 2}
    assert compose["services"]["router"]["ports"] == ["9000:8000", "9001:8001"]
    routes = json.loads(compose["services"]["router"]["environment"]["DOTKIT_ROUTES"])
    assert [(r["port"], r["mode"]) for r in routes] == [(8080, "http"), (42800, "tcp")]
    rows = {r.item: r.outcome for r in result.report}
    assert rows["chat: port server"] == "changed"
    assert rows["chat: instance number"] == "changed"


def test_data_services_it_cannot_run_are_reported(tmp_path: Path) -> None:
    (tmp_path / "dotcloud.yml").write_text("db:\n  type: mongodb\ngis:\n  type: postgis\n")
    with pytest.raises(UsageError, match="no service the export can run"):
        export("compose", tmp_path)
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "supervisord.conf").write_text("[program:x]\ncommand = node s.js\n")
    (tmp_path / "dotcloud.yml").write_text(
        "www:\n  type: nodejs\n  approot: www\ndb:\n  type: mongodb\ngis:\n  type: postgis\n"
        "ms:\n  type: mysql-masterslave\n"
    )
    result = export("swarm", tmp_path)
    rows = {r.item: r for r in result.report}
    assert rows["db: mongodb"].outcome == "no equivalent"
    assert "not packaged by Debian" in rows["db: mongodb"].detail
    assert rows["gis: postgis"].detail == (
        "the platform image's PostgreSQL has no PostGIS (nor has the sandbox's); "
        "a postgresql service is exported"
    )
    assert rows["ms: mysql-masterslave"].outcome == "no equivalent"
    assert not result.plan.data and not result.plan.needs_sql_image


def test_sql_services_run_on_the_sql_image_with_the_platforms_keys() -> None:
    plan = make_plan(services_of(SQL_APP), Options("notes", "compose", IMAGE))
    assert plan.needs_sql_image
    assert [(d.service.name, d.port_name, d.port, d.secret, d.image) for d in plan.data] == [
        ("accounts", "mysql", 3306, "accounts_password", "dotkit/platform-sql:test"),
        ("ledger", "sql", 5432, "ledger_password", "dotkit/platform-sql:test"),
    ]
    plain, secret = environment(plan, plan.code[0].service)
    assert {k: v for k, v in plain.items() if "_MYSQL_" in k or "_SQL_" in k} == {
        "DOTCLOUD_ACCOUNTS_MYSQL_HOST": "accounts",
        "DOTCLOUD_ACCOUNTS_MYSQL_PORT": "3306",
        "DOTCLOUD_ACCOUNTS_MYSQL_LOGIN": "root",
        "DOTCLOUD_LEDGER_SQL_HOST": "ledger",
        "DOTCLOUD_LEDGER_SQL_PORT": "5432",
        "DOTCLOUD_LEDGER_SQL_LOGIN": "root",
    }
    assert {k: tuple(v) for k, v in secret.items()} == {
        "DOTCLOUD_ACCOUNTS_MYSQL_PASSWORD": ("accounts_password", "{secret}"),
        "DOTCLOUD_ACCOUNTS_MYSQL_URL": ("accounts_password", "mysql://root:{secret}@accounts:3306"),
        "DOTCLOUD_LEDGER_SQL_PASSWORD": ("ledger_password", "{secret}"),
        "DOTCLOUD_LEDGER_SQL_URL": ("ledger_password", "pgsql://root:{secret}@ledger:5432"),
    }
    # The data service's own container: its server's mode, its password file and port.
    compose = engine_files(export("compose", SQL_APP))["compose.yaml"][0]["services"]
    ledger = compose["ledger"]
    assert (ledger["image"], ledger["command"]) == ("dotkit/platform-sql:test", ["postgresql"])
    assert ledger["environment"]["DOTKIT_PASSWORD_FILE"] == "/run/secrets/ledger_password"
    assert ledger["environment"]["DOTKIT_PORT"] == "5432"
    assert ledger["volumes"] == ["ledger-data:/home/dotcloud/data"]
    assert compose["accounts"]["command"] == ["mysql"]


def test_the_report_says_what_the_sql_services_became() -> None:
    rows = {r.item: (r.outcome, r.detail) for r in export("kubernetes", SQL_APP).report}
    assert rows["accounts: mysql"] == (
        "changed",
        "MariaDB from Debian in place of MySQL, on the SQL image; "
        "a PersistentVolumeClaim for its data",
    )
    assert rows["ledger: postgresql"][0] == "carried"
    assert rows["ledger: port sql"] == (
        "changed",
        "5432 through its Service, inside the cluster only",
    )
    assert rows["ledger: login"] == (
        "carried",
        "root from any host, made when the store first starts",
    )
    assert rows["ledger: password"] == ("carried", "generated, in secrets/ledger_password")


def test_names_every_engine_accepts() -> None:
    assert app_name("My_App 2") == "my-app-2"
    with pytest.raises(UsageError, match="starts with a letter"):
        app_name("2fast")
    assert k8s_name("my_www") == "my-www"
    assert k8s_name("_1x") == "s-1x"


def test_a_router_service_in_the_app_keeps_its_name(tmp_path: Path) -> None:
    (tmp_path / "router").mkdir()
    (tmp_path / "router" / "supervisord.conf").write_text("[program:x]\ncommand = node s.js\n")
    (tmp_path / "dotcloud.yml").write_text("router:\n  type: nodejs\n  approot: router\n")
    compose = engine_files(export("compose", tmp_path))["compose.yaml"][0]
    assert set(compose["services"]) == {"router", "dotkit_router"}


def test_the_build_context_lets_only_the_code_in() -> None:
    files = {f.path: f for f in export("compose").files}
    assert files[".dockerignore"].content == b"*\n!app\n"
    assert "app/www/server.js" in files
    dockerfile = files["build/www/Dockerfile"].content.decode()
    assert dockerfile.splitlines()[2] == "FROM dotkit/platform-build:test AS build"
    assert "FROM dotkit/platform:test" in dockerfile


def test_the_image_build_an_export_asks_for() -> None:
    sql = make_plan(services_of(SQL_APP), Options("notes", "compose", IMAGE))
    redis = make_plan(services_of(COUNTER), Options("counter", "compose", IMAGE))
    assert image_build_command(sql, "platform") == "dotkit image build --sql"
    assert image_build_command(sql, "host") == "dotkit image build --node-version host --sql"
    assert image_build_command(redis, "platform") == "dotkit image build"


def test_image_build_from_a_registry_cannot_give_the_sql_image(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["image", "build", "--sql", "--from", "registry.example/platform:1"]) == 2
    assert "--from takes a platform-build image, which has no MariaDB" in capsys.readouterr().err
