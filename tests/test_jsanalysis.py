from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.js.analysis import (
    JsAnalysis,
    ListenCall,
    Origin,
    PortArg,
    Span,
    analyze_js,
    line_column,
)

GEAR = b"""var http = require('http');
http.createServer(function (req, res) {
  res.writeHead(200, {'Content-Type': 'text/plain'});
  res.end('Hello World\\n');
}).listen(3535, '127.0.0.1');
console.log('Server running at http://127.0.0.1:3535/');
"""


def only(analysis: JsAnalysis) -> ListenCall:
    assert len(analysis.listens) == 1, analysis.listens
    return analysis.listens[0]


def span_of(source: bytes, needle: bytes, occurrence: int = 0) -> Span:
    start = -1
    for _ in range(occurrence + 1):
        start = source.index(needle, start + 1)
    return Span(start, start + len(needle))


def test_gear_style_http_server_with_literal_port_and_host() -> None:
    analysis = analyze_js(GEAR)
    call = only(analysis)
    assert call.line == 5
    assert call.column == 4
    assert call.server == "http"
    assert call.host == "127.0.0.1"
    assert call.port.kind == "literal"
    assert call.port.value == 3535
    assert call.port.env_name is None
    assert call.port.text == "3535"
    assert call.port.literal == span_of(GEAR, b"3535")
    assert analysis.syntax_error is None
    assert analysis.serves_http
    assert not analysis.serves_tcp


def test_port_from_a_single_declaration_points_at_its_literal() -> None:
    source = b"""var http = require('http');
var PORT = 3535;
var server = http.createServer(handler);
server.listen(PORT);
"""
    call = only(analyze_js(source))
    assert (call.line, call.column, call.server) == (4, 8, "http")
    assert call.port == PortArg(
        kind="literal",
        value=3535,
        env_name=None,
        literal=span_of(source, b"3535"),
        text="PORT",
        expr=span_of(source, b"3535"),
        origin=Origin(None, 2, 12),
    )


def test_reassigned_or_redeclared_port_is_computed() -> None:
    reassigned = b"var http = require('http');\nvar PORT = 3535;\nPORT = 4000;\n"
    reassigned += b"http.createServer(h).listen(PORT);\n"
    redeclared = b"var http = require('http');\nvar PORT = 1;\nvar PORT = 2;\n"
    redeclared += b"http.createServer(h).listen(PORT);\n"
    for source in (reassigned, redeclared):
        port = only(analyze_js(source)).port
        assert (port.kind, port.value, port.literal) == ("computed", None, None)


def test_express_app_with_env_default() -> None:
    source = b"""const express = require('express');
const app = express();
app.get('/', (req, res) => res.send('ok'));
app.listen(process.env.PORT || 3000, () => console.log('up'));
"""
    call = only(analyze_js(source))
    assert (call.line, call.column, call.server, call.host) == (4, 5, "http", None)
    assert call.port.kind == "env-default"
    assert call.port.env_name == "PORT"
    assert call.port.value == 3000
    assert call.port.literal == span_of(source, b"3000")
    assert call.port.text == "process.env.PORT || 3000"


@pytest.mark.parametrize(
    ("argument", "kind", "env", "value"),
    [
        (b"process.env.PORT", "env", "PORT", None),
        (b"process.env['PORT']", "env", "PORT", None),
        (b'process.env["APP_PORT"]', "env", "APP_PORT", None),
        (b"process.env.PORT ?? 4000", "env-default", "PORT", 4000),
        (b"parseInt(process.env.PORT, 10) || 4000", "env-default", "PORT", 4000),
        (b"(process.env.PORT || 0x10)", "env-default", "PORT", 16),
        (b"3000.5", "computed", None, None),
        (b"base + 1", "computed", None, None),
        (b"process.env.PORT || other", "computed", None, None),
        (b"function () {}", "missing", None, None),
        (b"", "missing", None, None),
    ],
)
def test_port_argument_forms(
    argument: bytes, kind: str, env: str | None, value: int | None
) -> None:
    source = b"const http = require('http');\nhttp.createServer(h).listen(" + argument + b");\n"
    port = only(analyze_js(source)).port
    assert (port.kind, port.env_name, port.value) == (kind, env, value)
    assert port.text == argument.decode()


