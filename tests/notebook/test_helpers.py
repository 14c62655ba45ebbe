"""The notebooks' helpers (testing/notebook): tables, records, the load's arithmetic, clean-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from kit.findings import Finding
from testing.notebook import Deployment, Findings, Sandbox, Table, Terms, diff, recap
from testing.notebook.load import Load, Request, process_label
from testing.notebook.run import Terminal, tool_env
from testing.notebook.tables import Link, Picture

RECORD = {
    "backend": "bwrap",
    "clean": False,
    "failed_requests": 0,
    "finished": 1000.0 + 3.25,
    "id": "d2",
    "instances": {
        "gear1.0": {"cid": "gear1.0-d2", "ready_at": 1002.5, "ready_seconds": 0.036},
    },
    "number": 2,
    "revision": "git-7c97658",
    "started": 1000.0,
    "status": "deployed",
    "urls": {"gear1": "http://127.0.0.1:37253/"},
    "downtime": {"www": 1.5},
}


def test_a_table_is_text_and_html_with_folded_details() -> None:
    table = Table(
        ["a", "b & c"],
        [("1", Link("<x>", "../docs/rules/x.md"))],
        title="T",
        details=[("why", "fix")],
    )
    assert repr(table) == "T\na  b & c\n-  -----\n1  <x>\n    why\n    fix"
    page = table._repr_html_()
    assert '<a href="../docs/rules/x.md">&lt;x&gt;</a>' in page
    assert "<details><summary>why</summary><div>fix</div></details>" in page
    assert "b &amp; c" in page and "overflow-x:auto" in page
    assert "Machine" in repr(Terms()) and "<table" in Terms()._repr_html_()


def test_findings_link_each_rule_to_its_page() -> None:
    findings = Findings(
        [Finding("http-port-not-8080", "error", "Gear1/server.js", 24, 8, "listens on 3535", "")],
        "verify app",
    )
    assert repr(findings).splitlines()[0] == "verify app: 1 error, 0 warnings, 0 notes"
    assert "Gear1/server.js:24:8" in repr(findings)
    assert 'href="../docs/rules/http-port-not-8080.md"' in findings._repr_html_()
    assert repr(Findings([], "verify app")) == "verify app: no problems found"


def test_findings_from_json_ignore_keys_they_do_not_know() -> None:
    item = {"rule": "yaml-tab", "severity": "error", "path": "dotcloud.yml", "line": 3}
    (finding,) = Findings.from_json([{**item, "column": 1, "message": "m", "new": 1}])
    assert finding.location == "dotcloud.yml:3:1"


def test_a_deployment_reads_its_record(tmp_path: Path) -> None:
    (tmp_path / "d2.json").write_text(json.dumps(RECORD))
    (tmp_path / "d2.log").write_text("12:00:00.000001: ---> Application fully deployed\n")
    push = Deployment.read(tmp_path / "d2.json")
    assert (push.id, push.revision, push.ok, push.seconds) == ("d2", "git-7c97658", True, 3.25)
    assert push.instance("gear1.0").cid == "gear1.0-d2"
    assert push.lines("fully deployed") == ["12:00:00.000001: ---> Application fully deployed"]
    assert repr(push).splitlines() == [
        "push d2 of revision git-7c97658: deployed in 3.25 s",
        "  router: 0 failed requests while switching",
        "  ~/data: www was down for 1.50 s",
        "instance  container   first answer",
        "--------  ----------  ------------",
        "gear1.0   gear1.0-d2  36 ms after it started",
    ]
    failed = Deployment({"id": "d1", "status": "failed", "error": "www.0 is not responsive\nmore"})
    assert "error: www.0 is not responsive" in repr(failed)
    assert not failed.ok and failed.seconds is None


def _request(start: float, end: float, who: str, status: int | None = 200) -> Request:
    return Request("slow 1", "slow", start, end, status, "" if status else "refused", who)


def test_the_load_finds_the_switch_and_the_requests_across_it() -> None:
    load = Load("http://127.0.0.1:1/")
    load.requests = [
        _request(1000.1, 1000.2, "old"),
        _request(1000.3, 1001.2, "old"),  # sent before the switch, answered after it
        _request(1000.9, 1001.0, "new"),  # the first answer of the new process
        _request(1001.1, 1001.15, "old"),  # a connection opened before the switch
        _request(1001.2, 1001.4, "", None),
    ]
    assert load.labels == ["old", "new"]
    assert load.switch_at() == 1000.9
    assert [r.start for r in load.across_switch()] == [1000.3]
    assert [r.start for r in load.kept_on_old()] == [1001.1]
    assert len(load.failed) == 1
    assert load.longest_gap() == pytest.approx(0.8)  # no answer from 1000.2 to 1001.0
    summary = load.summary(Deployment(RECORD))
    assert "sent 5 requests" in summary and "failed: 1 requests" in summary
    assert "in flight across the switch: 1 requests" in summary
    assert "traffic moved to the new container 0.90 s into the push" in summary


def test_the_process_that_answered_comes_from_the_body() -> None:
    assert process_label(b'{"started": "2026-12-03T09:22:44.138Z"}') == "2026-12-03T09:22:44.138Z"
    assert process_label(b'{"instance": "0"}') == "0"
    assert process_label(b"not json") == process_label(b"[1]") == ""


def test_a_recap_knows_only_listed_claims() -> None:
    assert "no downtime" in repr(recap({"zero-downtime": "0 failed"}))
    assert 'href="../docs/guide.md#' in recap({"zero-downtime": "0 failed"})._repr_html_()
    with pytest.raises(KeyError, match="not-a-claim"):
        recap({"not-a-claim": "x"})


def test_a_picture_shows_its_description_as_text() -> None:
    picture = Picture(b"\x89PNG", "the stack")
    assert repr(picture) == "[picture] the stack"
    assert picture._repr_png_() == b"\x89PNG"


def test_a_diff_reads_like_git(tmp_path: Path) -> None:
    assert diff("a\nb\n", "a\nc\n", "x.js") == "--- a/x.js\n+++ b/x.js\n@@ -1,2 +1,2 @@\n a\n-b\n+c"


def test_a_terminal_runs_lines_and_keeps_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "app").mkdir()
    term = Terminal(tmp_path, tool_env(os.environ, tmp_path / "home", Path(sys.executable).parent))
    term("cd app")
    done = term("pwd; echo oops >&2; exit 3")
    assert done.code == 3 and done.out == f"{tmp_path / 'app'}\noops\n"
    assert capsys.readouterr().out.endswith(f"# exit 3\n{tmp_path / 'app'}\noops\n")
    with pytest.raises(FileNotFoundError):
        term("cd missing")


def test_a_sandbox_closes_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    box = Sandbox("unit")
    assert box.root.parent == tmp_path and box.work.is_dir()
    closed = box.close()
    assert repr(closed).splitlines() == [
        "applications destroyed: none",
        "platform process still running: no",
        "processes left behind: 0",
        "temporary DOTKIT_HOME removed: yes",
    ]


def test_a_killed_kernel_still_cleans_up(tmp_path: Path) -> None:
    """The watchdog removes the sandbox when the process that made it is killed outright."""
    child = (
        "import os, signal\n"
        "from testing.notebook import Sandbox\n"
        "box = Sandbox('killed')\n"
        "print(box.root, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == -9, done.stderr
    root = Path(done.stdout.strip())
    assert root.parent == tmp_path
    deadline = time.monotonic() + 20
    while root.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not root.exists()
