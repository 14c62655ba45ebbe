"""The convert command's promises: dry runs, overwrites, --strict, --fix, JSON, secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import make_app

SERVER = "require('http').createServer(function (q, s) { s.end('ok'); }).listen(8080);\n"


def test_dry_run_prints_a_diff_and_writes_nothing(guide_app: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    result = cli("convert", guide_app, "-o", out, "--dry-run", "--fix")
    assert result.code == 0
    assert not out.exists()
    assert "--- /dev/null\n+++ b/dotcloud.yml\n" in result.out
    assert '+    MONGO_HOST: "pearl.mongohq.com"\n' in result.out
    assert "--- a/Gear1/.torque\n+++ /dev/null\n" in result.out
    assert "--- a/Gear1/server.js\n+++ b/Gear1/server.js\n" in result.out
    assert "-server.listen(3535);\n+server.listen(8080);\n" in result.out
    assert result.out.rstrip().endswith("Dry run: nothing was written.")


def test_default_output_is_beside_the_source(guide_app: Path, cli) -> None:
    result = cli("convert", guide_app)
    assert result.code == 0
    assert (guide_app.parent / "nodesocket-guide-dotcloud" / "dotcloud.yml").is_file()


def test_existing_output_needs_force(guide_app: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    assert cli("convert", guide_app, "-o", out).code == 0
    (out / "extra.txt").write_text("from an earlier run")
    again = cli("convert", guide_app, "-o", out)
    assert again.code == 2
    assert (
        f"dotkit: error: {out} already exists; add --force to update it (your own files there "
        "are kept), or choose another -o" in again.err
    )
    assert (out / "extra.txt").exists()
    forced = cli("convert", guide_app, "-o", out, "--force")
    assert forced.code == 0
    assert (out / "extra.txt").read_text() == "from an earlier run"  # the user's: kept
    assert "Kept what the conversion did not write: extra.txt." in forced.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nodesocket-guide", "out"]


def test_force_never_replaces_a_folder_that_is_not_a_conversion(
    guide_app: Path, tmp_path: Path, cli
) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    result = cli("convert", guide_app, "-o", precious, "--force")
    assert result.code == 2
    assert (
        "is not empty and holds no earlier conversion (no .dotkit/convert.json, no "
        "dotcloud.yml); refusing to write into it even with --force" in result.err
    )
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_output_may_not_contain_the_source(guide_app: Path, cli) -> None:
    result = cli("convert", guide_app, "-o", guide_app.parent, "--force")
    assert result.code == 2
    assert "would contain or replace the source app" in result.err


def test_output_inside_the_source_is_left_out_of_the_copy(guide_app: Path, cli) -> None:
    out = guide_app / "dotcloud-out"
    assert cli("convert", guide_app, "-o", out).code == 0
    assert not (out / "dotcloud-out").exists()


def test_strict_fails_on_loss_and_writes_nothing(guide_app: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    result = cli("convert", guide_app, "-o", out, "--strict")
    assert result.code == 1
    assert not out.exists()
    assert "--strict: 4 item(s) dropped or left for a manual step; nothing written." in result.out


def test_strict_passes_on_a_lossless_app(tmp_path: Path, cli) -> None:
    app = make_app(
        tmp_path / "app",
        {"web": {".torque": '{"start": "server.js", "env": {"A": "1"}}', "server.js": SERVER}},
    )
    result = cli("convert", app, "-o", tmp_path / "out", "--strict")
    assert result.code == 0, result.out
    assert (tmp_path / "out" / "dotcloud.yml").exists()


def test_json_report_is_one_document(guide_app: Path, tmp_path: Path, cli) -> None:
    result = cli("convert", guide_app, "-o", tmp_path / "out", "--format", "json")
    doc = json.loads(result.out)
    assert doc["written"] is True
    assert doc["summary"] == {
        "services": 2,
        "converted": 3,
        "changed": 5,
        "dropped": 3,
        "manual": 1,
        "errors": 1,
        "warnings": 0,
        "infos": 1,
        "files_fixed": 0,
    }
    manual = [r for r in doc["rows"] if r["action"] == "manual"]
    assert manual == [
        {
            "gear": "Gear1",
            "service": "gear1",
            "source": "listen(3535)",
            "action": "manual",
            "old": "listen(3535)",
            "new": "listen(8080)",
            "source_path": "Gear1/server.js",
            "source_line": 24,
            "target_path": None,
            "target_line": None,
            "reason": "the HTTP server listens on 3535; on dotCloud it must listen on 8080",
            "guide": "Update Your Code to Listen on Port 8080",
        }
    ]


def test_fix_is_idempotent_and_leaves_the_source_alone(
    guide_app: Path, tmp_path: Path, cli
) -> None:
    before = (guide_app / "Gear1" / "server.js").read_bytes()
    out = tmp_path / "out"
    first = cli("convert", guide_app, "-o", out, "--fix", "--format", "json")
    assert json.loads(first.out)["edits"] == [
        {
            "path": "Gear1/server.js",
            "changes": ["Gear1/server.js:24:15: listen(3535) -> listen(8080)"],
        }
    ]
    fixed = (out / "Gear1" / "server.js").read_bytes()
    assert fixed == before.replace(b"server.listen(3535);", b"server.listen(8080);")
    assert (guide_app / "Gear1" / "server.js").read_bytes() == before

    # Converting the fixed code again finds nothing left to fix.
    (guide_app / "Gear1" / "server.js").write_bytes(fixed)
    second = cli("convert", guide_app, "-o", out, "--fix", "--force", "--format", "json")
    doc = json.loads(second.out)
    assert doc["edits"] == []
    assert [f["rule"] for f in doc["findings"]] == ["port-dropped"]


def test_tcp_gear_gets_a_port_and_a_finding(tmp_path: Path, cli) -> None:
    tcp = (
        "var net = require('net');\nnet.createServer(function (c) { c.end('hi'); }).listen(7000);\n"
    )
    app = make_app(
        tmp_path / "app",
        {"chat": {".torque": '{"start": "server.js", "route": "0.0.0.0:7000"}', "server.js": tcp}},
    )
    result = cli("convert", app, "-o", tmp_path / "out", "--fix", "--format", "json")
    doc = json.loads(result.out)
    assert result.code == 0
    assert doc["services"] == [{"name": "chat", "approot": "chat", "ports": {"server": "tcp"}}]
    route = next(r for r in doc["rows"] if r["source"] == "route")
    assert (route["action"], route["new"], route["target_line"]) == (
        "changed",
        "ports: server: tcp",
        9,
    )
    built = (tmp_path / "out" / "dotcloud.yml").read_text()
    assert "  ports:\n    server: tcp\n" in built
    code = (tmp_path / "out" / "chat" / "server.js").read_text()
    assert ".listen(process.env.PORT_SERVER);" in code


def test_secrets_reach_the_build_file_but_never_the_terminal(tmp_path: Path, cli) -> None:
    canary = "canary-s3cr3t-value"
    torque = json.dumps(
        {
            "start": "server.js",
            "env": {
                "db-password": canary,
                "api_token": canary + "-2",
                "mongo-url": f"mongodb://app:{canary}-3@db.example.com:27017/app",
            },
        }
    )
    app = make_app(tmp_path / "app", {"web": {".torque": torque, "server.js": SERVER}})
    outputs = [
        cli("convert", app, "-o", tmp_path / "out"),
        cli("convert", app, "--dry-run"),
        cli("convert", app, "--dry-run", "--format", "json"),
        cli("convert", app, "--strict", "-o", tmp_path / "o2"),
    ]
    for result in outputs:
        assert canary not in result.out + result.err
    built = (tmp_path / "out" / "dotcloud.yml").read_text()
    assert f'DB_PASSWORD: "{canary}"' in built
    assert f'MONGO_URL: "mongodb://app:{canary}-3@db.example.com:27017/app"' in built
    assert "mongodb://app:********@db.example.com:27017/app" in outputs[0].out


def test_colliding_service_names_are_reported(tmp_path: Path, cli) -> None:
    torque = '{"start": "server.js"}'
    app = make_app(
        tmp_path / "app",
        {
            "My-Web": {".torque": torque, "server.js": SERVER},
            "my_web": {".torque": torque, "server.js": SERVER},
            "a-very-long-gear-name-indeed": {".torque": torque, "server.js": SERVER},
        },
    )
    result = cli("convert", app, "-o", tmp_path / "out", "--format", "json")
    doc = json.loads(result.out)
    assert [s["name"] for s in doc["services"]] == ["my_web", "a_very_long_gear", "my_web_2"]
    collisions = [f for f in doc["findings"] if f["rule"] == "service-name-collision"]
    assert [f["message"] for f in collisions] == [
        "Gear 'my_web' would be service 'my_web' like an earlier Gear, so it became 'my_web_2'"
    ]


def test_app_folder_itself_can_be_the_gear(tmp_path: Path, cli) -> None:
    app = make_app(
        tmp_path / "Single App", {".": {".torque": '{"start": "server.js"}', "server.js": SERVER}}
    )
    result = cli("convert", app, "-o", tmp_path / "out", "--format", "json")
    doc = json.loads(result.out)
    assert doc["services"] == [{"name": "single_app", "approot": ".", "ports": {}}]
    assert (tmp_path / "out" / "supervisord.conf").is_file()
    assert not (tmp_path / "out" / ".torque").exists()


def test_tolerated_slips_are_warnings(tmp_path: Path, cli) -> None:
    torque = b'\xef\xbb\xbf{\r\n  // the entry point\r\n  "start": "server.js",\r\n  "statr": 1,\r\n}\r\n'
    app = make_app(tmp_path / "app", {"web": {".torque": torque, "server.js": SERVER}})
    result = cli("convert", app, "-o", tmp_path / "out", "--format", "json")
    assert result.code == 0
    got = [
        (f["rule"], f["line"], f["column"], f["message"])
        for f in json.loads(result.out)["findings"]
    ]
    assert got == [
        ("torque-tolerated", 1, 1, "the file starts with a UTF-8 byte-order mark; it was ignored"),
        ("torque-tolerated", 1, 2, "the file has Windows (CRLF) line endings; they were accepted"),
        ("torque-tolerated", 2, 3, "a comment is not JSON; it was accepted"),
        ("torque-unknown-key", 4, 3, 'unknown key "statr" was not converted'),
        ("torque-tolerated", 4, 13, "a trailing comma is not JSON; it was accepted"),
    ]
    unknown = next(
        f for f in json.loads(result.out)["findings"] if f["rule"] == "torque-unknown-key"
    )
    assert unknown["fix"].startswith('did you mean "start"?')


def test_usage_errors_exit_2(tmp_path: Path, cli) -> None:
    missing = cli("convert", tmp_path / "nope")
    assert (missing.code, missing.err) == (
        2,
        f"dotkit: error: {tmp_path / 'nope'} does not exist\n",
    )
    bad_flag = cli("convert", tmp_path, "--bogus")
    assert bad_flag.code == 2
    assert "Error: No such option '--bogus'." in bad_flag.err
    file_src = tmp_path / "f.txt"
    file_src.write_text("")
    assert cli("convert", file_src).code == 2


def test_help_teaches(cli) -> None:
    top = cli("--help")
    assert top.code == 0
    assert "dotkit convert APP -o OUT" in top.out
    conv = cli("convert", "--help")
    assert "Exit codes: 0 converted; 1 --strict found a loss" in conv.out
    assert "dotkit convert myapp --dry-run" in conv.out


def test_terms_text_and_json(cli) -> None:
    from kit.terms import TERMS

    text = cli("terms")
    assert text.code == 0
    for term in TERMS:
        assert term.nodesocket in text.out and term.dotcloud in text.out
    doc = json.loads(cli("terms", "--format", "json").out)
    assert [row["nodesocket"] for row in doc][:4] == ["Machine", "Gear", "Lever", ".torque"]
    assert set(doc[0]) == {"nodesocket", "dotcloud", "notes", "section"}


def test_python_dash_m_kit_runs_a_real_process(guide_app: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kit", "convert", str(guide_app), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Wrote the dotCloud app to" in proc.stdout
    broken = make_app(tmp_path / "broken", {"g": {".torque": "{", "server.js": SERVER}})
    proc = subprocess.run(
        [sys.executable, "-m", "kit", "convert", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_fix_shows_its_diff(guide_app: Path, tmp_path: Path, cli) -> None:
    result = cli("convert", guide_app, "-o", tmp_path / "out", "--fix")
    assert result.code == 0
    assert (
        "Fixed Gear1/server.js in the converted copy:\n"
        "  Gear1/server.js:24:15: listen(3535) -> listen(8080)\n"
        "--- a/Gear1/server.js\n+++ b/Gear1/server.js\n"
    ) in result.out
    assert "-server.listen(3535);\n+server.listen(8080);\n" in result.out
