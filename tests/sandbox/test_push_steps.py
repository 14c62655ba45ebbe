"""Single steps of a push, on their own: routes, uploads, homes written once."""

from __future__ import annotations

import os
from pathlib import Path

from kit.sandbox.backend import ContainerSpec
from kit.sandbox.layout import Layout
from kit.sandbox.push.home import File, Home, write_new, write_over
from kit.sandbox.push.switch import RouteCall, routes_for
from kit.sandbox.push.upload import drop_unsafe_links, upload
from kit.sandbox.seams import HOST
from testing.apps import write_files
from testing.sandbox import FakeClock


def test_routes_of_a_scaled_service_with_a_tcp_port(tmp_path: Path) -> None:
    public = {"irc.0": 17455, "irc.1": 17456}
    calls = routes_for(tmp_path, "chat", 39000, {"irc": 42800}, ["chat.0-d2", "chat.1-d2"], public)
    assert calls == [
        RouteCall(
            "chat.http",
            ["tcp:127.0.0.1:39000", f"unix:{tmp_path}/chat.http.sock"],
            ["container:chat.0-d2:8080", "container:chat.1-d2:8080"],
        ),
        # TCP is never balanced: one route per instance, on its own public port.
        RouteCall(
            "chat.irc.0",
            ["tcp:127.0.0.1:17455", f"unix:{tmp_path}/chat.irc.0.sock"],
            ["container:chat.0-d2:42800"],
        ),
        RouteCall(
            "chat.irc.1",
            ["tcp:127.0.0.1:17456", f"unix:{tmp_path}/chat.irc.1.sock"],
            ["container:chat.1-d2:42800"],
        ),
    ]
    assert [c.name for c in routes_for(tmp_path, "www", 1, {}, ["www.0-d2"])] == ["www.http"]


def test_an_upload_leaves_out_what_the_platform_s_uploader_did(tmp_path: Path) -> None:
    source = write_files(
        tmp_path / "src",
        {
            "dotcloud.yml": "x",
            "www/a.js": "a",
            "www/b.pyc": "",
            "notes.tmp": "",
            "logs/app.log": "",
            ".dotcloudignore": "; a comment, as rsync reads it\n*.tmp\n",
            ".gitignore": "logs/\n",
            ".git/config": "",
            "www/.hg/store": "",
            "www/node_modules/dep/index.js": "",
        },
    )
    os.mkfifo(source / "www" / "pipe")
    (source / "www" / "inside").symlink_to("a.js")
    (source / "www" / "outside").symlink_to("../../elsewhere")
    (source / "www" / "absolute").symlink_to("/etc/passwd")
    app = Layout(tmp_path / "home").app("shop")
    rev, dest = upload(source, app, git=False, runner=HOST, clock=FakeClock(start=1700000000.0))
    assert rev == "rsync-1700000000250"
    assert drop_unsafe_links(dest) == ["www/absolute", "www/outside"]
    found = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if not p.is_dir())
    # .gitignore is not read (the CLI's rsync never did), node_modules goes like any
    # folder; .git, .hg, *.pyc and the .dotcloudignore patterns stay; so does a FIFO.
    assert found == [
        ".dotcloudignore", ".gitignore", "dotcloud.yml", "logs/app.log", "www/a.js",
        "www/inside", "www/node_modules/dep/index.js",
    ]  # fmt: skip


def _home(tmp_path: Path, cid: str) -> Home:
    layout = Layout(tmp_path / "home")
    app = layout.app("shop")
    spec = ContainerSpec(
        cid, "shop", cid.split(".")[0], 0, str(app.container(cid)),
        str(layout.container_sockets("shop", cid)), str(layout.service_sockets("shop")),
        {}, True, {}, [], [], "process",
    )  # fmt: skip
    return Home(spec, (File("environment.json", "{}\n"), File(".dotkit/spec.json", spec.to_json())))


def test_a_new_home_is_written_whole_beside_its_place_then_renamed(tmp_path: Path) -> None:
    snapshot = write_files(
        tmp_path / "snap", {"code/www/a.js": "a", ".npm/cache": "x", ".dotkit/key": "k"}
    )
    (snapshot / "current").symlink_to("code/www")
    home = _home(tmp_path, "www.0-d1")
    final = Path(home.spec.home)
    write_files(final.with_name(".www.0-d1.new"), {"half": "left by a crash"})
    write_new(home, snapshot, HOST)
    assert sorted(p.name for p in final.iterdir()) == [
        ".dotkit",
        "code",
        "current",
        "environment.json",
    ]
    assert (final / "current" / "a.js").read_text() == "a"
    assert sorted(p.name for p in (final / ".dotkit").iterdir()) == ["log", "spec.json"]
    assert not final.with_name(".www.0-d1.new").exists()
    assert Path(home.spec.sockets).is_dir()


def test_a_data_service_home_keeps_its_data(tmp_path: Path) -> None:
    home = _home(tmp_path, "db.0-data")
    assert write_over(home) is True  # new data
    write_files(Path(home.spec.home), {"data/dump.rdb": "kept", "environment.json": "old"})
    assert write_over(home) is False
    root = Path(home.spec.home)
    assert (root / "data" / "dump.rdb").read_text() == "kept"
    assert (root / "environment.json").read_text() == "{}\n"


def test_a_link_left_at_a_platform_file_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = write_files(tmp_path, {"victim.txt": "untouched\n"}) / "victim.txt"
    snapshot = write_files(tmp_path / "snap", {"code/a.js": "a"})
    (snapshot / "environment.json").symlink_to(victim)
    home = _home(tmp_path, "www.0-d1")
    write_new(home, snapshot, HOST)
    written = Path(home.spec.home) / "environment.json"
    assert not written.is_symlink() and written.read_text() == "{}\n"
    store = _home(tmp_path, "db.0-data")
    Path(store.spec.home).mkdir(parents=True)
    (Path(store.spec.home) / "environment.json").symlink_to(victim)
    write_over(store)
    assert victim.read_text() == "untouched\n"
