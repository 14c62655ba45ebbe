"""A push that outlives its client: the push process's lines, and what the client makes of
them (the real thing, a push that goes on after Ctrl-C, is tests/e2e/test_fidelity.py)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.errors import OperationFailed
from kit.sandbox.layout import Layout
from kit.sandbox.push import background, orchestrate
from kit.sandbox.push.background import Job, Relayed, StreamClosed, Teller, follow, run
from kit.sandbox.push.context import PushFailed
from kit.sandbox.records import Deployment
from kit.sandbox.state import create_app
from testing.apps import write_files
from testing.sandbox import FakeReady, fake_seams

RECORD = Deployment(id="d4", number=4, started=1.0, backend="bwrap", status="deployed")
JOB = Job(home="/nowhere", app="shop", source="/src")


def _lines(*items: str) -> Iterator[str]:
    yield from items


def test_the_client_relays_the_log_and_returns_the_record() -> None:
    said: list[str] = []
    record = follow(
        _lines(
            "id d4", "log 10:00:00.000000: ---> Building", f"done {json.dumps(RECORD.to_data())}"
        ),
        said.append,
        JOB,
    )
    assert record == RECORD
    assert said == ["10:00:00.000000: ---> Building"]


def test_a_failed_push_is_a_push_failure_with_its_record_and_status_2() -> None:
    failed = {
        "message": "the push failed: boom",
        "record": {**RECORD.to_data(), "status": "failed"},
    }
    with pytest.raises(PushFailed) as caught:
        follow(_lines("id d4", f"failed {json.dumps(failed)}"), lambda line: None, JOB)
    assert str(caught.value) == "the push failed: boom"
    assert caught.value.record is not None and caught.value.record.status == "failed"
    assert caught.value.exit_code == 2


def test_a_push_that_could_not_start_keeps_its_reason_and_status() -> None:
    error = {"message": 'another push to "shop" is running', "exit": 2}
    with pytest.raises(Relayed) as caught:
        follow(_lines(f"error {json.dumps(error)}"), lambda line: None, JOB)
    assert (str(caught.value), caught.value.exit_code) == ('another push to "shop" is running', 2)


def test_ctrl_c_stops_the_stream_and_says_so_as_the_real_cli_did() -> None:
    def stream() -> Iterator[str]:
        yield "id d7"
        yield "log building"
        raise KeyboardInterrupt

    with pytest.raises(StreamClosed) as caught:
        follow(stream(), lambda line: None, JOB)
    assert str(caught.value) == (
        "You've closed your log stream with Ctrl-C, but the deployment is still running in "
        "the background.\nIf you want to continue following your deployment, try:\n"
        "dotkit dlogs d7"
    )
    assert caught.value.exit_code == 130


def test_a_broken_pipe_stops_the_stream_not_the_push(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "_quiet_stdout", lambda: None)

    def echo(line: str) -> None:
        raise BrokenPipeError

    with pytest.raises(StreamClosed) as caught:
        follow(_lines("id d2", "log one"), echo, JOB)
    assert "the deployment is still running in the background" in str(caught.value)
    assert str(caught.value).endswith("dotkit dlogs d2") and caught.value.exit_code == 1


def test_a_push_process_that_ends_without_a_result_is_reported() -> None:
    with pytest.raises(OperationFailed, match="dotkit -A shop dlogs d3"):
        follow(_lines("id d3", "log half"), lambda line: None, JOB)


def test_the_push_process_writes_nothing_once_its_client_is_gone() -> None:
    read, write = os.pipe()
    out = os.fdopen(write, "w")
    tell = Teller(out)
    tell("log", "first")
    assert os.read(read, 100) == b"log first\n"
    os.close(read)  # the client went away
    tell("log", "second")  # no exception: the push goes on
    tell("done", "{}")
    assert tell.out is None


def test_the_push_process_tells_its_id_log_and_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOTKIT_BACKEND", "process")
    layout = Layout(tmp_path / "home")
    create_app(layout, "shop")
    seams = fake_seams(layout)
    monkeypatch.setattr(orchestrate, "system", lambda lay: seams)
    source = write_files(
        tmp_path / "src",
        {
            "dotcloud.yml": "www:\n  type: nodejs\n  process: node s.js\n",
            "s.js": "require('http').createServer().listen(8080);\n",
        },
    )
    job = Job(home=str(layout.home), app="shop", source=str(source))
    out = io.StringIO()
    assert run(job, Teller(out)) == 0
    kinds = [line.split(" ", 1)[0] for line in out.getvalue().splitlines()]
    assert kinds[0] == "id" and kinds[-1] == "done" and set(kinds[1:-1]) == {"log"}
    assert json.loads(out.getvalue().splitlines()[-1][5:])["status"] == "deployed"

    assert isinstance(seams.wait_ready, FakeReady)
    seams.wait_ready.failing.add("www.0")
    out = io.StringIO()
    assert run(job, Teller(out)) == 2
    last = json.loads(out.getvalue().splitlines()[-1].split(" ", 1)[1])
    assert last["message"].startswith("the push failed: www.0 is not responsive")
    assert last["record"]["status"] == "failed"


def test_a_stream_closed_before_the_push_has_an_id_waits_for_it() -> None:
    def stream() -> Iterator[str]:
        yield "log uploading"
        raise KeyboardInterrupt

    with pytest.raises(StreamClosed) as caught:
        follow(stream(), lambda line: None, JOB, later=lambda: _lines("log more", "id d9"))
    assert str(caught.value).endswith("dotkit dlogs d9")
