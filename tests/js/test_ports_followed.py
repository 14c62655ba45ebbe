"""Ports followed through the ways real code sets them, servers however bound."""

from __future__ import annotations

import pytest

from kit.js.analysis import ListenCall, Origin, analyze_js
from kit.js.link import Linker, loaded_files, resolve
from kit.js.modules import analyze_json_module, analyze_module


def only(source: bytes) -> ListenCall:
    listens = analyze_js(source).listens
    assert len(listens) == 1, listens
    return listens[0]


def test_express_generator_3_app_set_then_get() -> None:
    source = b"""var express = require('express'), http = require('http');
var app = express();
app.set('port', process.env.PORT || 3000);
app.set('views', __dirname + '/views');
http.createServer(app).listen(app.get('port'), function () {
  console.log('Express server listening on port ' + app.get('port'));
});
"""
    call = only(source)
    assert (call.server, call.port.kind, call.port.env_name, call.port.value) == (
        "http",
        "env-default",
        "PORT",
        3000,
    )
    assert call.port.origin == Origin(None, 3, 37)
    assert source[call.port.literal.start : call.port.literal.end] == b"3000"


def test_express_generator_4_bin_www_with_normalize_port() -> None:
    source = b"""#!/usr/bin/env node
var app = require('../app');
var http = require('http');
var port = normalizePort(process.env.PORT || '3000');
app.set('port', port);
var server = http.createServer(app);
server.listen(port);
function normalizePort(val) {
  var port = parseInt(val, 10);
  if (isNaN(port)) return val;
  return port >= 0 ? port : false;
}
"""
    call = only(source)
    assert (call.port.kind, call.port.value, call.port.origin) == (
        "env-default",
        3000,
        Origin(None, 4, 47),
    )


@pytest.mark.parametrize(
    "declaration",
    [
        b"var port = process.env.X || 4000;",
        b"port = process.env.X || 4000;",  # an implicit global, as 2012 code had
        b"var config = { port: process.env.X || 4000 };\nvar port = config.port;",
        b"var config = {};\nconfig.port = process.env.X || 4000;\nvar port = config.port;",
    ],
)
def test_env_default_through_declarations(declaration: bytes) -> None:
    source = b"var http = require('http');\n" + declaration + b"\n"
    source += b"if (!module.parent) http.createServer(h).listen(port, '0.0.0.0', ready);\n"
    call = only(source)
    assert (call.port.kind, call.port.env_name, call.port.value, call.host) == (
        "env-default",
        "X",
        4000,
        "0.0.0.0",
    )


def test_a_port_read_from_a_config_module_is_followed_there() -> None:
    files = {
        "www/server.js": b"var config = require('./config');\n"
        b"require('http').createServer(h).listen(config.server.port);\n",
        "www/config.js": b"module.exports = {\n  server: { port: 3000 },\n};\n",
        "www/inline.js": b"require('http').createServer(h).listen(require('./settings').port);\n",
        "www/settings.json": b'{\n  "port": "5000"\n}\n',
    }
    facts = {
        path: analyze_json_module(data) if path.endswith(".json") else analyze_module(data)
        for path, data in files.items()
    }
    linker = Linker(frozenset(files), facts.get)
    port = only(files["www/server.js"]).port
    assert (port.kind, port.module, port.member) == ("import", "./config", ("server", "port"))
    linked = linker.link("www/server.js", port)
    assert (linked.kind, linked.value, linked.origin) == (
        "literal",
        3000,
        Origin("www/config.js", 2, 19),
    )
    assert linked.text == "config.server.port"
    json_port = linker.link("www/inline.js", only(files["www/inline.js"]).port)
    assert (json_port.value, json_port.origin) == (5000, Origin("www/settings.json", 2, 12))
    literal = json_port.literal
    assert files["www/settings.json"][literal.start : literal.end] == b"5000"


def test_module_exports_forms() -> None:
    source = b"""var settings = { port: 3000 };
settings.admin = process.env.ADMIN_PORT || 4000;
exports.redis = require('./redis');
module.exports.debug = 9229;
module.exports = settings;
"""
    exports = {e.key: e.value for e in analyze_module(source).exports}
    assert exports[("port",)].value == 3000
    assert (exports[("admin",)].kind, exports[("admin",)].value) == ("env-default", 4000)
    assert exports[("redis",)].module == "./redis"
    assert exports[("debug",)].value == 9229


@pytest.mark.parametrize(
    "binding",
    [
        b"var net = require('net');\nnet.createServer(h).listen(7000);",
        b"net = require('net');\nnet.createServer(h).listen(7000);",
        b"require('net').createServer(h).listen(7000);",
        b"const { createServer } = require('net');\ncreateServer(h).listen(7000);",
        b"var tls = require('tls');\ntls.createServer(opts, h).listen(7000);",
        b"import net from 'node:net';\nnet.createServer(h).listen(7000);",
    ],
)
def test_tcp_servers_however_net_was_bound(binding: bytes) -> None:
    assert only(binding).server == "tcp"


def test_a_udp_socket_binds_and_other_binds_are_not_ports() -> None:
    source = b"""var dgram = require('dgram');
var socket = dgram.createSocket('udp4');
socket.bind(8125);
var f = handler.bind(this);
"""
    call = only(source)
    assert (call.server, call.port.value, call.line) == ("udp", 8125, 3)
    assert analyze_js(b"var f = handler.bind(this, 8125);\n").listens == ()


@pytest.mark.parametrize(
    ("factory", "kind"),
    [
        (b"var app = require('express').createServer();", "http"),  # Express 2
        (b"var Koa = require('koa');\nvar app = new Koa();", "http"),
        (b"var connect = require('connect');\nvar app = connect();", "http"),
        (b"var app = require('restify').createServer();", "http"),
    ],
)
def test_http_app_factories(factory: bytes, kind: str) -> None:
    assert only(factory + b"\napp.listen(3000);\n").server == kind


def test_require_resolution_and_loaded_files() -> None:
    files = sorted(
        [
            "www/server.js",
            "www/lib/index.js",
            "www/routes/a.js",
            "www/routes/b.js",
            "www/public/app.js",
            "www/config.json",
            "outside.js",
        ]
    )
    assert resolve("www/server.js", "./lib", frozenset(files)) == "www/lib/index.js"
    assert resolve("www/server.js", "./config", frozenset(files)) == "www/config.json"
    assert resolve("www/server.js", "../outside", frozenset(files)) == "outside.js"
    assert resolve("www/server.js", "../../etc/passwd", frozenset(files)) is None
    assert resolve("www/server.js", "express", frozenset(files)) is None
    sources = {
        "www/server.js": b"require('./lib');\nfs.readdirSync(x).forEach(function (f) {\n"
        b"  require('./routes/' + f);\n});\n",
        "www/lib/index.js": b"module.exports = require('../config');\n",
    }
    facts = {path: analyze_module(data) for path, data in sources.items()}
    loaded = loaded_files(["www/server.js"], files, facts.get)
    assert [(item.path, item.by, item.line) for item in loaded] == [
        ("www/server.js", None, None),
        ("www/lib/index.js", "www/server.js", 1),
        ("www/routes/a.js", "www/server.js", 3),
        ("www/routes/b.js", "www/server.js", 3),
        ("www/config.json", "www/lib/index.js", 1),
    ]
