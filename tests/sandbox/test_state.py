"""The sandbox's state: typed records, their versioned files, and damaged files named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.errors import UsageError
from kit.sandbox.backend import ContainerSpec
from kit.sandbox.fields import StateError
from kit.sandbox.folders import connect_folder, find_connected
from kit.sandbox.layout import Layout
from kit.sandbox.records import FORMAT, AppRecord, Deployment, InstanceReady, Move
from kit.sandbox.runtime import Runtime, load_runtime
from kit.sandbox.state import (
    create_app,
    find_deployment,
    list_deployments,
    load_app,
    save_app,
    save_deployment,
    write_json,
)

# What dotkit wrote before state files had a "format" key (format 1).
APP_V1 = {
    "name": "shop",
    "created": 1700000000.5,
    "http_ports": {"www": 40001},
    "tcp_ports": {"chat.irc": 42800},
    "env": {"GREETING": "hi"},
    "scale": {"www": 2},
    "current": "d2",
    "revision": "rsync-1700000000000",
    "next_deployment": 3,
    "containers": {"www": ["www.0-d2", "www.1-d2"], "db": ["db.0-data"]},
    "passwords": {"db": "s3cret"},
    "services": [
        {"name": "www", "type": "nodejs", "approot": "www", "line": 1, "instances": 1,
         "ports": {}, "environment": {"A": "b"}, "process": "node server.js", "processes": {},
         "approot_ok": True, "config": {}, "prebuild": None, "postbuild": None,
         "postinstall": None, "systempackages": []},
        {"name": "db", "type": "redis", "approot": ".", "line": 5, "instances": 1,
         "ports": {}, "environment": {}, "process": None, "processes": {}, "approot_ok": True},
    ],
}  # fmt: skip
DEPLOYMENT_V1 = {
    "id": "d2",
    "number": 2,
    "status": "deployed",
    "started": 1700000001.0,
    "finished": 1700000009.0,
    "clean": False,
    "revision": "rsync-1700000000000",
    "backend": "bwrap",
    "urls": {"www": "http://127.0.0.1:40001/"},
    "instances": {"www.0": {"cid": "www.0-d2", "ready_at": 1700000008.0, "ready_seconds": 0.1}},
    "failed_requests": 0,
}


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path / "home")


def test_files_of_format_1_are_read_and_written_back_as_format_2(layout: Layout) -> None:
    app = layout.app("shop")
    write_json(app.meta, APP_V1)
    write_json(app.deployments / "d2.json", DEPLOYMENT_V1)
    record = load_app(layout, "shop")
    assert record.containers == {"www": ("www.0-d2", "www.1-d2"), "db": ("db.0-data",)}
    assert [(s.name, s.type, s.approot) for s in record.services] == [
        ("www", "nodejs", "www"),
        ("db", "redis", "."),
    ]
    assert record.urls() == {"www": "http://127.0.0.1:40001/"}
    deployment = find_deployment(app, "latest")
    assert deployment.instances == {"www.0": InstanceReady("www.0-d2", 1700000008.0, 0.1)}
    assert deployment.new_containers == () and deployment.downtime == {}
    save_app(layout, record)
    written = json.loads(app.meta.read_text())
    assert written["format"] == FORMAT == 2
    assert load_app(layout, "shop") == record


def test_a_file_from_a_newer_dotkit_is_refused_by_name(layout: Layout) -> None:
    write_json(layout.app("shop").meta, {**APP_V1, "format": 9})
    with pytest.raises(StateError) as refused:
        load_app(layout, "shop")
    assert str(refused.value) == (
        f"{layout.app('shop').meta} is in format 9, which this dotkit cannot read (it reads "
        "formats 1 to 2); was it written by a newer dotkit?"
    )


HINT = "fix it, or start the application over with: dotkit -A shop destroy"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "is empty"),
        ('{"name": "shop", "created": 1', "ends in the middle of its JSON (cut short?)"),
        ("[1, 2]", ': its content should be an object, not [1, 2]'),
        ("{\n  'name': 1}", "is not valid JSON at line 2, column 3"),
        (b"\xff\xfe", "is not UTF-8 text"),
        ('{"created": 1}', ': "name" is missing'),
        ('{"name": "shop", "tcp_ports": {"www.irc": "x"}}', ': "tcp_ports.www.irc" should be a whole number'),
        ('{"name": "shop", "containers": {"www": ["../../etc"]}}', ': "containers.www[0]" should be a container id like www.0-d3, not "../../etc"'),
        ('{"name": "shop", "tcp_ports": {"../x": 1}}', ': "tcp_ports" holds "../x", which is not SERVICE.PORT, like chat.irc'),
        ('{"name": "other"}', ': "name" should be "shop", the folder\'s name'),
        ('{"name": "shop", "current": true}', ': "current" should be a deployment id like d3, not true'),
    ],
)  # fmt: skip
def test_a_damaged_app_record_names_its_file_and_the_way_out(
    layout: Layout, content: str | bytes, problem: str
) -> None:
    path = layout.app("shop").meta
    path.parent.mkdir(parents=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(StateError) as damaged:
        load_app(layout, "shop")
    message = str(damaged.value)
    assert message.startswith(f"{path}{'' if problem.startswith(':') else ' '}{problem}")
    assert message.endswith(HINT)


def test_a_damaged_deployment_record_is_named(layout: Layout) -> None:
    app = layout.app("shop")
    create_app(layout, "shop")
    write_json(app.deployments / "d1.json", {**DEPLOYMENT_V1, "id": "d1", "status": "lost"})
    with pytest.raises(
        StateError, match=r'd1\.json: "status" should be running or deployed or failed'
    ):
        list_deployments(app)


def test_changing_a_record_writes_nothing_until_it_is_saved(layout: Layout) -> None:
    record = create_app(layout, "shop", now=lambda: 5.0)
    before = layout.app("shop").meta.read_bytes()
    ports = iter([39001, 39002])
    changed = (
        record.with_tcp_ports(["chat.irc", "www.a"])
        .with_tcp_ports(["www.a", "www.b"])
        .with_http_port("www", lambda: next(ports))
        .with_http_port("www", lambda: next(ports))
        .with_passwords(["db"], lambda: "pw")
    )
    assert changed.tcp_ports == {"chat.irc": 42800, "www.a": 42801, "www.b": 42802}
    assert changed.http_ports == {"www": 39001}  # assigned once, then kept
    assert changed.passwords == {"db": "pw"}
    assert record == AppRecord("shop", 5.0)
    load_app(layout, "shop").urls()
    assert layout.app("shop").meta.read_bytes() == before


def test_state_files_are_for_their_owner_only(layout: Layout) -> None:
    create_app(layout, "shop")
    assert layout.app("shop").meta.stat().st_mode & 0o777 == 0o600


def _spec(cid: str, app: str = "shop") -> ContainerSpec:
    return ContainerSpec(cid, app, cid.split(".")[0], 0, "/h", "/s", "/v", {"A": "b"}, True,
                         {"irc": 42800}, [], ["/hidden"], "bwrap")  # fmt: skip


def test_a_deployment_keeps_its_journal(layout: Layout) -> None:
    app = layout.app("shop")
    record = Deployment(
        id="d3", number=3, started=1.0, backend="process", new_containers=("www.0-d3",),
        moves=(Move("www.0-d2", "www.0-d3", _spec("www.0-d2")),), switched=("www",),
    )  # fmt: skip
    save_deployment(app, record)
    assert list_deployments(app) == [record]
    assert set(record.public()) == {
        "id", "number", "revision", "status", "started", "finished", "clean", "backend",
        "error", "urls", "instances", "failed_requests", "downtime",
    }  # fmt: skip


def test_the_runtime_of_an_app_holds_only_its_own_containers(layout: Layout) -> None:
    app = layout.app("shop")
    app.root.mkdir(parents=True)
    runtime = Runtime({"www.0-d1": _spec("www.0-d1")})
    write_json(app.runtime, runtime.to_data())
    assert load_runtime(app) == runtime
    write_json(app.runtime, Runtime({"www.0-d1": _spec("www.0-d1", "other")}).to_data())
    with pytest.raises(StateError, match=r"www\.0-d1 belongs to another application"):
        load_runtime(app)
    data = runtime.to_data()
    data["containers"]["www.0-d1"]["backend"] = "lxc"
    write_json(app.runtime, data)
    with pytest.raises(StateError, match=r'"containers\.www\.0-d1\.backend" should be "bwrap", "d'):
        load_runtime(app)
    data["containers"]["www.0-d1"]["backend"] = "docker"  # without its engine and image
    write_json(app.runtime, data)
    with pytest.raises(StateError, match=r'"containers\.www\.0-d1\.engine"'):
        load_runtime(app)


def test_a_connected_folder_is_the_real_cli_s_file(tmp_path: Path) -> None:
    connect_folder(tmp_path, "shop", "git")
    assert json.loads((tmp_path / ".dotcloud" / "config").read_text()) == {
        "application": "shop",
        "version": "0.9.8",
        "push_protocol": "git",
        "push_branch": None,
    }
    found = find_connected(tmp_path / "deeper")
    assert found is not None and found[1].push_protocol == "git"
    write_json(tmp_path / ".dotcloud" / "config", {"application": "../../etc"})
    with pytest.raises(
        StateError, match=r'"application" should be an application name, not "\.\./\.\./etc"'
    ):
        find_connected(tmp_path)


def test_a_missing_app_is_a_usage_error(layout: Layout) -> None:
    with pytest.raises(UsageError, match='there is no application "ghost"'):
        load_app(layout, "ghost")
