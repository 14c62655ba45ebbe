"""The tutorial notebooks: every claim of the porting guide is demonstrated, outputs are stored.

nbval runs the notebooks themselves (scripts/notebooks.sh); these tests check what
can be checked without running them, and the helpers in kit.notebook.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kit.findings import Finding
from kit.notebook import Findings, PushSummary, Run, Table, Terms, stable

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CLAIM = re.compile(r"^\s*#\s*claim:\s*(\S+)\s*$", re.MULTILINE)
TUTORIALS = [
    "01-translating-terms.ipynb",
    "02-some-differences.ipynb",
    "03-preparing-the-code.ipynb",
    "04-torque-to-dotcloud-yml.ipynb",
    "05-ports.ipynb",
    "06-create-push-logs.ipynb",
    "07-support.ipynb",
]


def _claims() -> list[dict[str, str]]:
    data = yaml.safe_load((NOTEBOOKS / "claims.yml").read_text(encoding="utf-8"))
    return list(data["claims"])


def _cells(name: str) -> list[dict[str, Any]]:
    notebook = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    return list(notebook["cells"])


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def _source(cell: dict[str, Any]) -> str:
    return _text(cell.get("source", ""))


def _demonstrated() -> dict[str, set[str]]:
    """Claim id -> the notebooks with a code cell that names it."""
    found: dict[str, set[str]] = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in _cells(path.name):
            if cell["cell_type"] == "code":
                for claim in CLAIM.findall(_source(cell)):
                    found.setdefault(claim, set()).add(path.name)
    return found


def test_the_tutorials_exist_in_the_guides_order() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("0[1-9]-*.ipynb")) == TUTORIALS


def test_claims_are_well_formed() -> None:
    claims = _claims()
    ids = [c["id"] for c in claims]
    assert len(ids) == len(set(ids)), "duplicate claim ids"
    for claim in claims:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", claim["id"]), claim
        assert claim["notebook"] in TUTORIALS, claim
        assert claim["statement"].strip(), claim
        assert claim["section"].strip(), claim
        assert claim["sandbox"] in ("same", "differs"), claim
        if claim["sandbox"] == "differs":
            assert claim.get("note", "").strip(), f"{claim['id']}: say how the sandbox differs"


def test_every_claim_is_demonstrated_in_its_notebook() -> None:
    demonstrated = _demonstrated()
    missing = [
        f"{c['id']} (expected in {c['notebook']})"
        for c in _claims()
        if c["notebook"] not in demonstrated.get(c["id"], set())
    ]
    assert missing == []


def test_every_claim_a_cell_names_is_listed() -> None:
    listed = {c["id"] for c in _claims()}
    assert sorted(set(_demonstrated()) - listed) == []


@pytest.mark.parametrize("name", TUTORIALS)
def test_a_notebook_is_stored_run_and_cleans_up(name: str) -> None:
    cells = _cells(name)
    assert _source(cells[0]).startswith("# "), "the first cell is the title"
    code = [c for c in cells if c["cell_type"] == "code"]
    # nbval compares the stored outputs, so every code cell must have been run, in order.
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        tags = cell.get("metadata", {}).get("tags", [])
        assert "nbval-skip" not in tags, _source(cell)
        if "nbval-ignore-output" in tags:
            assert "# nbval-ignore-output:" in _source(cell), "say why the output is ignored"
    assert "Sandbox(" in _source(code[0])
    assert _source(code[-1]).strip() == "box.close()"
    closed = "".join(_text(o.get("data", {}).get("text/plain", "")) for o in code[-1]["outputs"])
    assert "processes left behind: 0" in closed
    assert "temporary DOTKIT_HOME removed: yes" in closed


@pytest.mark.parametrize("name", TUTORIALS)
def test_stored_outputs_hold_nothing_that_changes_between_runs(name: str) -> None:
    text = json.dumps([c.get("outputs", []) for c in _cells(name)])
    assert not re.search(r"/tmp/|http://127\.0\.0\.1:\d|\d\d:\d\d:\d\d\.\d{6}", text)
    assert "Traceback" not in text and '"output_type": "error"' not in text


def test_sanitize_file_pairs_every_regex_with_a_replacement() -> None:
    lines = (NOTEBOOKS / "sanitize.cfg").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("regex: "):
            assert lines[index + 1].startswith("replace: "), line
            re.compile(line.removeprefix("regex: "))


# --- kit.notebook --------------------------------------------------------------------------------


def test_stable_hides_clocks_ports_revisions_and_paths(tmp_path: Path) -> None:
    text = (
        f'07:59:38.752958: ---> Pushed 14 files from "{tmp_path}/app" as revision '
        "rsync-1795766378748\n"
        "[gear1.0] Instance is responsive (http, 602 ms)\n"
        "gear1: http://127.0.0.1:52377/\n"
        "    node         RUNNING   pid 4, uptime 0:00:03\n"
    )
    assert stable(text, tmp_path) == (
        '---> Pushed 14 files from "<tmp>/app" as revision rsync-<ms>\n'
        "[gear1.0] Instance is responsive (http, <time>)\n"
        "gear1: http://127.0.0.1:<port>/\n"
        "    node         RUNNING   pid <n>, uptime <t>\n"
    )


def test_a_table_is_text_and_html() -> None:
    table = Table(["a", "b & c"], [("1", "<x>")], title="T", text_columns=(0,))
    assert repr(table) == "T\na\n-\n1"
    assert "<th" in table._repr_html_() and "&lt;x&gt;" in table._repr_html_()
    assert "b &amp; c" in table._repr_html_()
    assert "Machine" in repr(Terms()) and "<table>" in Terms()._repr_html_()


def test_findings_show_rule_and_place() -> None:
    findings = Findings(
        [Finding("http-port-not-8080", "error", "Gear1/server.js", 24, 8, "listens on 3535", "")],
        "verify app",
    )
    assert repr(findings).splitlines()[0] == "verify app: 1 error(s), 0 warning(s), 0 note(s)"
    assert "Gear1/server.js:24:8" in repr(findings)
    assert repr(Findings([], "verify app")) == "verify app: no problems found"


def test_a_push_summary_reads_the_push_log() -> None:
    out = (
        "---> Deployment d2 of revision rsync-1 scheduled for app\n"
        "[www] Build started for revision rsync-1\n"
        "[www] Build cache: restoring the previous build snapshot: package.json unchanged\n"
        "[www] npm install skipped: package.json unchanged, node_modules come from the snapshot\n"
        "[www.0] Instance is responsive (http, 12 ms)\n"
        "[www] ~/data: the service was down for 1.25 s during this push\n"
        "---> Router: 0 failed request(s) while switching to the new containers\n"
    )
    push = PushSummary(Run(("dotkit", "push"), 0, out, ""), 1.0)
    assert (push.deployment, push.revision, push.ok, push.downtime) == ("d2", "rsync", True, 1.25)
    assert push.build("www") == ("www", "restored", "skipped", ())
    assert push.router_failed == 0
    assert repr(push).splitlines()[0] == "push d2 (rsync revision): deployed"
    failed = PushSummary(
        Run(
            ("dotkit", "push"),
            1,
            "",
            "dotkit: error: the push failed: www.0 is not responsive\n"
            "What dotkit verify says:\n"
            "  www/server.js:3:8: [http-port-not-8080] listens on 3535\n",
        ),
        1.0,
    )
    assert failed.error == "the push failed: www.0 is not responsive"
    assert failed.explained_by == ["http-port-not-8080 at www/server.js:3:8"]


def test_a_killed_kernel_still_cleans_up(tmp_path: Path) -> None:
    """The watchdog removes the sandbox when the process that made it is killed outright."""
    child = (
        "import os, signal\n"
        "from kit.notebook import Sandbox\n"
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
