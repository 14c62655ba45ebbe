"""convert judges code with verify's rules, drops the port settings it would carry,
fixes the right place, and picks node_version from engines.node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import make_app


def torque(**fields: object) -> str:
    return json.dumps({"start": "server.js", **fields})


def convert(cli, src: Path, out: Path, *extra: str) -> dict[str, Any]:
    result = cli("convert", src, "-o", out, "--format", "json", *extra)
    assert result.code == 0, result.out + result.err
    return json.loads(result.out)


def rules(doc: dict[str, Any]) -> list[tuple[str, str, str, int | None]]:
    return [(f["rule"], f["severity"], f["path"], f["line"]) for f in doc["findings"]]


def test_an_env_value_the_code_listens_on_is_not_carried(tmp_path: Path, cli) -> None:
    src = make_app(
        tmp_path / "app",
        {
            "Web": {
                ".torque": torque(env={"web-port": 3000, "db-name": "shop"}),
                "server.js": "var http = require('http');\n"
                "http.createServer(h).listen(process.env.WEB_PORT);\n",
            }
        },
    )
    out = tmp_path / "out"
    doc = convert(cli, src, out)
    build = yaml.safe_load((out / "dotcloud.yml").read_text())
    assert build["web"]["environment"] == {"DB_NAME": "shop"}
    dropped = [r for r in doc["rows"] if r["action"] == "dropped" and r["source"] == "env.web-port"]
    assert dropped[0]["reason"].startswith("the code listens on it (Web/server.js:2)")
    assert ("http-port-not-8080", "error", "Web/server.js", 2) in rules(doc)

    fixed = convert(cli, src, tmp_path / "fixed", "--fix")
    assert "listen(process.env.WEB_PORT || 8080)" in (tmp_path / "fixed/Web/server.js").read_text()
    assert [r for r in rules(fixed) if r[0] == "http-port-not-8080"] == []


def test_the_fix_lands_where_the_number_is_written(tmp_path: Path, cli) -> None:
    src = make_app(
        tmp_path / "app",
        {
            "Web": {
                ".torque": torque(),
                "server.js": "var config = require('./config');\nvar http = require('http');\n"
                "http.createServer(h).listen(config.port);\n",
                "config.js": "module.exports = {\n  port: 3535\n};\n",
            }
        },
    )
    doc = convert(cli, src, tmp_path / "plain")
    (finding,) = [f for f in doc["findings"] if f["rule"] == "http-port-not-8080"]
    assert finding["message"] == (
        "the HTTP server listens on 3535 (set in Web/config.js:2); on dotCloud it must "
        "listen on 8080"
    )
    fixed = convert(cli, src, tmp_path / "fixed", "--fix")
    assert (
        tmp_path / "fixed/Web/config.js"
    ).read_text() == "module.exports = {\n  port: 8080\n};\n"
    assert (tmp_path / "fixed/Web/server.js").read_text() == (src / "Web/server.js").read_text()
    (row,) = [r for r in fixed["rows"] if r["source"].startswith("listen(")]
    assert (row["action"], row["target_path"], row["target_line"]) == (
        "changed",
        "Web/config.js",
        2,
    )
    assert fixed["edits"] == [
        {
            "path": "Web/config.js",
            "changes": ["Web/config.js:2:9: 3535 -> 8080 (the port of listen(config.port))"],
        }
    ]


def test_a_tcp_server_is_never_moved_to_8080_and_udp_is_refused(tmp_path: Path, cli) -> None:
    src = make_app(
        tmp_path / "app",
        {
            "Chat": {
                ".torque": torque(env={"chat-port": 7000}),
                "server.js": "var net = require('net'), dgram = require('dgram');\n"
                "var port = process.env.CHAT_PORT || 7000;\n"
                "net.createServer(onClient).listen(port);\n"
                "dgram.createSocket('udp4').bind(8125);\n",
            }
        },
    )
    out = tmp_path / "out"
    doc = convert(cli, src, out, "--fix")
    assert doc["services"] == [{"name": "chat", "approot": "Chat", "ports": {"server": "tcp"}}]
    code = (out / "Chat/server.js").read_text()
    assert "var port = process.env.PORT_SERVER;" in code and "8080" not in code
    assert rules(doc)[-1] == ("udp-not-supported", "error", "Chat/server.js", 4)
    assert "CHAT_PORT" not in (out / "dotcloud.yml").read_text()


def test_node_version_comes_from_engines_node(tmp_path: Path, cli) -> None:
    def app(engines: str) -> Path:
        package = json.dumps({"name": "web", "engines": {"node": engines}}, indent=1)
        return make_app(
            tmp_path / engines.replace(" ", "").replace(">", "gt").replace("=", "eq"),
            {"Web": {".torque": torque(), "server.js": "// ok\n", "package.json": package}},
        )

    src = app("0.6.x")
    doc = convert(cli, src, tmp_path / "o1")
    build = yaml.safe_load((tmp_path / "o1/dotcloud.yml").read_text())
    assert build["web"]["config"]["node_version"] == "v0.6.x"
    (row,) = [r for r in doc["rows"] if r["source"] == "engines.node"]
    assert row["reason"] == (
        "engines.node is '0.6.x'; v0.6.x is the newest of the platform's versions that satisfies it"
    )
    assert (row["source_path"], row["source_line"], row["target_path"]) == (
        "Web/package.json",
        4,
        "dotcloud.yml",
    )

    newer = convert(cli, app(">=4"), tmp_path / "o2")
    assert yaml.safe_load((tmp_path / "o2/dotcloud.yml").read_text())["web"]["config"] == {
        "node_version": "v0.8.x"
    }
    assert ("node-version-engines", "warning", "Web/package.json", 4) in rules(newer)

    told = convert(cli, src, tmp_path / "o3", "--node-version", "v0.4.x")
    assert ("node-version-engines", "warning", "Web/package.json", 4) in rules(told)


def test_convert_and_verify_give_a_finding_the_same_severity(tmp_path: Path, cli) -> None:
    src = make_app(
        tmp_path / "app",
        {
            "Web": {
                ".torque": torque(),
                "server.js": "var redis = require('redis');\nvar c = redis.createClient();\n"
                "require('fs').writeFileSync('state.json', '{}');\n"
                "require('http').createServer(h).listen(3000);\n",
                "package.json": '{"name": "web", "dependencies": {"redis": "*"}}\n',
                "node_modules/left-pad/index.js": "module.exports = 1;\n",
            }
        },
    )
    out = tmp_path / "out"
    converted = {r for r in rules(convert(cli, src, out)) if r[0] != "port-dropped"}
    verified = json.loads(cli("verify", out, "--format", "json").out)
    assert converted == {
        ("localhost-service", "warning", "Web/server.js", 2),
        ("write-in-code-tree", "warning", "Web/server.js", 3),
        ("http-port-not-8080", "error", "Web/server.js", 4),
        ("dependency-unpinned", "warning", "Web/package.json", 1),
        ("node-modules-committed", "warning", "Web/node_modules", None),
    }
    both = {r for r in rules(verified) if r[0] != "node-modules-committed"}
    assert both == converted - {("node-modules-committed", "warning", "Web/node_modules", None)}


def test_a_torque_env_value_pointing_at_localhost(tmp_path: Path, cli) -> None:
    src = make_app(
        tmp_path / "app",
        {
            "Web": {
                ".torque": torque(env={"redis-host": "localhost"}),
                "server.js": "var redis = require('redis');\n"
                "var c = redis.createClient(6379, process.env.REDIS_HOST);\n",
            }
        },
    )
    doc = convert(cli, src, tmp_path / "out")
    (found,) = [f for f in doc["findings"] if f["rule"] == "localhost-service"]
    assert found["message"].startswith(
        "redis.createClient reads its address from REDIS_HOST, which Web/.torque sets to "
        "'localhost'"
    )
    assert found["fix"].startswith("declare a redis service in dotcloud.yml")
