"""How a push is orchestrated, with fakes at the seams (clock, platform process, readiness,
hook commands): it deploys; a failure at any step leaves the old revision serving and the
records consistent; a crash at any step boundary is recovered by the next command.

The real thing (node, supervisord, bubblewrap) is tests/e2e/test_push.py and
tests/e2e/test_platform.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kit.sandbox.layout import Layout
from kit.sandbox.push import PushFailed, cleanup_stale, orchestrate, push
from kit.sandbox.push.context import Journal
from kit.sandbox.records import AppRecord, Deployment
from kit.sandbox.state import create_app, list_deployments, load_app
from testing.apps import write_files
from testing.sandbox import FakeClock, FakePlatform, FakeReady, ScriptedRunner, fake_seams

APP = "shop"
YML = """\
www:
  type: nodejs
  approot: www
  process: node server.js
  instances: 2
chat:
  type: nodejs
  approot: chat
  process: node chat.js
  ports:
    irc: tcp
"""
WWW = "require('http').createServer(function (q, s) { s.end('%s'); }).listen(8080);\n"
CHAT = "require('net').createServer(function (c) { c.end('hi'); }).listen(process.env.PORT_IRC);\n"


class Crash(BaseException):
    """The push process killed at this point: nothing of it runs any more."""


@dataclass
class World:
    layout: Layout
    source: Path
    platform: FakePlatform
    ready: FakeReady
    runner: ScriptedRunner
    clock: FakeClock
    push_seams: Any

    def push(self, **how: Any) -> Deployment:
        return push(self.layout, APP, self.source, seams=self.push_seams, **how)

    def version(self, text: str, yml: str = YML) -> None:
        write_files(self.source, {"dotcloud.yml": yml, "www/server.js": WWW % text})

    def recover(self) -> list[str]:
        return cleanup_stale(self.layout, APP, self.platform, self.clock)

    @property
    def containers(self) -> Path:
        return self.layout.app(APP).containers


def make_world(root: Path) -> World:
    """An app created in a sandbox at ``root``, its source v1, fakes at the seams."""
    layout = Layout(root / "home")
    create_app(layout, APP)
    source = write_files(
        root / "src", {"dotcloud.yml": YML, "www/server.js": WWW % "v1", "chat/chat.js": CHAT}
    )
    runner = ScriptedRunner()
    seams = fake_seams(layout, runner)
    assert isinstance(seams.platform, FakePlatform) and isinstance(seams.wait_ready, FakeReady)
    assert isinstance(seams.clock, FakeClock)
    return World(layout, source, seams.platform, seams.wait_ready, runner, seams.clock, seams)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("DOTKIT_BACKEND", "process")  # hooks are plain processes here
    return make_world(tmp_path)


def consistent(world: World) -> AppRecord:
    """The records and what runs agree: every container the app record names runs and is
    routed to, nothing else runs or has a home, and no deployment is left "running"."""
    record = load_app(world.layout, APP)
    deployments = {d.id: d for d in list_deployments(world.layout.app(APP))}
    assert [d.id for d in deployments.values() if d.status == "running"] == []
    named = {cid for cids in record.containers.values() for cid in cids}
    assert set(world.platform.containers) == named
    homes = {p.name for p in world.containers.iterdir()} if world.containers.is_dir() else set()
    assert homes == named
    for service, cids in record.containers.items():
        assert world.platform.serving(f"{service}.http") == list(cids)
    for index, cid in enumerate(record.containers.get("chat", ())):
        assert world.platform.serving(f"chat.irc.{index}") == [cid]  # TCP is never balanced
    if record.current is not None:
        current = deployments[record.current]
        assert (current.status, current.revision) == ("deployed", record.revision)
    return record


def test_a_push_deploys_and_reads_like_the_platform_log(world: World) -> None:
    lines: list[str] = []
    record = push(world.layout, APP, world.source, seams=world.push_seams, echo=lines.append)
    assert record.status == "deployed"
    assert record.id == "d1" and record.revision is not None
    assert record.revision.startswith("rsync-")
    assert sorted(record.instances) == ["chat.0", "www.0", "www.1"]
    assert record.instances["www.1"].cid == "www.1-d1"
    assert record.failed_requests == 0
    # chat's TCP port got the first public port (39000), before the HTTP routes.
    assert record.urls == {"www": "http://127.0.0.1:39001/", "chat": "http://127.0.0.1:39002/"}
    app = consistent(world)
    assert app.containers == {"www": ("www.0-d1", "www.1-d1"), "chat": ("chat.0-d1",)}
    assert app.tcp_ports == {"chat.irc": 42800}
    assert app.public_ports == {"chat.irc.0": 39000}
    assert world.platform.routes["chat.irc.0"]["listen"][0] == "tcp:127.0.0.1:39000"
    said = [line.split(": ", 1)[1] for line in lines]
    assert said[:3] == [
        f'---> Pushed 3 files from "{world.source}" as revision {record.revision}',
        f"---> Deployment d1 of revision {record.revision} scheduled for shop",
        "---> Building the application...",
    ]
    order = [
        "[www] Build started for revision",
        "---> Application build is done",
        "---> Initializing new services... (This may take a few minutes)",
        "[www] Using default scaling for service www (2 instance(s)).",
        "[www.0] Initializing...",
        "[www.0] Launching...",
        "[www.1] Launching...",
        "[chat.0] Launching...",
        "[www.0] Waiting for the instance to become responsive...",
        "[www.0] Instance is responsive (http, 42 ms)",
        "---> All services have been initialized. Switching traffic...",
        "[www.0] Re-routing traffic to the new build...",
        f"[www.1] Successfully deployed build revision {record.revision}",
        "---> Router: 0 failed request(s) while switching to the new containers",
        "---> Application fully deployed",
        "---> www: http://127.0.0.1:39001/",
        "---> Application is live at http://127.0.0.1:39001/",
    ]
    positions = [next(i for i, s in enumerate(said) if s.startswith(o)) for o in order]
    assert positions == sorted(positions)
    env = (world.containers / "www.1-d1" / "environment.json").read_text()
    assert '"DOTCLOUD_SERVICE_ID": "1"' in env and '"PORT_IRC"' not in env


def test_data_moves_to_the_new_container_and_the_downtime_is_reported(world: World) -> None:
    world.push()
    write_files(world.containers / "www.0-d1", {"data/note.txt": "kept"})
    world.version("v2")
    record = world.push()
    assert (world.containers / "www.0-d2" / "data" / "note.txt").read_text() == "kept"
    assert not (world.containers / "www.1-d2" / "data").exists()  # www.1 had none
    assert list(record.downtime) == ["www"] and record.downtime["www"] > 0
    assert load_app(world.layout, APP).current == "d2"
    consistent(world)


def _data_and_v2(world: World) -> None:
    world.push()
    write_files(world.containers / "www.0-d1", {"data/note.txt": "kept"})
    world.version("v2")


def _prebuild(world: World) -> None:
    world.version("v2", YML.replace("  instances: 2\n", "  instances: 2\n  prebuild: ./prep\n"))
    world.runner.script["./prep"] = (3, "prep broke")


def _postinstall(world: World) -> None:
    world.version("v2", YML.replace("  instances: 2\n", "  instances: 2\n  postinstall: ./post\n"))
    world.runner.script["./post"] = (4, "")


FAILURES: dict[str, tuple[Callable[[World], None], str]] = {
    "upload": (
        lambda w: (w.source / "dotcloud.yml").unlink(),
        "no dotcloud.yml in",
    ),
    "build file": (
        lambda w: write_files(
            w.source, {"dotcloud.yml": "www:\n  type: nodejs\n  approot: nowhere\n"}
        ),
        "dotcloud.yml has errors",
    ),
    "build hook": (_prebuild, "prebuild (`./prep`) failed with exit code 3:\n  prep broke"),
    "postinstall": (_postinstall, "postinstall of www.0 exited with status 4"),
    "start": (
        lambda w: w.platform.fail_once("start", lambda a: '"www.1-d2"' in a["spec"]),
        "the platform process could not start",
    ),
    "readiness": (
        lambda w: w.ready.failing.add("www.1"),
        "www.1 is not responsive: the instance did not become responsive within 60 s",
    ),
    "readiness after the data moved": (
        lambda w: w.ready.failing.add("www.0"),
        "www.0 is not responsive",
    ),
    "data move": (
        lambda w: w.platform.fail_once("stop", lambda a: a["cid"] == "www.0-d1"),
        "the platform process could not stop",
    ),
    "switch": (
        lambda w: w.platform.fail_once("route", lambda a: a["name"] == "chat.http"),
        "the platform process could not route",
    ),
}


@pytest.mark.parametrize("step", list(FAILURES))
def test_a_failure_at_any_step_leaves_the_old_revision_serving(world: World, step: str) -> None:
    _data_and_v2(world)
    before = load_app(world.layout, APP)
    make_it_fail, message = FAILURES[step]
    make_it_fail(world)
    with pytest.raises(PushFailed) as failed:
        world.push()
    assert message in str(failed.value)
    assert "The previous revision (if any) is still serving" in str(failed.value)
    assert failed.value.record is not None and failed.value.record.status == "failed"
    after = consistent(world)
    assert (after.current, after.revision, after.containers) == (
        before.current,
        before.revision,
        before.containers,
    )
    assert (world.containers / "www.0-d1" / "data" / "note.txt").read_text() == "kept"
    assert world.platform.serving("www.http") == ["www.0-d1", "www.1-d1"]
    d2 = list_deployments(world.layout.app(APP))[-1]
    assert (d2.id, d2.status) == ("d2", "failed") and d2.error
    world.runner.script.clear()
    world.ready.failing.clear()
    world.version("v3")
    assert world.push().id == "d3"  # and the next push goes through
    consistent(world)


def test_ctrl_c_undoes_the_push(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _data_and_v2(world)

    def interrupted(*args: object, **kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(orchestrate, "await_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        world.push()
    assert consistent(world).current == "d1"
    assert list_deployments(world.layout.app(APP))[-1].error == "interrupted (Ctrl-C)"
    assert (world.containers / "www.0-d1" / "data" / "note.txt").read_text() == "kept"


# The steps of orchestrate.deploy and finish, in order; from "commit" on the push has
# committed, and recovery finishes it rather than undoing it.
STEPS = ["receive", "read_app", "build_all", "plan", "ensure_all", "failed_requests",
         "start_all", "await_all", "switch_all", "commit", "report_downtime", "retire"]  # fmt: skip


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_after_any_step_is_recovered(
    world: World, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _data_and_v2(world)
    original = getattr(orchestrate, step)

    def crash_after(*args: Any, **kw: Any) -> Any:
        original(*args, **kw)
        raise Crash

    monkeypatch.setattr(orchestrate, step, crash_after)
    with pytest.raises(Crash):
        world.push()
    assert list_deployments(world.layout.app(APP))[-1].status == "running"
    assert world.recover() == ["d2"]
    record = consistent(world)
    committed = STEPS.index(step) >= STEPS.index("commit")
    assert record.current == ("d2" if committed else "d1")
    owner = "www.0-d2" if committed else "www.0-d1"
    assert (world.containers / owner / "data" / "note.txt").read_text() == "kept"
    assert world.recover() == []  # nothing left to do


def _journal_writes(world: World, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many times a successful push writes its journal (on a copy of the world)."""
    count = 0
    original = Journal.update

    def counting(self: Journal, **changes: Any) -> None:
        nonlocal count
        count += 1
        original(self, **changes)

    monkeypatch.setattr(Journal, "update", counting)
    world.push()
    monkeypatch.setattr(Journal, "update", original)
    return count