def test_env_default_through_a_declaration_and_a_string_fallback() -> None:
    source = b"var app = require('express')();\nvar port = process.env.PORT || '3000';\n"
    source += b"app.listen(port);\n"
    call = only(analyze_js(source))
    assert call.server == "http"
    assert (call.port.kind, call.port.value, call.port.text) == ("env-default", 3000, "port")
    # Inside the quotes, so a fix keeps the string a string.
    assert call.port.literal == span_of(source, b"3000")


def test_net_server_inline_is_tcp() -> None:
    source = b"var net = require('net');\nnet.createServer(function (socket) {\n"
    source += b"  socket.pipe(socket);\n}).listen(7000);\n"
    analysis = analyze_js(source)
    call = only(analysis)
    assert (call.line, call.column, call.server) == (4, 4, "tcp")
    assert (call.port.kind, call.port.value) == ("literal", 7000)
    assert analysis.serves_tcp
    assert not analysis.serves_http


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (
            b"const { createServer } = require('net');\nconst srv = createServer(c => c.end());\n"
            b"srv.listen(7000);\n",
            3,
        ),
        (
            b"const { createServer: make } = require('node:net');\nlet srv;\nsrv = make();\n"
            b"srv.listen(7000);\n",
            4,
        ),
        (b"const { Server } = require('net');\nconst srv = new Server();\nsrv.listen(7000);\n", 3),
        (b"var srv = require('net').createServer();\nsrv.listen(7000);\n", 2),
        (b"var net = require('net');\nvar srv = new net.Server();\nsrv.listen(7000);\n", 3),
    ],
)
def test_tcp_server_bindings(source: bytes, line: int) -> None:
    call = only(analyze_js(source))
    assert (call.line, call.column) == (line, 5)
    assert (call.server, call.port.kind, call.port.value) == ("tcp", "literal", 7000)


def test_esm_imports() -> None:
    source = b"""import * as http from 'http';
import express from 'express';
import net from 'node:net';
import { createServer as tcp } from 'net';
const app = express();
app.listen(3000);
http.createServer(app).listen(3001);
net.createServer().listen(3002);
tcp().listen(3003);
"""
    found = [(c.line, c.server, c.port.value) for c in analyze_js(source).listens]
    assert found == [(6, "http", 3000), (7, "http", 3001), (8, "tcp", 3002), (9, "tcp", 3003)]


def test_http_server_wrapping_express_app() -> None:
    source = b"""const express = require('express');
const http = require('node:http');
const app = module.exports = express();
const server = http.createServer(app);
server.listen(3000);
"""
    call = only(analyze_js(source))
    assert (call.line, call.column, call.server) == (5, 8, "http")


def test_listen_with_options_object() -> None:
    source = b"var http = require('http');\nvar s = http.createServer();\n"
    source += b"s.listen({ host: '0.0.0.0', port: 3535 });\n"
    call = only(analyze_js(source))
    assert (call.server, call.host) == ("http", "0.0.0.0")
    assert (call.port.kind, call.port.value) == ("literal", 3535)
    assert call.port.literal == span_of(source, b"3535")
    assert call.port.text == "{ host: '0.0.0.0', port: 3535 }"


def test_column_counts_characters_not_bytes() -> None:
    source = (
        "var http = require('http');\nvar s = 'héllo ☃ wörld'; http.createServer().listen(80);\n"
    )
    call = only(analyze_js(source.encode()))
    assert call.line == 2
    line = source.splitlines()[1]
    assert call.column == line.index("listen") + 1 == 46
    assert call.column != line.encode().index(b"listen") + 1


def test_columns_of_several_calls_on_one_line() -> None:
    line = "var http = require('http'); var a = 'ü€'; http.createServer().listen(1); /* ☃ */ "
    line += "http.createServer().listen(2);"
    source = ("\n" + line + "\n").encode()
    calls = analyze_js(source).listens
    first = line.index("listen")
    second = line.index("listen", first + 1)
    assert [(c.line, c.column, c.port.value) for c in calls] == [
        (2, first + 1, 1),
        (2, second + 1, 2),
    ]
    for call in calls:
        offset = source.index(b"listen(%d)" % call.port.value)
        assert line_column(source, offset) == (call.line, call.column)


