"""`dotkit push` and `dotkit deploy` as text and as JSON (the push itself with fakes at the
seams, see test_push_orchestration.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.paths import dotkit_home
from kit.sandbox.layout import Layout
from kit.sandbox.push import background, orchestrate
from testing.apps import write_files
from testing.sandbox import FakeReady, fake_seams

YML = "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
SERVER = "require('http').createServer(function (q, s) { s.end('hi'); }).listen(8080);\n"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli) -> Iterator[Path]:
    monkeypatch.setenv("DOTKIT_BACKEND", "process")
    seams = fake_seams(Layout(dotkit_home()))
    monkeypatch.setattr(orchestrate, "system", lambda layout: seams)
    # The push runs here, with the fakes, instead of in a process of its own.
    monkeypatch.setattr(background, "launch", background.inline)
    folder = write_files(tmp_path / "shop", {"dotcloud.yml": YML, "www/server.js": SERVER})
    old = Path.cwd()
    os.chdir(folder)
    assert cli("create", "shop").code == 0
    yield folder
    os.chdir(old)


def test_push_prints_the_log_then_the_urls(app: Path, cli) -> None:
    done = cli("push")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[:2] == [
        f'==> Pushing code with rsync from "{app}" to application shop',
        "==> Submitting a deployment request for application shop",
    ]
    assert lines[-4:] == [
        "",
        "Deployment finished. Your application is available at the following URLs",
        "www: http://127.0.0.1:39000/",
        "Stop everything with: dotkit destroy",
    ]
    assert "Application fully deployed" in done.out and done.err == ""


def test_push_as_json_prints_the_record_and_logs_to_stderr(app: Path, cli) -> None:
    done = cli("push", "--format", "json")
    assert done.code == 0, done.err
    record = json.loads(done.out)
    assert sorted(record) == sorted([
        "id", "number", "revision", "status", "started", "finished", "clean", "backend",
        "error", "urls", "instances", "failed_requests", "downtime", "log",
    ])  # fmt: skip
    assert (record["id"], record["status"], record["error"]) == ("d1", "deployed", None)
    assert record["urls"] == {"www": "http://127.0.0.1:39000/"}
    assert record["instances"]["www.0"]["cid"] == "www.0-d1"
    assert record["instances"]["www.0"]["ready_seconds"] == 0.0421
    assert record["failed_requests"] == 0 and record["downtime"] == {}
    assert (
        Path(record["log"])
        .read_text()
        .splitlines()[-1]
        .endswith("---> Application is live at http://127.0.0.1:39000/")
    )
    assert "==> Pushing code with rsync" in done.err and "Application fully deployed" in done.err
    again = cli("deploy", "latest", "--format", "json")
    assert again.code == 0, again.err
    assert json.loads(again.out)["revision"] == record["revision"]


def test_a_failed_push_as_json_still_prints_its_record(app: Path, cli) -> None:
    seams = orchestrate.system(Layout(dotkit_home()))
    assert isinstance(seams.wait_ready, FakeReady)
    seams.wait_ready.failing.add("www.0")
    done = cli("push", "--format", "json")
    assert done.code == 2  # the 0.9.8 CLI's status for a failed deployment
    record = json.loads(done.out)
    assert record["status"] == "failed"
    assert record["error"].startswith("www.0 is not responsive")
    assert "dotkit: error: the push failed: www.0 is not responsive" in done.err