def test_a_crash_at_every_write_of_the_journal_is_recovered(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between any two steps the journal says where the push was: killed right after
    each write, the push is undone (or finished, once committed) by the next command."""
    _data_and_v2(world)
    writes = _journal_writes(world, monkeypatch)
    assert writes > 10
    original = Journal.update
    for crash_at in range(1, writes + 1):
        box = make_world(tmp_path / f"w{crash_at}")
        _data_and_v2(box)
        seen = 0

        def crashing(self: Journal, at: int = crash_at, **changes: Any) -> None:
            nonlocal seen
            original(self, **changes)
            seen += 1
            if seen == at:
                raise Crash

        monkeypatch.setattr(Journal, "update", crashing)
        with pytest.raises(Crash):
            box.push()
        monkeypatch.setattr(Journal, "update", original)
        # (the last write is the record's "deployed": nothing is left to recover then)
        assert box.recover() == ([] if crash_at == writes else ["d2"]), crash_at
        record = consistent(box)
        owner = "www.0-d2" if record.current == "d2" else "www.0-d1"
        assert (box.containers / owner / "data" / "note.txt").read_text() == "kept", crash_at


def test_a_stored_revision_is_deployed_again(world: World) -> None:
    first = world.push()
    world.version("v2")
    world.push()
    assert first.revision is not None
    again = push(world.layout, APP, None, revision=first.revision, seams=world.push_seams)
    assert (again.id, again.revision) == ("d3", first.revision)
    assert consistent(world).revision == first.revision
    with pytest.raises(PushFailed, match="there is no revision rsync-1; dotkit revisions lists"):
        push(world.layout, APP, None, revision="rsync-1", seams=world.push_seams)


def test_a_service_removed_from_the_build_file_keeps_running(world: World) -> None:
    world.push()
    write_files(world.source, {"dotcloud.yml": YML.split("chat:")[0]})
    lines: list[str] = []
    push(world.layout, APP, world.source, seams=world.push_seams, echo=lines.append)
    assert any(
        line.endswith("[chat] service chat is no longer in dotcloud.yml; it keeps running")
        for line in lines
    )
    record = consistent(world)
    assert record.containers["chat"] == ("chat.0-d1",)
    assert [s.name for s in record.services] == ["www"]
