from __future__ import annotations

import time

import pytest

from kit.js.analysis import Span, analyze_js
from kit.js.fix import Edit, apply_edits
from kit.platform.ports import env_expression, plan_port_fixes

GEAR = b"""var http = require('http');
http.createServer(function (req, res) {
  res.end('Hello World\\n');
}).listen(3535, '127.0.0.1');
"""


def fix(source: bytes, tcp_port_env: str | None = "PORT_SERVER") -> tuple[bytes, list[Edit]]:
    edits = plan_port_fixes(source, analyze_js(source), tcp_port_env=tcp_port_env)
    return apply_edits(source, edits), edits


def assert_only_changed(before: bytes, after: bytes, old: bytes, new: bytes) -> None:
    """``after`` is ``before`` with exactly one occurrence of ``old`` swapped for ``new``."""
    assert before.count(old) == 1
    at = before.index(old)
    assert after[:at] == before[:at]
    assert after[at : at + len(new)] == new
    assert after[at + len(new) :] == before[at + len(old) :]


def test_gear_http_literal_becomes_8080() -> None:
    fixed, edits = fix(GEAR)
    assert len(edits) == 1
    edit = edits[0]
    assert edit.span == Span(GEAR.index(b"3535"), GEAR.index(b"3535") + 4)
    assert (edit.replacement, edit.line, edit.column) == ("8080", 4, 11)
    assert edit.description == "listen(3535) -> listen(8080)"
    assert_only_changed(GEAR, fixed, b"3535", b"8080")


def test_declaration_literal_is_edited_in_place() -> None:
    source = b"var http = require('http');\nvar PORT = 3535;\n"
    source += b"var server = http.createServer(h);\nserver.listen(PORT);\n"
    fixed, edits = fix(source)
    assert [(e.line, e.column, e.replacement) for e in edits] == [(2, 12, "8080")]
    assert "listen(PORT)" in edits[0].description
    assert_only_changed(source, fixed, b"3535", b"8080")


def test_env_default_fallback_is_replaced_and_env_read_kept() -> None:
    source = b"const app = require('express')();\napp.listen(process.env.PORT || 3000);\n"
    fixed, edits = fix(source)
    assert edits[0].description == (
        "listen(process.env.PORT || 3000) -> listen(process.env.PORT || 8080)"
    )
    assert fixed == source.replace(b"3000", b"8080")


def test_string_fallback_keeps_its_quotes() -> None:
    source = b"const app = require('express')();\napp.listen(process.env.PORT || '3000');\n"
    fixed, _ = fix(source)
    assert fixed == source.replace(b"'3000'", b"'8080'")


def test_comments_crlf_and_non_ascii_are_preserved() -> None:
    source = (
        "// serveur façon nodeSocket ☃\r\n"
        "var http = require('http');\r\n"
        "var s = http.createServer(h); /* écoute */\r\n"
        "s.listen( /* port */ 3535 /* fin */, '0.0.0.0'); // ici\r\n"
    ).encode()
    fixed, edits = fix(source)
    assert [(e.line, e.column) for e in edits] == [(4, 22)]
    assert_only_changed(source, fixed, b"3535", b"8080")
    assert fixed.count(b"\r\n") == source.count(b"\r\n") == 4
    assert b"\n" not in fixed.replace(b"\r\n", b"")


def test_tcp_literal_reads_the_env_variable() -> None:
    source = b"var net = require('net');\nnet.createServer(function (s) {}).listen(7000);\n"
    fixed, edits = fix(source)
    assert edits[0].description == "listen(7000) -> listen(process.env.PORT_SERVER)"
    assert_only_changed(source, fixed, b"7000", b"process.env.PORT_SERVER")
    call = analyze_js(fixed).listens[0]
    assert (call.server, call.port.kind, call.port.env_name) == ("tcp", "env", "PORT_SERVER")


def test_tcp_declaration_literal_reads_the_env_variable() -> None:
    source = b"const net = require('net');\nconst PORT = 7000;\nnet.createServer().listen(PORT);\n"
    fixed, _ = fix(source)
    assert fixed == source.replace(b"= 7000", b"= process.env.PORT_SERVER")


def test_tcp_env_default_is_replaced_whole_unless_already_the_right_name() -> None:
    source = b"var net = require('net');\nnet.createServer().listen(process.env.PORT || 7000);\n"
    fixed, _ = fix(source)
    assert_only_changed(source, fixed, b"process.env.PORT || 7000", b"process.env.PORT_SERVER")

    right = (
        b"var net = require('net');\nnet.createServer().listen(process.env.PORT_SERVER || 7000);\n"
    )
    assert fix(right)[1] == []


def test_tcp_is_left_alone_without_an_env_name() -> None:
    source = b"var net = require('net');\nnet.createServer().listen(7000);\n"
    assert fix(source, tcp_port_env=None)[1] == []


def test_env_name_that_is_not_an_identifier_is_subscripted() -> None:
    assert env_expression("PORT_SERVER") == "process.env.PORT_SERVER"
    assert env_expression('A-B"C') == 'process.env["A-B\\"C"]'
    source = b"var http = require('http');\nhttp.createServer(h).listen("
    source += env_expression("PORT-SERVER").encode() + b");\n"
    assert analyze_js(source).listens[0].port.env_name == "PORT-SERVER"


