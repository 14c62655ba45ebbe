"""Negative fixtures: each broken .torque exits 2 with an exact message, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_app

FIXTURES = Path(__file__).parent / "fixtures" / "torque"
SERVER = "require('http').createServer(function (q, s) { s.end('ok'); }).listen(8080);\n"

# fixture file -> (rule, line, column, message)
CASES = {
    "guide-cut-off.torque": [
        ("torque-syntax", 1, 6, "the file does not start with '{'"),
        (
            "torque-syntax",
            7,
            21,
            "the file ends unexpectedly: the list opened at line 7, column 20 and the object "
            "opened at line 3, column 13 are never closed",
        ),
    ],
    "empty.torque": [("torque-syntax", 1, 1, "the file is empty")],
    "not-an-object.torque": [
        ("torque-schema", 1, 1, "the file holds a list; a .torque must be one JSON object")
    ],
    "start-not-string.torque": [("torque-schema", 2, 12, '"start" must be a string, not a number')],
    "env-not-object.torque": [("torque-schema", 3, 10, '"env" must be an object, not a list')],
    "parameters-not-list.torque": [
        ("torque-schema", 3, 17, '"parameters" must be a list of strings, not a string')
    ],
    "parameters-item-number.torque": [
        ("torque-schema", 3, 28, '"parameters" item 2 is a number; parameters are strings')
    ],
    "env-nested.torque": [
        (
            "torque-schema",
            4,
            11,
            'env "db" holds an object; environment variables are plain values',
        )
    ],
    "start-escapes.torque": [
        ("start-outside-gear", 2, 12, '"start" points outside the Gear: ../shared/server.js')
    ],
    "start-missing-file.torque": [
        ("start-missing", 2, 12, '"start" names app.js, which is not in the Gear')
    ],
    "not-utf8.torque": [("torque-encoding", 3, 23, "byte 0xe9 is not valid UTF-8")],
    "binary.torque": [
        ("torque-encoding", 1, 1, "the file holds binary data (a NUL byte), not JSON text")
    ],
    "deep.torque": [("torque-syntax", 1, 65, "the JSON is nested more than 64 levels deep")],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_torque_is_refused_with_its_address(name: str, tmp_path: Path, cli) -> None:
    app = make_app(
        tmp_path / "app",
        {"Gear1": {".torque": (FIXTURES / name).read_bytes(), "server.js": SERVER}},
    )
    out = tmp_path / "out"

    result = cli("convert", app, "-o", out)

    assert result.code == 2
    assert "Traceback" not in result.err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [app]  # no staging folder left behind either
    for rule, line, column, message in CASES[name]:
        assert (
            f"error    Gear1/.torque:{line}:{column}  [{rule}]\n         {message}\n" in result.err
        )
    assert result.err.count("\nerror    ") == len(CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_torque_json_output(name: str, tmp_path: Path, cli) -> None:
    import json

    app = make_app(
        tmp_path / "app",
        {"Gear1": {".torque": (FIXTURES / name).read_bytes(), "server.js": SERVER}},
    )
    result = cli("convert", app, "--dry-run", "--format", "json")
    doc = json.loads(result.out)
    assert result.code == 2
    assert doc["written"] is False
    got = [(f["rule"], f["line"], f["column"], f["message"]) for f in doc["findings"]]
    assert got == CASES[name]
    assert all(f["fix"] for f in doc["findings"])


def test_no_gears_at_all(tmp_path: Path, cli) -> None:
    app = make_app(tmp_path / "app", {"web": {"server.js": SERVER}})
    result = cli("convert", app, "-o", tmp_path / "out")
    assert result.code == 2
    assert "[no-gears]" in result.err
    assert (
        "no Gear found: neither the folder nor any folder directly inside it holds a .torque file"
        in result.err
    )
    assert not (tmp_path / "out").exists()


def test_every_gear_error_is_reported_in_one_run(tmp_path: Path, cli) -> None:
    app = make_app(
        tmp_path / "app",
        {
            "a": {".torque": '{"start": 1}', "server.js": SERVER},
            "b": {".torque": '{"start": "server.js", "env": {"x": null}}', "server.js": SERVER},
        },
    )
    result = cli("convert", app, "-o", tmp_path / "out")
    assert result.code == 2
    assert "2 problems stop the conversion; nothing was written" in result.err
    assert "a/.torque:1:11  [torque-schema]" in result.err
    assert "b/.torque:1:37  [torque-schema]" in result.err
    assert 'env "x" is null; an environment variable needs a value' in result.err


def test_env_key_collision_and_invalid_names(tmp_path: Path, cli) -> None:
    torque = '{\n "start": "server.js",\n "env": {\n  "mongo-host": "a",\n  "MONGO.HOST": "b",\n  "9lives": "c",\n  "dotcloud-x": "d"\n }\n}\n'
    app = make_app(tmp_path / "app", {"g": {".torque": torque, "server.js": SERVER}})
    result = cli("convert", app, "-o", tmp_path / "out")
    assert result.code == 2
    assert (
        'g/.torque:5:3  [env-key-collision]\n         env "MONGO.HOST" and "mongo-host" (line 4) both become MONGO_HOST'
        in result.err
    )
    assert (
        'g/.torque:6:3  [env-key-invalid]\n         env "9lives" cannot become an environment variable: a variable name cannot start with a digit'
        in result.err
    )
    assert "names starting with DOTCLOUD_ are reserved for the platform" in result.err


def test_parameter_with_a_line_break_is_refused(tmp_path: Path, cli) -> None:
    torque = '{"start": "server.js", "parameters": ["--motd", "line one\\nline two"]}'
    app = make_app(tmp_path / "app", {"g": {".torque": torque, "server.js": SERVER}})
    result = cli("convert", app, "-o", tmp_path / "out")
    assert result.code == 2
    assert "[supervisord-value]" in result.err
    assert (
        "'line one\\nline two' cannot be passed on the command line: it holds a line break"
        in result.err
    )


def test_existing_supervisord_conf_is_not_overwritten(tmp_path: Path, cli) -> None:
    app = make_app(
        tmp_path / "app",
        {"g": {".torque": '{"start": "server.js"}', "server.js": SERVER, "supervisord.conf": "x"}},
    )
    result = cli("convert", app, "-o", tmp_path / "out")
    assert result.code == 2
    assert "g/supervisord.conf  [supervisord-exists]" in result.err