def test_unknown_receivers() -> None:
    source = b"""emitter.listen(function () {});
emitter.listen(() => {});
bus.listen('event', handler);
var io = require('socket.io');
var http = require('http');
var server = http.createServer();
io.listen(server);
thing.listen(4000);
other.listen();
"""
    calls = analyze_js(source).listens
    assert [(c.line, c.server, c.port.kind, c.port.value) for c in calls] == [
        (8, "unknown", "literal", 4000),
        (9, "unknown", "missing", None),
    ]


def test_syntax_error_is_reported_and_listens_still_found() -> None:
    source = b"var http = require('http');\nvar x = ;\nhttp.createServer().listen(3000);\n"
    analysis = analyze_js(source)
    assert analysis.syntax_error == (2, 9)
    assert [(c.line, c.server, c.port.value) for c in analysis.listens] == [(3, "http", 3000)]
    assert analyze_js(GEAR).syntax_error is None


def test_missing_node_is_a_syntax_error() -> None:
    assert analyze_js(b"foo(;\n").syntax_error == (1, 5)


@pytest.mark.parametrize(
    "source",
    [
        random.Random(1).randbytes(20_000),
        b"\xff\xfe\x00listen(\x80\x81)" * 500,
        b"[" * 50_000,
        b"x.listen(" + b"+(" * 50_000 + b"process.env.PORT",
        b"x.listen(" + b"{port: " * 50_000,
        b"x = " * 50_000 + b"y; x.listen(1)",
        b"a(" * 50_000,
        b"x.listen(" * 20_000 + b")" * 20_000,
        b"x.listen(1);" * 20_000,
    ],
)
def test_hostile_input_returns_quickly(source: bytes) -> None:
    started = time.monotonic()
    analysis = analyze_js(source)
    assert time.monotonic() - started < 5
    assert isinstance(analysis, JsAnalysis)


def test_deep_but_valid_nesting_still_resolves() -> None:
    source = b"var http = require('http');\nvar s = http.createServer();\n"
    source += b"s.listen(" + b"(" * 5_000 + b"process.env.PORT" + b")" * 5_000 + b");\n"
    call = only(analyze_js(source))
    assert (call.server, call.port.kind, call.port.env_name) == ("http", "env", "PORT")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_never_raises_on_arbitrary_bytes(source: bytes) -> None:
    analysis = analyze_js(source)
    for call in analysis.listens:
        assert call.line >= 1 and call.column >= 1


def test_line_column() -> None:
    source = "ab\nçd☃x\n".encode()
    assert line_column(source, 0) == (1, 1)
    assert line_column(source, 3) == (2, 1)
    assert line_column(source, source.index(b"x")) == (2, 4)
    assert line_column(source, len(source)) == (3, 1)
    assert line_column(source, 10_000) == (3, 1)
    assert line_column(source, -5) == (1, 1)
    assert line_column(b"\xff\xfez", 2) == (1, 3)


def test_shorthand_port_option_and_https() -> None:
    source = b"const https = require('https');\nconst port = 3535;\n"
    source += b"https.createServer(opts, app).listen({ port }, cb);\n"
    call = only(analyze_js(source))
    assert (call.line, call.column, call.server) == (3, 31, "http")
    assert (call.port.kind, call.port.value, call.port.text) == ("literal", 3535, "{ port }")
    assert call.port.literal == span_of(source, b"3535")


def test_options_without_port_and_callback_only_are_missing() -> None:
    source = b"var http = require('http');\nvar s = http.createServer();\n"
    source += b"s.listen({ path: '/tmp/app.sock' });\ns.listen(function () {});\n"
    calls = analyze_js(source).listens
    assert [(c.line, c.server, c.port.kind, c.port.literal) for c in calls] == [
        (3, "http", "missing", None),
        (4, "http", "missing", None),
    ]