def test_env_read_the_platform_does_not_set_gets_an_8080_fallback() -> None:
    source = b"var http = require('http');\nhttp.createServer(h).listen(process.env.PORT);\n"
    fixed, edits = fix(source)
    assert edits[0].description == "listen(process.env.PORT) -> listen(process.env.PORT || 8080)"
    assert fixed == source.replace(b"process.env.PORT)", b"process.env.PORT || 8080)")
    assert fix(fixed)[1] == []
    declared = b"var http = require('http');\nvar port = parseInt(process.env.PORT, 10);\n"
    declared += b"http.createServer(h).listen(port);\n"
    fixed, _ = fix(declared)
    assert b"var port = parseInt(process.env.PORT, 10) || 8080;" in fixed
    assert fix(fixed)[1] == []


def test_nothing_to_do() -> None:
    for source in (
        b"var http = require('http');\nhttp.createServer(h).listen(8080);\n",
        b"var http = require('http');\nhttp.createServer(h).listen(process.env.PORT_NODEJS);\n",
        b"var http = require('http');\nhttp.createServer(h).listen(port + 1);\n",
        b"emitter.listen(function () {});\n",
    ):
        assert fix(source)[1] == []


def test_second_run_plans_nothing() -> None:
    source = b"""var http = require('http'), net = require('net');
var PORT = 3535; // the gear port
http.createServer(h).listen(PORT, '127.0.0.1');
net.createServer(s).listen(7000 /* tcp */);
net.createServer(s).listen(process.env.PORT || 7001);
require('express')().listen({ port: process.env.PORT ?? 3000 });
thing.listen(9000);
"""
    once, edits = fix(source)
    assert len(edits) == 5
    twice, again = fix(once)
    assert again == []
    assert twice == once
    kinds = [(c.server, c.port.kind, c.port.value) for c in analyze_js(once).listens]
    assert kinds == [
        ("http", "literal", 8080),
        ("tcp", "env", None),
        ("tcp", "env", None),
        ("http", "env-default", 8080),
        ("unknown", "literal", 8080),
    ]


def test_declaration_shared_by_two_http_listens_gets_one_edit() -> None:
    source = b"""var http = require('http');
var PORT = 3000;
http.createServer(h).listen(PORT);
http.createServer(g).listen(PORT);
"""
    fixed, edits = fix(source)
    assert [(e.line, e.column, e.replacement) for e in edits] == [(2, 12, "8080")]
    assert fixed == source.replace(b"3000", b"8080")


@pytest.mark.parametrize(
    "declaration", [b"var PORT = 3000;", b"var PORT = process.env.PORT || 3000;"]
)
def test_declaration_shared_by_http_and_tcp_is_left_to_a_human(declaration: bytes) -> None:
    # Either winner would leave the loser's edit for the next run: not idempotent.
    source = b"var http = require('http'), net = require('net');\n" + declaration + b"\n"
    source += b"http.createServer(h).listen(PORT);\nnet.createServer(s).listen(PORT);\n"
    assert fix(source)[1] == []


def test_positions_of_several_edits_count_characters() -> None:
    text = (
        "var http = require('http'); // café ☃\n"
        "var a = 'ü'; http.createServer().listen(1); http.createServer().listen(2);\n"
        "\n"
        "/* é */ require('net').createServer().listen(3);\n"
    )
    source = text.encode()
    _, edits = fix(source)
    lines = text.splitlines()
    expected = [
        (2, lines[1].index("(1)") + 2, "8080"),
        (2, lines[1].index("(2)") + 2, "8080"),
        (4, lines[3].index("(3)") + 2, "process.env.PORT_SERVER"),
    ]
    assert [(e.line, e.column, e.replacement) for e in edits] == expected
    assert expected[0][1] == 41


def test_many_listens_plan_quickly() -> None:
    source = b"x.listen(1);" * 20_000
    started = time.monotonic()
    fixed, edits = fix(source)
    assert time.monotonic() - started < 5
    assert len(edits) == 20_000
    assert edits[-1].column == len(source) - len(b"1);") + 1
    assert fixed == b"x.listen(8080);" * 20_000


def edit(start: int, end: int, replacement: str = "x") -> Edit:
    return Edit(Span(start, end), replacement, 1, start + 1, f"edit {start}-{end}")


def test_apply_edits_splices_in_any_order() -> None:
    assert apply_edits(b"abcdef", [edit(4, 5, "E"), edit(0, 1, "A"), edit(2, 2, "+")]) == (
        b"Ab+cdEf"
    )
    assert apply_edits(b"abc", []) == b"abc"


def test_apply_edits_collapses_duplicates() -> None:
    assert apply_edits(b"abc", [edit(1, 2, "B"), edit(1, 2, "B")]) == b"aBc"


@pytest.mark.parametrize(
    "edits",
    [
        [edit(0, 3), edit(2, 4)],
        [edit(0, 10), edit(2, 3), edit(5, 6)],
        [edit(1, 2, "a"), edit(1, 2, "b")],
        [edit(3, 3, "a"), edit(3, 3, "b")],
        [edit(0, 20)],
        [edit(3, 2)],
    ],
)
def test_apply_edits_rejects_overlaps_and_bad_spans(edits: list[Edit]) -> None:
    with pytest.raises(ValueError):
        apply_edits(b"0123456789", edits)
