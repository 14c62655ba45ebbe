"""Hostile or broken JavaScript in the files node loads: a finding or a skip with its
reason, never a traceback, for verify and convert alike."""

from __future__ import annotations

import json
from pathlib import Path

from testing.apps import write_files

SUPERVISORD = "[program:node]\ncommand = node server.js\ndirectory = /home/dotcloud/current\n"
SERVER = (
    "require('./broken');\nrequire('./binary');\nrequire('./big');\nrequire('./bundle');\n"
    "require('./loop');\nrequire('http').createServer(h).listen(8080);\n"
)


def hostile(root: Path) -> Path:
    big = "var blob = '" + "0123456789" * 500_000 + "';\nvar late = () => blob;\n"  # 5 MB
    bundle = "!function(){var a=1;" * 20_000 + "}();" * 20_000 + "\n"  # one long line
    write_files(
        root,
        {
            "www/server.js": SERVER,
            "www/broken.js": "var app = require('express')(;\nmodule.exports = app;\n",
            "www/binary.js": b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64,
            "www/big.js": big,
            "www/bundle.js": bundle,
            "www/package.json": '{"name": "www"}\n',
        },
    )
    (root / "www" / "loop.js").symlink_to("loop2.js")
    (root / "www" / "loop2.js").symlink_to("loop.js")
    return root


def test_verify_reports_each_bad_file_without_a_traceback(tmp_path: Path, cli) -> None:
    app = hostile(tmp_path / "app")
    write_files(
        app,
        {
            "dotcloud.yml": "www:\n  type: nodejs\n  approot: www\n  config:\n    node_version: v0.8.x\n",
            "www/supervisord.conf": SUPERVISORD,
        },
    )
    result = cli("verify", app, "--format", "json", "--no-cache")
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    found = {(f["rule"], f["path"]) for f in json.loads(result.out)["findings"]}
    assert ("js-syntax-error", "www/broken.js") in found
    assert ("js-syntax-error", "www/binary.js") in found  # not analysed: binary
    assert ("node-version-syntax", "www/big.js") in found  # the arrow on its last line
    assert ("node-version-syntax", "www/bundle.js") not in found  # ES5, nested 20,000 deep
    assert ("symlink-outside-app", "www/loop.js") in found
    binary = next(f for f in json.loads(result.out)["findings"] if f["path"] == "www/binary.js")
    assert binary["message"].startswith("not analysed, a binary file, not JavaScript")


def test_convert_takes_the_same_files_without_a_traceback(tmp_path: Path, cli) -> None:
    app = hostile(tmp_path / "app")
    (app / "www" / ".torque").write_text('{"start": "server.js"}')
    result = cli("convert", app, "-o", tmp_path / "out", "--format", "json")
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    rules = {(f["rule"], f["path"]) for f in json.loads(result.out)["findings"]}
    assert ("js-syntax-error", "www/broken.js") in rules
    assert ("node-version-syntax", "www/big.js") in rules
